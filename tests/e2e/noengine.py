"""A `turboserve serve --no-engine` process for tests of the HTTP layer alone (no engine, jobs stay queued), on the
shared harness (tests/support/turboserve_harness.py). Imported by the hostile-input, tenant and schemathesis tests."""

from pathlib import Path

import requests

from turboserve_harness import Server


class NoEngineServer(Server):
    def __init__(self, data_dir: Path, env: dict | None = None):
        super().__init__(data_dir, Path(data_dir) / "models", env, args=["--no-engine"])

    @property
    def log_path(self) -> Path:
        return self.logs[-1]

    def alive(self) -> bool:
        return self.running and requests.get(self.url + "/healthz", timeout=5).status_code == 200

    def stop(self) -> int:
        """SIGTERM (SIGKILL after a minute); returns the exit status."""
        super().stop()
        return self.process.returncode
