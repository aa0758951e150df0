import EngineBridge
import Foundation
import Testing

/// The client against stand-in engines: replies in order, coded errors, timeouts, teardown escalation, crashes.
struct EngineClientFakeTests {
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
        let client = try await FakeEngine.client(Self.echo)
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

    @Test func aWedgedEngineTimesOut() async throws {
        let client = try await FakeEngine.client("import time\nwhile True: time.sleep(1)\n", timeout: .milliseconds(300))
        do {
            _ = try await client.step(model: "m", expert: "main", jobs: [])
            Issue.record("a silent engine must time out")
        } catch let error as EngineError {
            #expect(error.code == "engine_timeout" && error.retryable)
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
        let process = try EngineProcess({ var l = try FakeEngine.launch(stubborn); l.python = "/usr/bin/python3"; return l }())
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
        let client = try await FakeEngine.client(dying)
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
