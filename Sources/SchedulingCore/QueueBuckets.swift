import HeapModule
import TurboServeDomain

/// The queued jobs (not yet admitted), indexed for planning in time independent of their number: one bucket per
/// (tenant, step group), each with two heaps ordered by deadline — jobs that can still meet their deadline and
/// jobs that cannot (moved there once, when they reach the head late). A decision looks only at bucket heads.
///
/// Deletion is lazy: a cancelled or admitted job stays in its heap until it reaches a head, where the owner's
/// `isWaiting` check discards it. A value type owned by the scheduler.
struct QueueBuckets<Instant: Comparable & Sendable & Hashable> {
    struct Item: Comparable {
        let deadline: Instant
        let rank: Int
        let sequence: Int
        let id: JobID
        static func < (a: Item, b: Item) -> Bool {
            (a.deadline, a.rank, a.sequence) < (b.deadline, b.rank, b.sequence)
        }
        static func == (a: Item, b: Item) -> Bool { a.sequence == b.sequence }
    }

    struct Key: Hashable {
        let tenant: TenantID
        let group: StepGroup
    }

    struct Bucket {
        var feasible = Heap<Item>()
        var late = Heap<Item>()
        var isEmpty: Bool { feasible.isEmpty && late.isEmpty }
    }

    private(set) var buckets: [Key: Bucket] = [:]

    mutating func insert(_ item: Item, tenant: TenantID, group: StepGroup) {
        buckets[Key(tenant: tenant, group: group), default: Bucket()].feasible.insert(item)
    }

    /// Mutates one bucket in place: it is moved out of the dictionary first, so its heaps are uniquely referenced
    /// and never copied (copy-on-write would make every decision O(queue length)). Empty buckets are dropped.
    private mutating func withBucket<R>(_ key: Key, _ body: (inout Bucket) -> R) -> R? {
        guard var bucket = buckets.removeValue(forKey: key) else { return nil }
        let result = body(&bucket)
        if !bucket.isEmpty { buckets[key] = bucket }
        return result
    }

    /// Discards heads that are no longer waiting, moves late heads to the late heap, and returns the heads:
    /// `feasible` (earliest deadline among jobs that can still make it) and `late`.
    mutating func heads(_ key: Key, isWaiting: (JobID) -> Bool, isLate: (JobID) -> Bool) -> (feasible: Item?, late: Item?) {
        withBucket(key) { bucket in
        while let head = bucket.feasible.min {
            if !isWaiting(head.id) {
                _ = bucket.feasible.removeMin()
            } else if isLate(head.id) {
                bucket.late.insert(bucket.feasible.removeMin())
            } else {
                break
            }
        }
        while let head = bucket.late.min, !isWaiting(head.id) { _ = bucket.late.removeMin() }
        return (bucket.feasible.min, bucket.late.min)
        } ?? (nil, nil)
    }

    /// Removes and returns up to `limit` waiting items of the bucket, feasible ones first (each heap in order).
    mutating func take(_ key: Key, limit: Int, isWaiting: (JobID) -> Bool) -> [Item] {
        guard limit > 0 else { return [] }
        return withBucket(key) { bucket in
        var taken: [Item] = []
        while taken.count < limit, let item = bucket.feasible.popMin() {
            if isWaiting(item.id) { taken.append(item) }
        }
        while taken.count < limit, let item = bucket.late.popMin() {
            if isWaiting(item.id) { taken.append(item) }
        }
        return taken
        } ?? []
    }

    /// Puts back items `take` returned that were not used (into the feasible heap; lateness is re-checked at the head).
    mutating func putBack(_ items: [Item], key: Key) {
        for item in items { buckets[key, default: Bucket()].feasible.insert(item) }
    }

    var keys: Dictionary<Key, Bucket>.Keys { buckets.keys }
}
