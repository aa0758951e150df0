/// Polls `condition` every 20 ms until it holds or `limit` has passed; returns whether it held. For waiting on
/// observable state another process or task changes (a listener connected, a process gone, a line on stderr) —
/// never as a fixed sleep standing in for synchronisation.
///
/// The limit counts the time this wait could run: a poll that comes back late because every thread of the test
/// process was busy (two CPU-bound suites on a 2-core machine hold the whole cooperative pool) is charged at most
/// 250 ms, since the task being waited on was starved just as long. A wall-clock cap of 6 × `limit` still ends every
/// wait.
public func eventually(within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let poll = Duration.milliseconds(20), mostChargedPerPoll = Duration.milliseconds(250)
    let wallClockCap = clock.now + limit * 6
    var charged = Duration.zero
    var last = clock.now
    while charged < limit && clock.now < wallClockCap {
        if try await condition() { return true }
        try? await Task.sleep(for: poll)
        let now = clock.now
        charged += min(now - last, mostChargedPerPoll)
        last = now
    }
    return try await condition()
}
