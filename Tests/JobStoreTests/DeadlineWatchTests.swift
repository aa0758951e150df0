import Synchronization
import Testing
import TurboServeTestSupport
@testable import JobStorePostgres

/// The store's call deadlines: one ticking watch fires each due deadline once, never one withdrawn in time, and
/// stops ticking when nothing is watched; `answer(within:)` answers on time even when the work ignores
/// cancellation, and answers with the work's outcome when it comes first (its deadline then withdrawn, `OneAnswer.onAnswer`).
struct DeadlineWatchTests {
    /// What a watched action saw.
    final class Fired: Sendable {
        let count = Mutex(0)
        func fire() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    @Test func aDueDeadlineFiresOnceAndTheTickerStops() async {
        let watch = DeadlineWatch(tick: .milliseconds(5))
        let fired = Fired()
        _ = watch.watch(until: .now) { fired.fire() }
        #expect(await eventually { fired.value == 1 })
        #expect(await eventually { !watch.isTicking })
        #expect(fired.value == 1 && watch.count == 0)
    }

    @Test func aWithdrawnDeadlineNeverFiresWhileADueOneDoes() async {
        let watch = DeadlineWatch(tick: .milliseconds(5))
        let withdrawn = Fired(), due = Fired()
        let handle = watch.watch(until: .now + .milliseconds(20)) { withdrawn.fire() }
        watch.unwatch(handle)
        _ = watch.watch(until: .now + .milliseconds(40)) { due.fire() }
        #expect(await eventually { due.value == 1 })
        #expect(withdrawn.value == 0)
    }

    @Test func aCallIsAnsweredAtItsDeadlineEvenIfTheWorkIgnoresCancellation() async {
        struct Late: Error {}
        let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let outcome = await answer(within: .milliseconds(30), orElse: { Late() }) {
            // Work that cannot be cancelled: it waits until the test lets it go.
            await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
            return 1
        }
        #expect(throws: Late.self) { try outcome.get() }
        #expect(await eventually { release.withLock { $0 != nil } })
        release.withLock { $0?.resume() }
    }

    @Test func workThatFinishesFirstIsTheAnswerAndItsDeadlineIsWithdrawn() async throws {
        struct Late: Error {}
        let outcome = await answer(within: .seconds(60), orElse: { Late() }) { 42 }
        #expect(try outcome.get() == 42)
    }
}
