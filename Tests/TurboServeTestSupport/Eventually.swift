/// Polls `condition` every 20 ms until it holds or `limit` has passed; returns whether it held. For waiting on
/// observable state another process or task changes (a listener connected, a process gone, a line on stderr) —
/// never as a fixed sleep standing in for synchronisation.
public func eventually(within limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
