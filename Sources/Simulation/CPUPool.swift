import SchedulingCore
import TurboServeDomain

/// A CPU stage with a fixed number of workers and a FIFO wait line (the gateway's parsing, the output pipeline's
/// MP4 encoding + storage). The simulator owns it: `enqueue` returns the finish time when a worker is free at
/// once, and `finish` hands the freed worker to the next waiting job and returns its finish time.
struct CPUPool {
    let workers: Int
    private(set) var busy = 0
    private var waiting: [(job: JobID, seconds: Double)] = []
    private var head = 0
    /// Seconds of CPU work done (for the shares table).
    private(set) var workSeconds = 0.0

    init(workers: Int) {
        precondition(workers > 0, "a CPU pool needs at least one worker")
        self.workers = workers
    }

    /// Starts `job` now if a worker is free (returns its duration), else queues it (returns nil).
    mutating func enqueue(_ job: JobID, seconds: Double) -> Double? {
        if busy < workers {
            busy += 1
            workSeconds += seconds
            return seconds
        }
        waiting.append((job, seconds))
        return nil
    }

    /// A worker finished; returns the next job it starts and its duration, if any is waiting.
    mutating func finish() -> (job: JobID, seconds: Double)? {
        busy -= 1
        guard head < waiting.count else { return nil }
        let next = waiting[head]
        head += 1
        if head > 64, head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        busy += 1
        workSeconds += next.seconds
        return next
    }
}
