import HeapModule
import TurboServeDomain

/// The queued jobs (not yet admitted), indexed for planning in time independent of their number: one bucket per
/// (tenant, step group), each with two heaps ordered by target — jobs that can still meet their deadline and jobs
/// that cannot (moved there once, when they reach the head late). A decision looks only at bucket heads; everything
/// it needs (target, deadline, work) travels in the item, so no job lookup is needed to rank a head.
///
/// Deletion is lazy: every insert gets a fresh ticket, and an item whose ticket is no longer live (the job was
/// admitted, cancelled or failed) is discarded when it reaches a head. A value type owned by the scheduler.
///
/// Times are offsets from the scheduler's epoch (not clock instants), so the type is concrete and its heaps and
/// items are never handled through generic metadata.
struct QueueBuckets {
    struct Item: Comparable {
        let target: Duration
        let deadline: Duration
        /// Late once `now + work` passes this (the deadline, or the target under the `tail` and `arrival` objectives).
        let lateAt: Duration
        /// How far a late item's urgency moves back.
        let yield: Duration
        /// Engine + output time the job needs from the queue (admit included): lateness is `now + work > lateAt`.
        let work: Duration
        let rank: Int
        let sequence: Int
        var ticket: Int
        let id: JobID
        static func < (a: Item, b: Item) -> Bool { (a.target, a.rank, a.sequence) < (b.target, b.rank, b.sequence) }
        static func == (a: Item, b: Item) -> Bool { a.ticket == b.ticket }
        func isLate(at now: Duration) -> Bool { now + work > lateAt }
        /// Whether it would miss its deadline even if it ran alone from `now`.
        func isMissed(at now: Duration) -> Bool { now + work > deadline }
        /// Urgency once late, before the fair-share lag: the target moved back by the item's yield.
        var lateUrgency: Duration { target + yield }
        /// Urgency (before the fair-share lag) as the head of the `kind` heap; a missed head moves back by
        /// `missedYield` as well (the decision's: zero unless overloaded).
        func urgency(_ kind: HeadKind, missedYield: Duration) -> Duration {
            switch kind {
            case .feasible: target
            case .late: lateUrgency
            case .missed: lateUrgency + missedYield
            }
        }
    }

    /// An item in a late heap: ordered by its urgency once late (target + yield), which differs from the target
    /// order when jobs yield by different amounts (the `tail` objective).
    struct LateItem: Comparable {
        let item: Item
        static func < (a: LateItem, b: LateItem) -> Bool {
            (a.item.lateUrgency, a.item.rank, a.item.sequence) < (b.item.lateUrgency, b.item.rank, b.item.sequence)
        }
        static func == (a: LateItem, b: LateItem) -> Bool { a.item == b.item }
    }

    /// Which of a bucket's heaps a head comes from.
    enum HeadKind: CaseIterable {
        /// Can still finish by its target.
        case feasible
        /// Past its target (past its deadline under `deadlines`).
        case late
        /// Past its deadline too, when the queue keeps such jobs apart (`separatesMissed`).
        case missed
    }

    /// Interned tenant and step-group numbers (see `TurboScheduler.intern`).
    struct Key: Hashable {
        let tenant: Int
        let group: Int
    }

    struct Bucket {
        var feasible = Heap<Item>()
        var late = Heap<LateItem>()
        var missed = Heap<LateItem>()
    }

    /// The waiting heads of one bucket after cleaning.
    struct Heads {
        subscript(kind: HeadKind) -> Item? {
            switch kind {
            case .feasible: feasible
            case .late: late
            case .missed: missed
            }
        }

        var feasible: Item?
        var late: Item?
        var missed: Item?
    }

    /// A bucket's waiting heads as plain numbers, cached until the bucket changes (`dirty`) or a head may change
    /// kind with time (`now > recheckAt`); `refresh` brings every summary up to date in one pass over the buckets.
    /// A decision reads only these for every bucket: they hold no job identifier (no reference counting) and are
    /// small, so the pass over thousands of buckets stays in cache. The items themselves are in `heads`.
    struct Summary {
        let key: Key
        /// The heads' urgency (`Item.urgency` without the decision's missed yield and the fair-share lag, which the
        /// decision adds) and deadline.
        private(set) var feasibleUrgency: (urgency: Duration, deadline: Duration)?
        private(set) var lateUrgency: (urgency: Duration, deadline: Duration)?
        private(set) var missedUrgency: (urgency: Duration, deadline: Duration)?
        /// When a head may next change kind with time alone (feasible → late, late → missed); nil: none can.
        var recheckAt: Duration?
        var dirty = true

        init(key: Key) { self.key = key }

        /// Describes `heads`, the bucket's heads after cleaning.
        mutating func describe(_ heads: Heads) {
            func numbers(_ kind: HeadKind) -> (urgency: Duration, deadline: Duration)? {
                heads[kind].map { ($0.urgency(kind, missedYield: .zero), $0.deadline) }
            }
            feasibleUrgency = numbers(.feasible)
            lateUrgency = numbers(.late)
            missedUrgency = numbers(.missed)
        }
    }

    /// Bucket `i` belongs to `summaries[i]` and `heads[i]`: buckets live in an array beside them (never removed;
    /// an emptied bucket is only empty), so a bucket is reached by index and mutated in place, without hashing its
    /// key or copying its heaps.
    private var buckets: [Bucket] = []
    /// The waiting heads of bucket `i` as of the last `refresh` that cleaned it (what `summaries[i]` describes).
    private(set) var heads: [Heads] = []
    /// Live (not yet forgotten) jobs of bucket `i`, whether in its heaps or popped by a plan being built.
    private var waiting: [Int] = []
    private(set) var summaries: [Summary] = []
    private var summaryIndex: [Key: Int] = [:]
    private var ticketKeys: [Int: Key] = [:]
    private var live: Set<Int> = []
    private var nextTicket = 0
    /// Whether late jobs past their deadline move to a heap of their own (`HeadKind.missed`): the `tail` objective's
    /// overload mode (`TurboSchedulerConfiguration.missedYield`). Set once, before the first insert.
    let separatesMissed: Bool

    init(separatesMissed: Bool = false) {
        self.separatesMissed = separatesMissed
    }

    /// Marks `key`'s summary for refreshing (creating the bucket on first use); returns its index.
    @discardableResult
    private mutating func touch(_ key: Key) -> Int {
        if let index = summaryIndex[key] {
            summaries[index].dirty = true
            return index
        }
        summaryIndex[key] = summaries.count
        summaries.append(Summary(key: key))
        heads.append(Heads())
        buckets.append(Bucket())
        waiting.append(0)
        return summaries.count - 1
    }

    /// Brings every summary up to date at `now` (cleaning the heads of changed or due buckets).
    mutating func refresh(now: Duration) {
        for index in summaries.indices {
            guard summaries[index].dirty || summaries[index].recheckAt.map({ now > $0 }) == true else { continue }
            let cleaned = heads(at: index, now: now)
            heads[index] = cleaned
            summaries[index].describe(cleaned)
            let turnsLate = cleaned.feasible.map { $0.lateAt - $0.work }
            let turnsMissed = separatesMissed ? cleaned.late.map { $0.deadline - $0.work } : nil
            summaries[index].recheckAt = [turnsLate, turnsMissed].compactMap { $0 }.min()
            summaries[index].dirty = false
        }
    }

    /// Queues `job` (its `ticket` is replaced by a fresh one); returns the ticket (the job's handle for `forget`).
    mutating func insert(_ job: Item, key: Key) -> Int {
        nextTicket += 1
        live.insert(nextTicket)
        var item = job
        item.ticket = nextTicket
        let index = touch(key)
        buckets[index].feasible.insert(item)
        waiting[index] += 1
        ticketKeys[nextTicket] = key
        return nextTicket
    }

    /// The job behind `ticket` no longer waits (admitted, cancelled, failed); its item is dropped lazily.
    mutating func forget(_ ticket: Int) {
        guard live.remove(ticket) != nil, let key = ticketKeys.removeValue(forKey: ticket) else { return }
        waiting[touch(key)] -= 1
    }

    /// Jobs still waiting in the buckets of step group `group` (all tenants), counting any a plan has popped.
    func waitingCount(group: Int) -> Int {
        summaries.indices.reduce(0) { $0 + (summaries[$1].key.group == group ? waiting[$1] : 0) }
    }

    /// The step groups with at least one job still waiting (counting any a plan has popped).
    var waitingGroups: Set<Int> {
        Set(summaries.indices.lazy.filter { self.waiting[$0] > 0 }.map { self.summaries[$0].key.group })
    }

    /// Discards dead heads, moves late heads to the late heap, and returns the waiting heads.
    mutating func heads(_ key: Key, now: Duration) -> Heads {
        guard let index = summaryIndex[key] else { return Heads() }
        return heads(at: index, now: now)
    }

    private mutating func heads(at index: Int, now: Duration) -> Heads {
        let live = self.live
        while let head = buckets[index].feasible.min {
            if !live.contains(head.ticket) {
                _ = buckets[index].feasible.removeMin()
            } else if head.isLate(at: now) {
                buckets[index].late.insert(LateItem(item: buckets[index].feasible.removeMin()))
            } else {
                break
            }
        }
        while let head = buckets[index].late.min {
            if !live.contains(head.item.ticket) {
                _ = buckets[index].late.removeMin()
            } else if separatesMissed, head.item.isMissed(at: now) {
                buckets[index].missed.insert(LateItem(item: buckets[index].late.removeMin().item))
            } else {
                break
            }
        }
        while let head = buckets[index].missed.min, !live.contains(head.item.ticket) { _ = buckets[index].missed.removeMin() }
        return Heads(feasible: buckets[index].feasible.min, late: buckets[index].late.min?.item, missed: buckets[index].missed.min?.item)
    }

    /// Removes the head `item` (as returned by `heads`) from its bucket. It stays live until `forget`.
    mutating func pop(_ item: Item, from key: Key) {
        let index = touch(key)
        if buckets[index].feasible.min?.ticket == item.ticket {
            _ = buckets[index].feasible.removeMin()
        } else if buckets[index].late.min?.item.ticket == item.ticket {
            _ = buckets[index].late.removeMin()
        } else if buckets[index].missed.min?.item.ticket == item.ticket {
            _ = buckets[index].missed.removeMin()
        }
    }

    /// Puts back an item `pop` removed (into the feasible heap; lateness is re-checked at the head).
    mutating func putBack(_ item: Item, key: Key) {
        buckets[touch(key)].feasible.insert(item)
    }
}
