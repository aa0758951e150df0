import EngineBridge
import Foundation
import Logging
import ServiceLifecycle

/// The worker as a `Service` in the server's `ServiceGroup`: starts its engine (handshake, tiny models, warm-up;
/// one engine at a time through `startupGate` when a node runs several), flags readiness, runs the worker loop, and on graceful shutdown lets the current plan finish before stopping
/// the worker and tearing the engine down (SIGTERM, then SIGKILL).
public struct WorkerService<Policy: SchedulingPolicy>: Service where Policy.C == ContinuousClock {
    let makeWorker: @Sendable (any PlanExecuting, EngineMessages.Hello) -> Worker<Policy>
    let locator: EngineLocator
    let workDirectory: String
    let device: String
    let threads: Int?
    let readiness: Readiness
    let logger: Logger
    let onWorker: @Sendable (Worker<Policy>) -> Void
    let startupGate: StartupGate
    /// Each engine call's deadline (`engines.call_timeout_seconds`); a hung engine is killed and restarted.
    let callTimeout: Duration

    public init(locator: EngineLocator, workDirectory: String, device: String, threads: Int?, readiness: Readiness, logger: Logger, startupGate: StartupGate = StartupGate(), callTimeout: Duration = .seconds(600), onWorker: @escaping @Sendable (Worker<Policy>) -> Void, makeWorker: @escaping @Sendable (any PlanExecuting, EngineMessages.Hello) -> Worker<Policy>) {
        self.startupGate = startupGate
        self.callTimeout = callTimeout
        self.locator = locator
        self.workDirectory = workDirectory
        self.device = device
        self.threads = threads
        self.readiness = readiness
        self.logger = logger
        self.onWorker = onWorker
        self.makeWorker = makeWorker
    }

    public func run() async throws {
        let (locator, work, device, threads, callTimeout) = (self.locator, workDirectory, self.device, self.threads, self.callTimeout)
        let (client, hello) = try await startupGate.withTurn {
            try locator.prepare()
            return try await locator.start(workDirectory: work, device: device, threads: threads, callTimeout: callTimeout)
        }
        logger.info("engine ready", metadata: ["device": "\(hello.device)", "pid": "\(hello.pid)", "models": "\(hello.models.map(\.id))"])
        let executor = EnginePlanExecutor(client: client, relaunch: {
            let (fresh, _) = try await locator.start(workDirectory: work, device: device, threads: threads, callTimeout: callTimeout)
            return fresh
        })
        let worker = makeWorker(executor, hello)
        onWorker(worker)
        readiness.set(true)
        try await withGracefulShutdownHandler {
            try await worker.run()
        } onGracefulShutdown: {
            Task { await worker.stop() }
        }
        readiness.set(false)
        await client.shutdown()
    }
}

/// A thread-safe flag for `/readyz`.
public final class Readiness: Sendable {
    private let value = Mutex(false)
    public init() {}
    public func set(_ ready: Bool) { value.withLock { $0 = ready } }
    public var isReady: Bool { value.withLock { $0 } }
}

import SchedulingCore
import Synchronization
