"""The NDJSON request/reply loop on stdin/stdout (docs/engine-protocol.md).

stdout is reserved for protocol lines: at start the real stdout is duplicated to a private handle and file
descriptor 1 is pointed at stderr, so stray prints from libraries can never corrupt the channel.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from .errors import EngineError

VERBS = ("hello", "ensure_tiny", "load", "unload", "warmup", "admit", "step", "decode", "release", "stats")


class Server:
    def __init__(self, engine, output):
        self.engine = engine
        self.output = output
        self.busy = False
        self.stopping = False

    def handle_line(self, line: str) -> dict:
        started = time.perf_counter()
        request_id = None
        try:
            try:
                request = json.loads(line)
            except json.JSONDecodeError as error:
                raise EngineError("bad_request", f"not a JSON object: {error.msg} at column {error.colno}") from None
            if not isinstance(request, dict):
                raise EngineError("bad_request", "a request must be a JSON object")
            request_id = request.get("id")
            if not isinstance(request_id, int) or isinstance(request_id, bool) or request_id < 0:
                request_id = None
                raise EngineError("bad_request", "'id' must be a non-negative integer")
            op = request.get("op")
            args = request.get("args", {})
            if not isinstance(args, dict):
                raise EngineError("bad_request", "'args' must be an object")
            if op == "shutdown":
                self.stopping = True
                result = {}
            elif op in VERBS:
                faults = getattr(self.engine, "faults", None)
                if faults is not None:
                    faults.delay(op)  # TEST-ONLY slowdown, a no-op unless configured
                result = getattr(self.engine, op)(args)
            else:
                raise EngineError("unknown_op", f"unknown op '{op}'; this engine knows: {', '.join(VERBS + ('shutdown',))}")
            reply = {"id": request_id, "ok": True, "result": result}
        except EngineError as error:
            reply = {"id": request_id, "ok": False, "error": error.to_reply()}
        except Exception as error:  # noqa: BLE001 — every failure becomes a coded reply, never a dead engine
            traceback.print_exc(file=sys.stderr)
            reply = {"id": request_id, "ok": False, "error": {"code": "internal", "message": f"{type(error).__name__}: {error}", "retryable": False}}
        reply["compute_ms"] = round((time.perf_counter() - started) * 1000.0, 4)
        return reply

    def serve(self, lines) -> None:
        for line in lines:
            if not line.strip():
                continue
            self.busy = True
            reply = self.handle_line(line)
            self.output.write(json.dumps(reply, separators=(",", ":")) + "\n")
            self.output.flush()
            self.busy = False
            if self.stopping:
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m turboserve_engine", description="TurboServe engine (NDJSON on stdin/stdout)")
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    options = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from .engine import Engine
    from .faults import FaultSettingsError, TestFaults

    try:
        faults = TestFaults.from_environment(os.environ, VERBS)
    except FaultSettingsError as error:
        print(f"turboserve engine: refusing to start: {error}", file=sys.stderr, flush=True)
        return 2
    faults.announce()
    engine = Engine(Path(options.models_dir), Path(options.work_dir), options.device, options.threads, faults=faults)
    server = Server(engine, protocol_out)

    def on_term(signum, frame):
        server.stopping = True
        if not server.busy:
            sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve(sys.stdin)
    except KeyboardInterrupt:
        pass
    return 0
