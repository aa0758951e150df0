import Foundation

/// A typed client of one engine process: request ids, in-order reply correlation, a reply timeout, and failures
/// that carry the engine's stderr tail when the process died.
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
    private let timeout: Duration
    private var nextID: UInt64 = 0
    private var pending: [UInt64: CheckedContinuation<[UInt8], any Error>] = [:]
    private var exited: EngineError?
    private var reader: Task<Void, Never>?

    public init(process: EngineProcess, timeout: Duration = .seconds(600)) {
        self.process = process
        self.timeout = timeout
    }

    /// Starts the engine and reads replies until it exits.
    public static func launch(_ launch: EngineProcess.Launch, timeout: Duration = .seconds(600)) async throws -> EngineClient {
        let client = EngineClient(process: try EngineProcess(launch), timeout: timeout)
        await client.startReading()
        return client
    }

    public nonisolated var pid: Int32 { process.pid }
    public nonisolated var stderrTail: String { process.stderr }

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
        exited = error
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
        let timeout = self.timeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(id, op: op)
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
            throw EngineError(code: body?.code ?? "bad_reply", message: body?.message ?? "the engine replied without a result", retryable: body?.retryable ?? false, jobs: body?.jobs)
        }
        return Timed(result: result, computeTime: compute)
    }

    private func expire(_ id: UInt64, op: String) {
        guard let continuation = pending.removeValue(forKey: id) else { return }
        continuation.resume(throwing: EngineError(code: "engine_timeout", message: "no reply to \(op) within \(timeout)", retryable: true, stderrTail: process.stderr))
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

    /// Asks the engine to exit, then tears the process down (SIGTERM, then SIGKILL if needed).
    public func shutdown() async {
        if exited == nil { _ = try? await call("shutdown", EngineMessages.Empty(), as: EngineMessages.Empty.self) }
        await process.terminate()
        reader?.cancel()
    }

    /// Kills the process at once (fault tests).
    public nonisolated func kill() { process.kill() }
}
