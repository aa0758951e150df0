import Foundation
import JobStore
import TurboServeDomain

/// `GET /v1/operations`: what the person running the GPU wants on one screen — queue depth by class, the unfinished
/// jobs in (estimated) service order with their queue position and ETA, what each worker of the fleet is doing
/// (running batch, resident models, busy ratio, recent plan intervals, last heartbeat) and the most recent failures.
///
/// Built by a pure function from store records and the workers' heartbeats (each carries its `EngineActivity`), so
/// it is tested without a server and shows every worker of a fleet, whichever replica answers. It spans
/// every tenant, so only operators may read it (`APIKeys.checkOperator`); failure messages pass through
/// `PathRedaction`, so it names no server file.
/// Estimates: service order is running jobs first (by start), then queued jobs by priority class and age; a job's
/// ETA is the remaining work of the jobs before it plus its own, at the mean run time of recently succeeded jobs
/// (serial service); no ETA until one job of the window has succeeded.
struct OperationsReport: Encodable, Sendable {
    struct QueuedJob: Encodable, Sendable {
        let id: String
        let model: String
        let priority: String
        let status: String
        let stage: String
        let progress: Int
        let createdAt: Int
        /// 0 while running; else 1 + the number of jobs ahead of it.
        let queuePosition: Int
        let etaSeconds: Double?
        /// The first 120 characters of the prompt, so an operator can tell the rows apart.
        let prompt: String
    }

    struct Failure: Encodable, Sendable {
        let id: String
        let model: String
        let code: String
        let message: String
        let completedAt: Int?
    }

    /// One worker as its last heartbeat reported it: the activity's fields plus `last_heartbeat_at` (Unix seconds).
    struct Worker: Encodable, Sendable {
        let activity: EngineActivity
        let lastHeartbeatAt: Double

        enum CodingKeys: String, CodingKey { case lastHeartbeatAt }

        func encode(to encoder: any Encoder) throws {
            try activity.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lastHeartbeatAt, forKey: .lastHeartbeatAt)
        }
    }

    /// Workers silent for longer than this are left out (gone; their jobs are rescued by lease expiry).
    static let forgetWorkersAfter: TimeInterval = 600

    let object = "operations"
    let generatedAt: Double
    let queueDepth: [String: Int]
    let unfinished: [QueuedJob]
    let meanRunSeconds: Double?
    let workers: [Worker]
    let recentFailures: [Failure]
    /// How many of the newest records the job lists were computed from.
    let window: Int

    /// `records` are the newest jobs (any order); `queueDepth` counts the whole store.
    /// `workers` are the heartbeats the store holds (any order); those with an activity and heard from within
    /// `forgetWorkersAfter` are shown, by worker id.
    init(records: [JobRecord], queueDepth: [PriorityClass: Int], workers: [WorkerHeartbeat], now: Date, maxFailures: Int = 10) {
        generatedAt = now.timeIntervalSince1970
        self.queueDepth = Dictionary(uniqueKeysWithValues: PriorityClass.allCases.map { ($0.rawValue, queueDepth[$0] ?? 0) })
        self.workers = workers
            .filter { now.timeIntervalSince($0.at) <= Self.forgetWorkersAfter }
            .sorted { $0.worker < $1.worker }
            .compactMap { beat in beat.activity.map { Worker(activity: $0, lastHeartbeatAt: beat.at.timeIntervalSince1970) } }
        window = records.count

        let recentRuns = records.filter { $0.phase == .succeeded }.sorted { $0.sequence > $1.sequence }.prefix(20)
            .compactMap { record in record.startedAt.flatMap { start in record.completedAt.map { $0.timeIntervalSince(start) } } }
        let mean = recentRuns.isEmpty ? nil : recentRuns.reduce(0, +) / Double(recentRuns.count)
        meanRunSeconds = mean

        let running = records.filter { !$0.phase.isTerminal && $0.phase != .queued }
            .sorted { ($0.startedAt ?? $0.createdAt, $0.sequence) < ($1.startedAt ?? $1.createdAt, $1.sequence) }
        let waiting = records.filter { $0.phase == .queued }
            .sorted { ($0.spec.priority.rank, $0.sequence) < ($1.spec.priority.rank, $1.sequence) }
        var ahead = 0.0
        var position = 0
        unfinished = (running + waiting).map { record in
            let progress = VideoObject.progress(record)
            let isQueued = record.phase == .queued
            if isQueued { position += 1 }
            let remaining = mean.map { $0 * (1 - Double(progress) / 100) }
            let eta = remaining.map { ahead + $0 }
            ahead += remaining ?? 0
            return QueuedJob(
                id: record.id.rawValue, model: record.spec.model, priority: record.spec.priority.rawValue,
                status: record.phase.apiStatus, stage: record.phase.rawValue, progress: progress,
                createdAt: Int(record.createdAt.timeIntervalSince1970), queuePosition: isQueued ? position : 0, etaSeconds: eta,
                prompt: String(record.spec.prompt.prefix(120)))
        }

        recentFailures = records.filter { $0.phase == .failed }
            .sorted { ($0.completedAt ?? $0.updatedAt, $0.sequence) > ($1.completedAt ?? $1.updatedAt, $1.sequence) }
            .prefix(maxFailures)
            .map { Failure(id: $0.id.rawValue, model: $0.spec.model, code: $0.errorCode ?? "failed", message: PathRedaction.redact($0.errorMessage ?? "the job failed"), completedAt: $0.completedAt.map { Int($0.timeIntervalSince1970) }) }
    }
}
