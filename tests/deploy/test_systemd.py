"""The bare-metal units pass `systemd-analyze verify` (in a scratch root holding the system's units and the
binaries they name) with no warning, keep the service up, reach the GPU; logrotate accepts and applies the
rotation rule."""

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DEPLOY, tool

SYSTEMD = DEPLOY / "systemd"
UNITS = ["turboserve.service", "turboserve-worker@.service", "turboserve-logrotate.service", "turboserve-logrotate.timer"]


def settings(unit: str) -> list[tuple[str, str]]:
    return re.findall(r"^(\w+)=(.*)$", (SYSTEMD / unit).read_text(), re.M)


@pytest.fixture()
def scratch_root(tmp_path) -> Path:
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(SYSTEMD / unit, root / "etc/systemd/system" / unit)
    for binary in ["/usr/local/bin/turboserve", "/usr/sbin/logrotate"]:
        (root / binary.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / binary.lstrip("/")).write_text("#!/bin/sh\n")   # verify checks the path is executable
        (root / binary.lstrip("/")).chmod(0o755)
    return root


def verify(root: Path, *units: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("systemd-analyze"), "verify", f"--root={root}", *units], capture_output=True, text=True)


def test_units_verify_without_warnings(scratch_root):
    result = verify(scratch_root, "turboserve.service", "turboserve-worker@0.service", "turboserve-worker@3.service",
                    "turboserve-logrotate.service", "turboserve-logrotate.timer")
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_verify_reports_a_broken_unit(scratch_root):
    broken = (SYSTEMD / "turboserve.service").read_text().replace("Restart=always", "Restart=allways")
    (scratch_root / "etc/systemd/system/broken.service").write_text(broken)
    assert "allways" in verify(scratch_root, "broken.service").stderr


@pytest.mark.parametrize("unit", ["turboserve.service", "turboserve-worker@.service"])
def test_service_restarts_reads_env_and_reaches_the_gpu(unit):
    s = settings(unit)
    assert ("Restart", "always") in s
    assert any(k == "EnvironmentFile" and v == "/etc/turboserve/turboserve.env" for k, v in s)
    assert ("DevicePolicy", "closed") in s and ("DeviceAllow", "char-nvidia-frontend rw") in s
    assert ("DeviceAllow", "char-nvidia-uvm rw") in s
    assert not any(k == "PrivateDevices" and v == "yes" for k, v in s), "PrivateDevices hides /dev/nvidia*"
    assert ("NoNewPrivileges", "yes") in s and ("ProtectSystem", "strict") in s
    assert int(dict(s)["TimeoutStopSec"]) >= 600   # drains like the Kubernetes pods
    exec_start = dict(s)["ExecStart"]
    assert exec_start.split()[:2] == ["/usr/local/bin/turboserve", "serve" if unit == "turboserve.service" else "worker"]


def logrotate_config(tmp_path) -> Path:
    text = (SYSTEMD / "turboserve.logrotate").read_text()
    text = text.replace("/var/log/turboserve/", f"{tmp_path}/logs/").replace("su turboserve turboserve", "su root root")
    (tmp_path / "logs").mkdir()
    (tmp_path / "turboserve.logrotate").write_text(text)
    return tmp_path / "turboserve.logrotate"


def test_logrotate_daily_100m_compressed(tmp_path):
    rules = (SYSTEMD / "turboserve.logrotate").read_text()
    assert all(re.search(rf"^\s+{w}\s*$", rules, re.M) for w in ["daily", "compress", "copytruncate"])
    assert re.search(r"^\s+maxsize 100M$", rules, re.M)
    config = logrotate_config(tmp_path)
    log = tmp_path / "logs" / "turboserve.log"
    with open(log, "wb") as f:
        f.truncate(150 * 1024 * 1024)   # sparse: larger than 100M, rotated before its day is over
    state = tmp_path / "state"
    now = datetime.datetime.now()
    state.write_text(f'logrotate state -- version 2\n"{log}" {now.year}-{now.month}-{now.day}-{now.hour}:0:0\n')   # rotated today
    dry = subprocess.run([tool("logrotate"), "-d", "--state", str(state), str(config)], capture_output=True, text=True)
    assert dry.returncode == 0 and "error" not in dry.stderr.lower(), dry.stderr
    assert "log needs rotating" in dry.stderr
    small = tmp_path / "logs" / "worker-0.log"
    small.write_text("{}\n")
    for _ in range(2):   # second run: the first generation gets compressed (delaycompress)
        log.write_bytes(b"x" * 1024)
        with open(log, "ab") as f:
            f.truncate(101 * 1024 * 1024)
        subprocess.run([tool("logrotate"), "--state", str(state), str(config)], check=True)
    assert (tmp_path / "logs" / "turboserve.log.1").exists() and (tmp_path / "logs" / "turboserve.log.2.gz").exists()
    assert not (tmp_path / "logs" / "worker-0.log.1").exists(), "a small log rotated the same day"


@pytest.mark.parametrize("unit", ["turboserve.service", "turboserve-worker@1.service"])
def test_exposure_stays_low(scratch_root, unit):
    """`systemd-analyze security` scores 0 (locked down) to 10; the threshold is in tenths. The units sit at 3.4:
    what is left open is what the engine needs (the NVIDIA devices, W+X pages, the network)."""
    result = subprocess.run([tool("systemd-analyze"), "security", "--offline=yes", f"--root={scratch_root}", "--threshold=35", unit],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    print(f"\n[systemd] {result.stdout.strip().splitlines()[-1]}")
