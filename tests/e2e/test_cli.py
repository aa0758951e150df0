"""Issue 14 item 10: the CLI as a user meets it — `scripts/turboserve` from another directory (relative paths are the
caller's), errors that name real flags, sysexits codes (64 only for usage errors), mistakes caught before the
engine's start-up, a banner with the UI and API addresses, a clean exit 0 with one goodbye line on SIGINT and
SIGTERM, and `generate`'s progress: a bar on a terminal, plain lines otherwise."""

import os
import pty
import signal
import socket
import subprocess
import time

import pytest

from conftest import BINARY, REPO, free_port
from turboserve_harness import wait_for

SCRIPT = REPO / "scripts" / "turboserve"


def run(args, cwd, timeout=60, **env):
    """Runs the CLI through scripts/turboserve (on the built binary) from `cwd`; returns (code, stdout, stderr, s)."""
    started = time.monotonic()
    result = subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, TURBOSERVE_BIN=str(BINARY), **env))
    return result.returncode, result.stdout, result.stderr, time.monotonic() - started


@pytest.fixture()
def elsewhere(tmp_path):
    folder = tmp_path / "caller"
    folder.mkdir()
    return folder


def test_relative_image_is_the_callers_and_flag_names_are_real(elsewhere, png):
    (elsewhere / "photo.png").write_bytes(png.read_bytes())
    # The image is found relative to the caller's directory (else exit 66): the run reaches validation, which
    # refuses the steps naming the real flag, as a usage error.
    code, _, err, _ = run(["generate", "waves", "--image", "photo.png", "--steps", "9"], elsewhere)
    assert code == 64, err
    assert "--steps" in err and "photo.png" not in err
    code, _, err, _ = run(["generate", "waves", "--model", "tiny-i2v"], elsewhere)
    assert code == 64 and "--image" in err and "input_reference" not in err, err
    code, _, err, _ = run(["generate", "  "], elsewhere)
    assert code == 64 and "<prompt>" in err and "--prompt" not in err, err
    # A negative seed reaches validation, which names the range (ArgumentParser took "-1" for a flag: "Missing value").
    code, _, err, _ = run(["generate", "waves", "--seed", "-1"], elsewhere)
    assert code == 64 and "--seed: seed must be an integer from 0 to 4294967295; got -1" in err, err


def test_missing_or_bad_files_exit_with_sysexits_before_the_engine_starts(elsewhere):
    code, _, err, seconds = run(["generate", "waves", "--image", "nope.png"], elsewhere)
    assert code == 66, err
    assert err.startswith("error: --image: no readable file at ") and str(elsewhere / "nope.png") in err
    assert "Usage" not in err and seconds < 5
    (elsewhere / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    code, _, err, _ = run(["generate", "waves", "--image", "garbage.png"], elsewhere)
    assert code == 65 and "--image" in err and "Usage" not in err, err
    code, _, err, _ = run(["generate", "waves", "-o", "missing-folder/out.mp4"], elsewhere)
    assert code == 73 and "--output" in err, err


def test_serve_refuses_a_taken_port_and_a_bad_config_at_once(elsewhere):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err, seconds = run(["serve", "--port", str(port), "--data-dir", "data"], elsewhere)
    assert code == 69, err
    assert f"port {port} on 127.0.0.1 is already in use" in err and "errno" not in err and "Usage" not in err
    assert seconds < 5, "checked before any engine starts"
    (elsewhere / "bad.yaml").write_text("server:\n  port: -3\n")
    code, _, err, _ = run(["serve", "--config", "bad.yaml", "--no-engine"], elsewhere)
    assert code == 78 and "invalid configuration" in err and "Usage" not in err, err
    code, _, err, _ = run(["serve", "--config", "absent.yaml", "--no-engine"], elsewhere)
    assert code == 66 and str(elsewhere / "absent.yaml") in err, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_where_the_ui_and_api_are_and_exits_0_with_a_goodbye(elsewhere, sig):
    port = free_port()
    process = subprocess.Popen([str(SCRIPT), "serve", "--no-engine", "--port", str(port), "--data-dir", "data"], cwd=elsewhere,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, TURBOSERVE_BIN=str(BINARY)))
    try:
        banner = process.stdout.readline()
        assert f"web UI http://127.0.0.1:{port}/" in banner and f"API http://127.0.0.1:{port}/v1" in banner, banner
        assert (elsewhere / "data" / "turboserve.sqlite").exists(), "--data-dir is relative to the caller"
        process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-2000:]
    assert [line for line in out.splitlines() if line.strip()] == ["TurboServe stopped: requests finished, engines shut down; unfinished jobs resume on the next start. Goodbye."]
    assert "error" not in err.lower() and "Already closed" not in err and "CancellationError" not in err, err[-2000:]


def test_generate_draws_a_bar_on_a_terminal_and_plain_lines_otherwise(elsewhere, models_dir):
    env = dict(os.environ, TURBOSERVE_BIN=str(BINARY), TURBOSERVE_MODELS_DIR=str(models_dir))
    data = elsewhere / "var"
    args = [str(SCRIPT), "generate", "a fox", "--steps", "2", "--frames", "5", "--seed", "1", "--data-dir", str(data)]
    plain = subprocess.run([*args, "-o", "plain.mp4"], cwd=elsewhere, capture_output=True, text=True, timeout=300, env=env)
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert (elsewhere / "plain.mp4").stat().st_size > 0, "-o is relative to the caller"
    assert "\r" not in plain.stderr and "\x1b" not in plain.stderr
    assert any("denoising step 2/2" in line for line in plain.stderr.splitlines()), plain.stderr

    leader, follower = pty.openpty()
    process = subprocess.Popen([*args, "-o", "bar.mp4"], cwd=elsewhere, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=300)
    os.close(leader)
    text = seen.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "█" in text and "step 2/2" in text and "ETA" in text and "\r" in text, text[-2000:]


@pytest.mark.parametrize("args, code, named", [
    (["--workload", "i2v-heavy.json", "--engines", "0"], 64, "--engines"),
    (["--workload", "i2v-heavy.json", "--engines", "2", "--rate-scale", "1e9"], 64, "--rate-scale"),
    (["--workload", "i2v-heavy.json", "--planner", "--rates", "1e9x"], 64, "--rates"),
    (["--workload", "i2v-heavy.json", "--engines", "2", "--duration", "1e12"], 64, "--duration"),
    (["--workload", "i2v-heavy.json", "--policy", "nosuch"], 64, "--policy 'nosuch'"),
    (["--workload", "i2v-heavy.json", "--rate-scale", "8"], 64, "--planner"),
    (["--workload", "i2v-heavy.json", "--engines", "2", "--policy", "turboserve,serial"], 64, "runs one policy"),
    (["--workload", "i2v-heavy.json", "--policy", ","], 64, "names no policy"),
    (["--workload", "i2v-heavy.json", "--seed", "-1"], 64, "'-1' is invalid for '--seed"),
    (["--workload", "i2v-heavy.json", "--policy", "serial", "--out", "i2v-heavy.json"], 73, "--out"),
    (["--workload", "i2v-heavy.json", "--policy", "serial", "--out", "/proc/turboserve-out"], 73, "--out"),
    (["--workload", "i2v-heavy.json", "--engines", "2", "--out", "/proc/turboserve-out"], 73, "--out"),
    (["--workload", "negative-slo.json"], 65, "slo_factor"),
    (["--workload", "missing.json"], 66, "missing.json"),
    (["--calibration-check", "--calibration", "missing-calibration.json"], 66, "missing-calibration.json"),
])
def test_bench_refuses_what_would_crash_or_never_end_with_the_flag_named(elsewhere, args, code, named):
    """`turboserve bench` from another directory: the workload is the caller's relative path; a usage mistake exits
    64, a refused workload file 65, an unreadable one 66 and an `--out` that cannot be written 73, each naming the flag
    or field, before anything runs (a negative `slo_factor` crashed the run, `--rate-scale 1e9` and `--duration 1e12`
    ran without end, an unwritable `--out` failed only after the run). `/proc` is refused up front for a user and,
    for root (who passes the check), when the results are written: 73 either way, comparison and fleet alike."""
    workload = (REPO / "bench" / "i2v-heavy.json").read_text()  # names the repository's calibration: it runs anywhere
    (elsewhere / "i2v-heavy.json").write_text(workload)
    (elsewhere / "negative-slo.json").write_text(workload.replace('"slo_factor": 3.0', '"slo_factor": -2', 1))
    result, _, err, seconds = run(["bench", *args, *([] if "--out" in args else ["--out", "out"])], elsewhere)
    assert result == code, err
    assert named in err, err
    assert not (elsewhere / "out").exists() and seconds < 30
