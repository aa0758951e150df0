import Foundation

/// A typed client of one engine process: request ids, in-order reply correlation, a per-call deadline, and failures
/// that carry the engine's stderr tail when the process died.
///
/// Deadline: every call must be answered within `timeout` (`load`, `warmup` and `ensure_tiny` within
/// `slowCallFactor` × `timeout`). A call that is not means the engine hangs (deadlocked, or stopped by SIGSTOP): the
/// client kills the process with SIGKILL (which ends a stopped process too), fails that call and every other pending
/// one with `engine_timeout` (retryable, mapped like `engine_exited` to `engine_crashed`), and from then on
/// `hasExited` is true and every call fails at once, so the owner starts a fresh engine.
///
/// Thread-safety: an actor. Calls may come from several tasks; the engine answers in order, and each reply is
/// matched to its request by id. Lifetime: the client owns its `EngineProcess`; `shutdown()` ends both, and a
/// crash fails every pending call with `engine_exited`.
public actor EngineClient {
    public struct Timed<Result: Sendable>: Sendable {
        public let result: Result
        /// Engine-side compute time of the call.
        public let computeTime: Duration
    }

    private let process: EngineProcess
    /// The deadline of one call.
    public nonisolated let timeout: Duration
    /// How many deadlines the slow verbs (`load`, `warmup`, `ensure_tiny`) get.
    public nonisolated let slowCallFactor: Int
    static let slowVerbs: Set<String> = ["load", "warmup", "ensure_tiny"]
    private var nextID: UInt64 = 0
    private var pending: [UInt64: CheckedContinuation<[UInt8], any Error>] = [:]
    private var exited: EngineError?
    private var reader: Task<Void, Never>?

    public init(process: EngineProcess, timeout: Duration = .seconds(600), slowCallFactor: Int = 4) {
        self.process = process
        self.timeout = timeout
        self.slowCallFactor = max(1, slowCallFactor)
    }

    /// Starts the engine and reads replies until it exits.
    public static func launch(_ launch: EngineProcess.Launch, timeout: Duration = .seconds(600), slowCallFactor: Int = 4) async throws -> EngineClient {
        let client = EngineClient(process: try EngineProcess(launch), timeout: timeout, slowCallFactor: slowCallFactor)
        await client.startReading()
        return client
    }

    public nonisolated var pid: Int32 { process.pid }
    public nonisolated var stderrTail: String { process.stderr }
    /// Whether the engine process is still alive (false soon after a crash, a kill or a deadline kill).
    public nonisolated var isRunning: Bool { process.isRunning }

    /// The deadline of one call of `op`.
    public nonisolated func deadline(of op: String) -> Duration {
        Self.slowVerbs.contains(op) ? timeout * slowCallFactor : timeout
    }

    private func startReading() {
        let lines = process.lines()
        reader = Task { [weak self] in
            do {
                for try await line in lines { await self?.deliver(line) }
            } catch {}
            await self?.engineExited()
        }
    }

    private func deliver(_ line: [UInt8]) {
        guard let header = try? EngineMessages.decoder.decode(EngineMessages.ReplyHeader.self, from: Data(line)), let id = header.id,
              let continuation = pending.removeValue(forKey: id) else { return }
        continuation.resume(returning: line)
    }

    private func engineExited() async {
        // Give stderr a moment to drain so the tail has the traceback.
        try? await Task.sleep(for: .milliseconds(50))
        let error = EngineError(code: "engine_exited", message: "the engine process exited", retryable: true, stderrTail: process.stderr)
        if exited == nil { exited = error }
        for continuation in pending.values { continuation.resume(throwing: error) }
        pending.removeAll()
    }

    public var hasExited: Bool { exited != nil }

    /// Sends one request and decodes its result.
    public func call<Args: Encodable & Sendable, Result: Decodable & Sendable>(_ op: String, _ args: Args, as: Result.Type = Result.self) async throws -> Timed<Result> {
        if let exited { throw exited }
        nextID += 1
        let id = nextID
        var line = try EngineMessages.encoder.encode(EngineMessages.Request(id: id, op: op, args: args))
        line.append(0x0A)
        let timeout = deadline(of: op)
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(id, op: op, after: timeout)
        }
        defer { timer.cancel() }
        let bytes: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            pending[id] = continuation
            do { try process.send(Array(line)) } catch {
                pending[id] = nil
                continuation.resume(throwing: EngineError(code: "engine_exited", message: "cannot write to the engine: \(error)", retryable: true, stderrTail: process.stderr))
            }
        }
        let reply: EngineMessages.Reply<Result>
        do { reply = try EngineMessages.decoder.decode(EngineMessages.Reply<Result>.self, from: Data(bytes)) } catch {
            throw EngineError(code: "bad_reply", message: "could not decode the reply to \(op): \(error)")
        }
        let compute = Duration.microseconds(Int64((reply.computeMs ?? 0) * 1000))
        guard reply.ok, let result = reply.result else {
            let body = reply.error
            throw EngineError(code: body?.code ?? "bad_reply", message: body?.message ?? "the engine replied without a result", retryable: body?.retryable ?? false, jobs: body?.jobs, problems: body?.problems)
        }
        return Timed(result: result, computeTime: compute)
    }

    /// The deadline of call `id` passed: the engine hangs. Kill it and fail everything pending (see the type's doc).
    private func expire(_ id: UInt64, op: String, after deadline: Duration) {
        guard let continuation = pending.removeValue(forKey: id) else { return }
        process.kill()
        let error = EngineError(code: "engine_timeout", message: "no reply to \(op) within its deadline of \(deadline) (engines.call_timeout_seconds): the engine hangs, so it was killed (SIGKILL) and will be started again", retryable: true, stderrTail: process.stderr)
        if exited == nil { exited = error }
        continuation.resume(throwing: error)
        for other in pending.values { other.resume(throwing: error) }
        pending.removeAll()
    }

    // MARK: - Verbs

    public func hello() async throws -> Timed<EngineMessages.Hello> {
        struct Args: Encodable, Sendable { let `protocol`: Int }
        let reply = try await call("hello", Args(protocol: EngineMessages.protocolVersion), as: EngineMessages.Hello.self)
        guard reply.result.protocol == EngineMessages.protocolVersion else {
            throw EngineError(code: "protocol_mismatch", message: "engine speaks protocol \(reply.result.protocol), expected \(EngineMessages.protocolVersion)")
        }
        return reply
    }

    public func ensureTiny() async throws -> Timed<EngineMessages.EnsureTiny> {
        try await call("ensure_tiny", EngineMessages.Empty())
    }

    public func load(model: String, expert: String) async throws -> Timed<EngineMessages.Residency> {
        try await call("load", EngineMessages.ModelExpert(model: model, expert: expert))
    }

    public func unload(model: String, expert: String) async throws -> Timed<EngineMessages.Residency> {
        try await call("unload", EngineMessages.ModelExpert(model: model, expert: expert))
    }

    public func admit(_ jobs: [EngineMessages.AdmitJob]) async throws -> Timed<EngineMessages.Admitted> {
        struct Args: Encodable, Sendable { let jobs: [EngineMessages.AdmitJob] }
        return try await call("admit", Args(jobs: jobs))
    }

    public func step(model: String, expert: String, jobs: [EngineMessages.StepEntry]) async throws -> Timed<EngineMessages.Stepped> {
        struct Args: Encodable, Sendable { let model: String; let expert: String; let jobs: [EngineMessages.StepEntry] }
        return try await call("step", Args(model: model, expert: expert, jobs: jobs))
    }

    public func decode(_ jobs: [String]) async throws -> Timed<EngineMessages.Decoded> {
        struct Args: Encodable, Sendable { let jobs: [String] }
        return try await call("decode", Args(jobs: jobs))
    }

    public func release(_ jobs: [String]) async throws -> Timed<EngineMessages.Released> {
        struct Args: Encodable, Sendable { let jobs: [String] }
        return try await call("release", Args(jobs: jobs))
    }

    /// Memory, residency, admitted jobs and GPU telemetry (`gpuTelemetry`).
    public func stats() async throws -> Timed<EngineMessages.Stats> {
        try await call("stats", EngineMessages.Empty())
    }

    /// Asks the engine to exit, then tears the process down (SIGTERM, then SIGKILL if needed).
    public func shutdown() async {
        if exited == nil { _ = try? await call("shutdown", EngineMessages.Empty(), as: EngineMessages.Empty.self) }
        await process.terminate()
        reader?.cancel()
    }

    /// Kills the process at once (fault tests).
    public nonisolated func kill() { process.kill() }
}
