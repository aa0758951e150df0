import Testing
import TurboServeDomain
@testable import WorkerRuntime

/// The busy-timeline ring buffer keeps the newest `capacity` intervals, oldest first.
struct PlanTimelineTests {
    func interval(_ n: Int) -> EngineActivity.Interval {
        .init(stage: "step", startedAt: Double(n), seconds: 0.1, jobs: 1, ok: true)
    }

    @Test func keepsTheNewestIntervalsInOrder() {
        var timeline = PlanTimeline(capacity: 3)
        #expect(timeline.intervals.isEmpty)
        timeline.append(interval(1))
        timeline.append(interval(2))
        #expect(timeline.intervals.map(\.startedAt) == [1, 2])
        for n in 3...7 { timeline.append(interval(n)) }
        #expect(timeline.intervals.map(\.startedAt) == [5, 6, 7])
    }
}
