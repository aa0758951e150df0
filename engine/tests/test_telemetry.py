"""GPU telemetry: absent (with a reason) on a CPU, read through the same code from a fake NVML in tests."""

import json
import sys
import types

import pytest
import torch

from conftest import EngineProcess
from turboserve_engine.telemetry import FakeNvml, GpuTelemetry

FIELDS = {"name", "utilization_percent", "memory_used_bytes", "memory_total_bytes", "temperature_celsius", "power_watts", "energy_joules"}


def test_on_a_cpu_the_gpu_fields_are_absent_and_the_reply_says_why(engine):
    for reply in (engine.hello({"protocol": 1}), engine.stats({})):
        assert reply["gpu_telemetry"] == {"available": False, "reason": "no CUDA device (the engine runs on the CPU)"}


def test_the_fake_source_gives_every_reading_in_si_units():
    telemetry = GpuTelemetry(torch.device("cpu"), {"TURBOSERVE_ENGINE_FAKE_NVML": "1"}).read()
    assert telemetry["available"] is True and telemetry["source"] == "fake"
    (device,) = telemetry["devices"]
    assert set(device) == FIELDS | {"index", "device"} and device["device"] == "cuda:0"
    assert device["power_watts"] == 215.0 and device["energy_joules"] == pytest.approx(1_234_567.0, abs=215.0)  # ≤ 1 s drawn
    assert device["memory_used_bytes"] == 8 * 2**30 and device["utilization_percent"] == 42.0


def test_the_fake_energy_counter_grows_at_the_power_draw():
    now = [100.0]
    nvml = FakeNvml({"devices": [{"power_milliwatts": 200_000, "energy_millijoules": 5_000}, {"energy_millijoules": 7}]}, clock=lambda: now[0])
    drawing, idle = nvml.nvmlDeviceGetHandleByIndex(0), nvml.nvmlDeviceGetHandleByIndex(1)
    assert nvml.nvmlDeviceGetTotalEnergyConsumption(drawing) == 5_000
    now[0] += 3.0
    assert nvml.nvmlDeviceGetTotalEnergyConsumption(drawing) == 5_000 + 600_000  # 200 W for 3 s = 600 J
    assert nvml.nvmlDeviceGetTotalEnergyConsumption(idle) == 7  # no power reading: the counter stays


def test_an_unsupported_reading_is_left_out_not_zeroed(tmp_path):
    readings = tmp_path / "nvml.json"
    readings.write_text(json.dumps({"devices": [
        {"name": "A", "utilization_percent": 90, "memory_used_bytes": 1, "memory_total_bytes": 2, "temperature_celsius": 70, "power_milliwatts": None},
        {"name": "B", "utilization_percent": 10, "memory_used_bytes": 3, "memory_total_bytes": 4, "temperature_celsius": 40,
         "power_milliwatts": 50_500, "energy_millijoules": 9_000}]}))
    first, second = GpuTelemetry(torch.device("cpu"), {"TURBOSERVE_ENGINE_FAKE_NVML": str(readings)}).read()["devices"]
    assert "power_watts" not in first and "energy_joules" not in first and first["temperature_celsius"] == 70.0
    assert second["device"] == "cuda:1" and second["power_watts"] == 50.5
    assert second["energy_joules"] == pytest.approx(9.0, abs=50.5)  # ≤ 1 s drawn at 50.5 W


def test_an_unusable_fake_file_is_a_reason_not_a_failure(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    telemetry = GpuTelemetry(torch.device("cpu"), {"TURBOSERVE_ENGINE_FAKE_NVML": str(broken)}).read()
    assert telemetry["available"] is False and telemetry["reason"].startswith("NVML is not usable") and "devices" not in telemetry


def test_on_cuda_without_the_package_the_reason_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    telemetry = GpuTelemetry(torch.device("cuda:0"), {}).read()
    assert telemetry == {"available": False, "reason": "nvidia-ml-py is not installed (pip install nvidia-ml-py)"}


def test_on_cuda_the_engines_own_device_is_found_by_uuid(monkeypatch):
    fake = FakeNvml({"devices": [{"name": "other", "uuid": "GPU-aaa", "utilization_percent": 1},
                                 {"name": "mine", "uuid": "GPU-bbb", "utilization_percent": 77}]})
    module = types.SimpleNamespace(**{name: getattr(fake, name) for name in dir(fake) if name.startswith("nvml") or name.startswith("NVML")})
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: types.SimpleNamespace(uuid="bbb"))
    telemetry = GpuTelemetry(torch.device("cuda:0"), {}).read()
    assert telemetry["source"] == "nvml"
    assert [(d["device"], d["name"], d["utilization_percent"]) for d in telemetry["devices"]] == [("cuda:0", "mine", 77.0)]
    assert "power_watts" not in telemetry["devices"][0]


def test_over_the_wire_hello_and_stats_carry_the_fake_readings(models_dir, tmp_path):
    process = EngineProcess(models_dir, tmp_path / "work", {"TURBOSERVE_ENGINE_FAKE_NVML": "1"})
    hello = process.call("hello", protocol=1)["result"]["gpu_telemetry"]
    stats = process.call("stats")["result"]["gpu_telemetry"]
    energy = [reply["devices"][0].pop("energy_joules") for reply in (hello, stats)]
    assert hello == stats and stats["available"] and stats["devices"][0]["temperature_celsius"] == 61.0
    assert energy[1] >= energy[0]  # a counter: it only grows between readings
    assert "TEST-ONLY fake NVML" in process.close()
