"""Coded engine errors (docs/engine-protocol.md, "Error codes")."""

from __future__ import annotations

RETRYABLE = {"not_loaded", "out_of_memory"}


class EngineError(Exception):
    """An error with a stable protocol code; `jobs` names the jobs it concerns (others were not changed)."""

    def __init__(self, code: str, message: str, jobs: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.jobs = jobs

    def to_reply(self) -> dict:
        error = {"code": self.code, "message": self.message, "retryable": self.code in RETRYABLE}
        if self.jobs is not None:
            error["jobs"] = self.jobs
        return error
