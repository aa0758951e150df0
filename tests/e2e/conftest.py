"""End-to-end tests against a real `turboserve serve` process (SQLite, the real engine with the tiny models)."""

import re
import sys
from pathlib import Path

import pytest

# One server harness for every suite that drives real processes (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from server_fixtures import ffprobe, make_server, models_dir, png, require_binary, serving  # noqa: E402,F401  (fixtures and helpers the tests use)
from turboserve_harness import BINARY, REPO, Server, free_port  # noqa: E402,F401  (re-exported for the tests)
from noengine import NoEngineServer  # noqa: E402


@pytest.fixture()
def server(make_server):
    """One `turboserve serve` on the tiny models, stopped when the test ends."""
    return make_server()


@pytest.fixture()
def make_no_engine_server(tmp_path):
    """Starts `turboserve serve --no-engine` processes (`serving`), each stopped when the test ends."""
    yield from serving(tmp_path, lambda directory, env: NoEngineServer(directory, env))


# -- every error message the suite meets names no server path (issue 14 item 7)

SERVER_PATH = re.compile(r"(?:file://)?(?<![\w.:/])(?:\.{1,2})?/(?!v1/)(?:[\w.~+@%-]+/)+[\w.~+@%-]*")


def _messages(body):
    """Every error message in an answer: an OpenAI error body, or the `error` of video objects (also in lists)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            yield error["message"]
        for item in body.get("data") or []:
            yield from _messages(item)


@pytest.fixture(autouse=True)
def no_server_path_in_any_error(monkeypatch):
    """Wraps every `requests` call a test makes: an error message with a file path in it fails the test."""
    import requests

    original = requests.Session.send
    found = []

    def send(self, request, **kwargs):
        response = original(self, request, **kwargs)
        if "json" in response.headers.get("Content-Type", "") and not kwargs.get("stream"):
            try:
                body = response.json()
            except ValueError:
                return response
            found.extend((request.url, m) for m in _messages(body) if SERVER_PATH.search(m))
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    yield
    assert not found, f"error messages naming a server path: {found[:5]}"
