import EngineBridge
import Foundation
import Testing
import TurboServeTestSupport
import TurboServeDomain

/// The client against stand-in engines: replies in order, coded errors, timeouts, teardown escalation, crashes.
struct EngineClientFakeTests {
    /// The stand-in engine's script and work folder.
    let scratch: ScratchFolder
    init() throws { scratch = try ScratchFolder("turboserve-fake-engine") }

    static let echo = """
    import json, sys
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "boom":
            reply = {"id": request["id"], "ok": False, "error": {"code": "unknown_job", "message": "job 'x' is not admitted", "retryable": False, "jobs": ["x"]}, "compute_ms": 0.1}
        else:
            reply = {"id": request["id"], "ok": True, "result": {"jobs": [], "extra_field": 1}, "compute_ms": 0.25}
        print(json.dumps(reply), flush=True)
    """

    @Test func repliesAreMatchedAndErrorsAreCoded() async throws {
        let client = try await FakeEngine.client(Self.echo, in: scratch)
        async let a = client.step(model: "m", expert: "main", jobs: [])
        async let b = client.step(model: "m", expert: "main", jobs: [])
        let (first, second) = try await (a, b)
        #expect(first.result.jobs.isEmpty && second.computeTime == .microseconds(250))
        do {
            _ = try await client.call("boom", EngineMessages.Empty(), as: EngineMessages.Empty.self)
            Issue.record("an error reply must throw")
        } catch let error as EngineError {
            #expect(error.code == "unknown_job" && error.jobs == ["x"] && !error.retryable)
        }
        await client.shutdown()
    }

    @Test func aWedgedEngineTimesOutIsKilledAndFailsEveryPendingCall() async throws {
        let client = try await FakeEngine.client("import time\nwhile True: time.sleep(1)\n", in: scratch, timeout: .milliseconds(300))
        #expect(client.isRunning)
        let started = ContinuousClock.now
        let first = Task { try await client.step(model: "m", expert: "main", jobs: []) }
        let second = Task { try await client.release(["x"]) }
        for result in [await first.result.map { _ in () }, await second.result.map { _ in () }] {
            guard case let .failure(error as EngineError) = result else {
                Issue.record("a silent engine must time out; got \(result)")
                continue
            }
            #expect(error.code == "engine_timeout" && error.retryable && error.domainCode == .engineCrashed)
            #expect(error.message.contains("killed"))
        }
        // The fake never answers: only the deadline can have ended both calls. The bound is far above 300 ms so a
        // loaded machine (2 shared cores) cannot fail it; a client that waited for a reply would wait forever.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(await eventually(within: .seconds(5)) { !client.isRunning })
        #expect(await client.hasExited)
        do {
            _ = try await client.release([])
            Issue.record("a client whose engine was killed must fail at once")
        } catch let error as EngineError {
            #expect(error.code == "engine_timeout")
        }
        await client.shutdown()
    }

    @Test func slowVerbsGetALongerDeadline() async throws {
        // Answers `load` after 1.5 s — past the 1 s deadline of an ordinary verb, within load's 4 s — and never
        // answers anything else (a hung engine): neither outcome depends on how late a busy machine's timers fire.
        let slow = """
        import json, sys, time
        for line in sys.stdin:
            request = json.loads(line)
            if request["op"] != "load":
                time.sleep(3600)
            time.sleep(1.5)
            print(json.dumps({"id": request["id"], "ok": True, "result": {"resident": []}}), flush=True)
        """
        let client = try await FakeEngine.client(slow, in: scratch, timeout: .seconds(1))
        #expect(client.deadline(of: "load") == .seconds(4) && client.deadline(of: "step") == .seconds(1))
        let loaded = try await client.load(model: "m", expert: "main")  // 1.5 s < 4 × 1 s
        #expect(loaded.result.resident.isEmpty)
        await #expect(throws: EngineError.self) { try await client.unload(model: "m", expert: "main") }  // never answered
        #expect(await client.hasExited)
        await client.shutdown()
    }

    @Test func errorRepliesCarryTheirPerJobProblems() async throws {
        let refusing = """
        import json, sys
        for line in sys.stdin:
            error = {"code": "invalid_image", "message": "1 of 2 jobs cannot be admitted", "retryable": False, "jobs": ["b"], "problems": {"b": "send a smaller image"}}
            print(json.dumps({"id": json.loads(line)["id"], "ok": False, "error": error}), flush=True)
        """
        let client = try await FakeEngine.client(refusing, in: scratch)
        do {
            _ = try await client.release(["a", "b"])
            Issue.record("an error reply must throw")
        } catch let error as EngineError {
            #expect(error.jobs == ["b"] && error.problems == ["b": "send a smaller image"] && error.domainCode == .invalidValue && !error.retryable)
        }
        await client.shutdown()
    }

    @Test func teardownEscalatesToSIGKILLForAnEngineThatIgnoresSIGTERM() async throws {
        let stubborn = """
        import signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.stdin.close()
        while True: time.sleep(1)
        """
        let process = try EngineProcess({ var l = try FakeEngine.launch(stubborn, in: scratch); l.python = "/usr/bin/python3"; return l }())
        #expect(process.isRunning)
        let started = ContinuousClock.now
        await process.terminate(grace: .milliseconds(300))
        #expect(!process.isRunning)
        #expect(ContinuousClock.now - started >= .milliseconds(600)) // waited for both graces before SIGKILL
    }

    @Test func aCrashFailsPendingCallsWithTheStderrTail() async throws {
        let dying = """
        import sys
        sys.stdin.readline()
        sys.stderr.write("Traceback: CUDA error: an illegal memory access was encountered\\n")
        sys.stderr.flush()
        sys.exit(3)
        """
        let client = try await FakeEngine.client(dying, in: scratch)
        do {
            _ = try await client.step(model: "m", expert: "main", jobs: [])
            Issue.record("a dead engine must fail the call")
        } catch let error as EngineError {
            #expect(error.code == "engine_exited")
            #expect(error.stderrTail?.contains("illegal memory access") == true)
        }
        #expect(await client.hasExited)
    }
}
