import SchedulingCore
import TurboServeDomain

extension BaselinePolicy {
    /// Applies a finished plan: residency changes, job state changes (returned as events), batch progress.
    /// A failed plan fails the jobs it names (or all members of the running batch) and drops the batch.
    public mutating func planFinished(_ id: PlanID, outcome: PlanOutcome) -> [JobEvent<C.Instant>] {
        guard let plan = outstanding, plan.id == id else { return [] }
        outstanding = nil
        let now = clock.now
        if case let .failed(code, message, _, jobs) = outcome {
            return fail(jobs ?? plan.action.jobs, code: code, message: message)
        }
        var events: [JobEvent<C.Instant>] = []
        func move(_ job: JobID, _ state: JobState) {
            if let event = book.move(job, to: state, at: now) { events.append(event) }
        }
        switch plan.action {
        case let .load(key):
            residency.loaded(key, at: now)
        case let .unload(key):
            residency.unloaded(key)
        case .onEnginePath(.parse, _):
            batch?.markParsed()
        case let .admit(jobs, _):
            batch?.markAdmitted()
            for job in jobs where book.state(of: job) == .queued { move(job, .admitted) }
        case let .step(expert, steps):
            residency.touch(expert, at: now)
            for step in steps where batch?.contains(step.job) == true {
                move(step.job, .denoising(completed: step.index + 1, total: step.total))
                _ = batch?.markStepped(step.job)
            }
        case let .decode(jobs):
            batch?.markDecoded(jobs)
            for job in jobs where book.state(of: job)?.phase == .denoising {
                move(job, .decoding)
                move(job, .muxing)
                if options.muxOnEnginePath { muxOnPath.append(job) }
            }
            if batch?.isEmpty == true { batch = nil }
        case let .onEnginePath(.mux, jobs):
            muxOnPath.removeAll { jobs.contains($0) }
            for job in jobs where book.state(of: job) == .muxing { move(job, .succeeded) }
        case let .release(jobs):
            let unrunnable = jobs.filter { failing.contains($0) }
            failing.subtract(unrunnable)
            events += fail(unrunnable, code: .engineOutOfMemory, message: "the job does not fit in device memory")
        }
        return events
    }

    private mutating func fail(_ jobs: [JobID], code: TurboServeError.Code, message: String) -> [JobEvent<C.Instant>] {
        var events: [JobEvent<C.Instant>] = []
        for job in jobs {
            guard let state = book.state(of: job) else { continue }
            if var running = batch, running.contains(job) {
                running.remove(job)
                batch = running.isEmpty ? nil : running
                if [.admitted, .denoising, .decoding].contains(state.phase) { releases.append(job) }
            }
            queue.removeAll { $0.id == job }
            muxOnPath.removeAll { $0 == job }
            if let event = book.move(job, to: .failed, at: clock.now, reason: .init(code: code, message: message)) {
                events.append(event)
            }
        }
        return events
    }
}
