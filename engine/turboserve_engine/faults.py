"""TEST-ONLY fault settings, read once from the environment when the engine starts (docs/engine-protocol.md,
"Test-only settings"). They let a fault-injection suite make the device run out of memory, or a call run long, at
will. Unset (the default), they change nothing. Set, they are reported in `hello` (`test_faults`) and logged to
stderr as TEST-ONLY, so a production engine running with them is never silent about it.

- `TURBOSERVE_ENGINE_TEST_MAX_BATCH=k`: an `admit`, `step` or `decode` of more than k jobs runs out of memory.
- `TURBOSERVE_ENGINE_TEST_MAX_FRAMES=f`: a job of more than f frames runs out of memory, even alone (it is named).
- `TURBOSERVE_ENGINE_TEST_CALL_DELAY_MS=d`: each call of the delayed verbs spends d ms inside the call before its
  work starts; `TURBOSERVE_ENGINE_TEST_DELAY_VERBS=step,decode,load` picks the verbs (default: every verb that
  works on models or jobs). The engine writes `TEST-ONLY delay: <verb> for <d> ms` to stderr as the delay starts,
  so a test can observe that the call is under way and kill or stop the engine then.
- `TURBOSERVE_ENGINE_TEST_CRASH_ON_PROMPT=text`: a `step` carrying a job whose prompt contains `text` kills the
  engine process (SIGKILL, as a segfault in a kernel would), every time: a job that keeps killing the engine.

The out-of-memory faults raise a real `torch.cuda.OutOfMemoryError` inside the verb's device work, so they take the
exact path a device OOM takes (`errors.device_work`), reply and state included.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass

import torch

PREFIX = "TURBOSERVE_ENGINE_TEST_"
DEFAULT_DELAY_VERBS = ("load", "unload", "warmup", "admit", "step", "decode", "release")
KNOWN = {f"{PREFIX}{name}" for name in ("MAX_BATCH", "MAX_FRAMES", "CALL_DELAY_MS", "DELAY_VERBS", "CRASH_ON_PROMPT")}


class FaultSettingsError(ValueError):
    """A TEST-ONLY setting that is set but unusable; the engine refuses to start (exit 2)."""


class SimulatedOutOfMemory(torch.cuda.OutOfMemoryError):
    """A test fault's OOM; `turboserve_jobs` names the jobs it is attributed to (None: the batch as a whole)."""

    def __init__(self, message: str, jobs: list[str] | None):
        super().__init__(message)
        self.turboserve_jobs = jobs


@dataclass(frozen=True)
class TestFaults:
    max_batch: int | None = None
    max_frames: int | None = None
    delay_ms: int = 0
    delay_verbs: tuple[str, ...] = DEFAULT_DELAY_VERBS
    crash_on_prompt: str | None = None

    __test__ = False  # not a pytest test class

    @classmethod
    def from_environment(cls, environ, verbs: tuple[str, ...]) -> TestFaults:
        unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in KNOWN)
        if unknown:
            raise FaultSettingsError(f"unknown test setting {', '.join(unknown)}; known: {', '.join(sorted(KNOWN))}")
        delay_verbs = DEFAULT_DELAY_VERBS
        if environ.get(f"{PREFIX}DELAY_VERBS"):
            delay_verbs = tuple(v.strip() for v in environ[f"{PREFIX}DELAY_VERBS"].split(",") if v.strip())
            wrong = [v for v in delay_verbs if v not in verbs]
            if wrong:
                raise FaultSettingsError(f"{PREFIX}DELAY_VERBS names unknown verbs {wrong}; verbs: {', '.join(verbs)}")
        return cls(max_batch=_count(environ, "MAX_BATCH", 1), max_frames=_count(environ, "MAX_FRAMES", 1),
                   delay_ms=_count(environ, "CALL_DELAY_MS", 0) or 0, delay_verbs=delay_verbs,
                   crash_on_prompt=environ.get(f"{PREFIX}CRASH_ON_PROMPT") or None)

    @property
    def active(self) -> bool:
        return self.max_batch is not None or self.max_frames is not None or self.delay_ms > 0 or self.crash_on_prompt is not None

    def describe(self) -> dict:
        """The `test_faults` object of `hello` (empty when no fault is set)."""
        if not self.active:
            return {}
        described: dict = {}
        if self.max_batch is not None:
            described["max_batch"] = self.max_batch
        if self.max_frames is not None:
            described["max_frames"] = self.max_frames
        if self.delay_ms:
            described["call_delay_ms"] = self.delay_ms
            described["delay_verbs"] = list(self.delay_verbs)
        if self.crash_on_prompt is not None:
            described["crash_on_prompt"] = self.crash_on_prompt
        return described

    def poisons(self, prompt: str) -> bool:
        """Whether a job with this prompt kills the engine when stepped."""
        return self.crash_on_prompt is not None and self.crash_on_prompt in prompt

    def crash_if_poisoned(self, job_ids, poisoned: set, stream=sys.stderr) -> None:
        """Kills this process (SIGKILL) when any of `job_ids` is poisoned."""
        hit = [job for job in job_ids if job in poisoned]
        if hit:
            print(f"turboserve engine: TEST-ONLY crash: stepping {hit[0]} kills the engine", file=stream, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    def announce(self, stream=sys.stderr) -> None:
        if self.active:
            print(f"turboserve engine: TEST-ONLY fault settings are active: {self.describe()} — never use them in "
                  f"production; unset {PREFIX}* to run normally", file=stream, flush=True)

    def delay(self, verb: str, stream=sys.stderr) -> None:
        """Spends the configured time inside a delayed verb (workload slowdown, announced on stderr first)."""
        if self.delay_ms and verb in self.delay_verbs:
            print(f"turboserve engine: TEST-ONLY delay: {verb} for {self.delay_ms} ms", file=stream, flush=True)
            time.sleep(self.delay_ms / 1000.0)

    def check(self, jobs: list[tuple[str, int]]) -> None:
        """Raises the simulated OOM for a batch of (job id, frames): first any job over `max_frames` (named), then a
        batch over `max_batch` (not named). Call inside `errors.device_work`."""
        if self.max_frames is not None:
            over = [job for job, frames in jobs if frames > self.max_frames]
            if over:
                raise SimulatedOutOfMemory(f"TEST-ONLY fault: more than {self.max_frames} frames ({PREFIX}MAX_FRAMES)", over)
        if self.max_batch is not None and len(jobs) > self.max_batch:
            raise SimulatedOutOfMemory(f"TEST-ONLY fault: more than {self.max_batch} jobs ({PREFIX}MAX_BATCH)", None)


def _count(environ, name: str, minimum: int) -> int | None:
    raw = environ.get(f"{PREFIX}{name}")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise FaultSettingsError(f"{PREFIX}{name} must be an integer of at least {minimum}; got {raw!r}")
    return value
