"""Coded engine errors (docs/engine-protocol.md, "Error codes") and the one mapping of device out-of-memory.

Attribution rule: `jobs` names the jobs whose own input or state caused the error (an invalid image, an unknown id,
a step out of order, a job too large to fit even alone). Errors of the call as a whole (a malformed request, an
expert that is not loaded, a batch too large for the device, an engine fault outside any one job's work) carry no
`jobs`, and the client must read that as "not attributable to any one job".
"""

from __future__ import annotations

import errno

from contextlib import contextmanager
from dataclasses import dataclass

RETRYABLE = {"not_loaded", "out_of_memory"}


class EngineError(Exception):
    """An error with a stable protocol code; `jobs` names the jobs it concerns (others were not changed);
    `problems` optionally gives one message per named job (admission validation)."""

    def __init__(self, code: str, message: str, jobs: list[str] | None = None, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.jobs = jobs
        self.problems = problems

    def to_reply(self) -> dict:
        error = {"code": self.code, "message": self.message, "retryable": self.code in RETRYABLE}
        if self.jobs is not None:
            error["jobs"] = self.jobs
        if self.problems:
            error["problems"] = self.problems
        return error


@dataclass(frozen=True)
class BatchShape:
    """What a call put on the device, for out-of-memory messages: `verb` of `batch` jobs of `model`/`expert` at
    width×height and `frames`."""

    verb: str
    model: str
    expert: str
    width: int
    height: int
    frames: int
    batch: int

    def describe(self) -> str:
        return (f"{self.verb} of {self.model}/{self.expert} at {self.width}x{self.height}, {self.frames} frames, "
                f"batch of {self.batch}")


def is_out_of_memory(error: BaseException) -> bool:
    """True for `torch.cuda.OutOfMemoryError` and for the RuntimeErrors other back ends raise when an allocation
    fails ("out of memory"; e.g. CUDA kernels, cuBLAS, MPS)."""
    import torch

    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def out_of_memory(subject: str, advice: str, cause: BaseException | None = None, jobs: list[str] | None = None) -> EngineError:
    """The `out_of_memory` error (retryable: job state is unchanged). `subject` names what did not fit, `advice`
    what to lower; the first sentence of the device's own message follows. Frees the allocator's cache so the
    retry starts from the memory that is really free."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    detail = ""
    if cause is not None:
        first = str(cause).strip().split("\n")[0].split(". ")[0]
        detail = f" (device: {first[:300]})"
    return EngineError("out_of_memory", f"out of device memory: {subject} does not fit; {advice}{detail}", jobs)


def batch_out_of_memory(shape: BatchShape, cause: BaseException | None = None, jobs: list[str] | None = None) -> EngineError:
    """`out_of_memory` for a batch: names the shape and what to lower. `jobs` only when the job alone cannot fit."""
    if jobs:
        advice = f"job {', '.join(repr(j) for j in jobs)} does not fit even alone: lower its resolution or frame count"
    else:
        advice = "lower the batch size (scheduler.max_batch_size), the resolution or the frame count"
    return out_of_memory(shape.describe(), advice, cause, jobs)


@contextmanager
def device_work(shape: BatchShape, jobs: list[str] | None = None):
    """Runs device work and maps its failures: out-of-memory (real, or a test fault raised inside the block, whose
    exception may carry its own `jobs`) becomes `out_of_memory` for `shape`; any other non-coded exception becomes
    `internal`, attributed to `jobs` (pass the job whose own work this is, or None for a whole batch)."""
    try:
        yield
    except EngineError:
        raise
    except Exception as error:  # noqa: BLE001 — every failure becomes a coded error
        if is_out_of_memory(error):
            raise batch_out_of_memory(shape, error, getattr(error, "turboserve_jobs", None) or jobs) from None
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise EngineError("disk_full", f"{shape.describe()}: no space left on the disk of the engine's work directory; "
                                           "free disk space (or lower storage.retention_hours) and create the job again", jobs) from None
        import sys
        import traceback

        traceback.print_exc(file=sys.stderr)
        raise EngineError("internal", f"{shape.describe()}: {type(error).__name__}: {error}", jobs) from error
