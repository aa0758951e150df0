import SchedulingCore
import TurboServeDomain

/// One batch of a baseline, run from start to finish as a unit: (parse on the engine path) → admit together →
/// denoise steps (all members whose next step uses the same expert share each call; a member whose steps are done
/// leaves for decode) → decode. Nobody joins once the batch has started: that is what separates these baselines
/// from step-level continuous batching.
struct StaticBatch {
    enum Next: Equatable {
        case parse([JobID])
        /// Admit the members; `expert` (their first step's) should be resident first.
        case admit([JobID], expert: ModelKey)
        case step(expert: ModelKey, [JobStep])
        case decode([JobID])
        case finished
    }

    let shape: ShapeKey
    private(set) var members: [JobID]
    private let experts: [JobID: [Expert]]
    private(set) var completed: [JobID: Int]
    private(set) var parsed: Bool
    private(set) var admitted = false
    private(set) var toDecode: [JobID] = []

    init(jobs: [(id: JobID, spec: ValidatedJob)], needsParse: Bool) {
        precondition(!jobs.isEmpty, "a batch has at least one job")
        shape = jobs[0].spec.shapeKey
        members = jobs.map(\.id)
        experts = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0.spec.expertPlan) })
        completed = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, 0) })
        parsed = !needsParse
    }

    func contains(_ id: JobID) -> Bool { members.contains(id) }
    var model: String { shape.model }

    /// Members holding engine state (admitted, not yet decoded).
    var holdingState: [JobID] { admitted ? members : [] }

    func next() -> Next {
        if !parsed { return .parse(members) }
        if !admitted {
            return .admit(members, expert: ModelKey(model: model, expert: experts[members[0]]![0]))
        }
        if !toDecode.isEmpty { return .decode(toDecode) }
        let active = members.filter { completed[$0]! < experts[$0]!.count }
        guard let lead = active.first else { return .finished }
        let expert = experts[lead]![completed[lead]!]
        let steps = active.filter { experts[$0]![completed[$0]!] == expert }.map {
            JobStep(job: $0, index: completed[$0]!, total: experts[$0]!.count)
        }
        return .step(expert: ModelKey(model: model, expert: expert), steps)
    }

    /// The expert the batch needs next, if any (protected from eviction).
    var neededExpert: ModelKey? {
        switch next() {
        case let .admit(_, expert), let .step(expert, _): expert
        default: nil
        }
    }

    mutating func markParsed() { parsed = true }
    mutating func markAdmitted() { admitted = true }

    /// Records a finished step; returns whether the job's denoising is complete.
    mutating func markStepped(_ id: JobID) -> Bool {
        guard let done = completed[id], let plan = experts[id] else { return false }
        completed[id] = done + 1
        if done + 1 == plan.count {
            toDecode.append(id)
            return true
        }
        return false
    }

    mutating func markDecoded(_ ids: [JobID]) {
        let set = Set(ids)
        toDecode.removeAll { set.contains($0) }
        members.removeAll { set.contains($0) }
    }

    /// Drops a member (cancelled or failed).
    mutating func remove(_ id: JobID) {
        members.removeAll { $0 == id }
        toDecode.removeAll { $0 == id }
    }

    var isEmpty: Bool { members.isEmpty }
}
