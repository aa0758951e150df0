"""GPU telemetry from NVML (`nvidia-ml-py`, imported only when a CUDA device is used), reported in `hello` and
`stats` as `gpu_telemetry` (docs/engine-protocol.md, "GPU telemetry").

Guarantees:
- With a CUDA device and NVML: `{"available": true, "source": "nvml", "devices": [...]}`, one entry for the engine's
  own device (matched by UUID, so `CUDA_VISIBLE_DEVICES` is respected). A reading the GPU does not support (e.g.
  power on some boards) is absent from its entry, never zero.
- Otherwise: `{"available": false, "reason": "..."}` and no device fields at all (not zeros): no CUDA device, the
  package missing, or NVML failing to start.
- TEST-ONLY fake (`TURBOSERVE_ENGINE_FAKE_NVML=1` for built-in readings, or a path to a JSON file
  `{"devices": [{"name": ..., "utilization_percent": ..., ...}]}`; a field set to null is "not supported"): a
  stand-in for the `pynvml` module, read by the same code, whatever the engine's device.
- Never raises: a reading that fails is left out; telemetry can never fail a call.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

FAKE_ENV = "TURBOSERVE_ENGINE_FAKE_NVML"
FAKE_DEFAULT = {"devices": [{"name": "TurboServe Fake GPU", "uuid": "GPU-00000000-0000-0000-0000-000000000000",
                             "utilization_percent": 42, "memory_used_bytes": 8 * 2**30, "memory_total_bytes": 32 * 2**30,
                             "temperature_celsius": 61, "power_milliwatts": 215_000, "energy_millijoules": 1_234_567_000}]}


class GpuTelemetry:
    """Reads NVML for the engine's device; `read()` returns the `gpu_telemetry` object."""

    def __init__(self, device, environ=os.environ):
        self.device = device
        self.nvml = None
        self.handles: list[tuple[str, object]] = []  # (device label, NVML handle)
        self.source = "nvml"
        self.reason = None
        fake = environ.get(FAKE_ENV)
        try:
            if fake:
                self.source = "fake"
                self.nvml = FakeNvml(FAKE_DEFAULT if fake == "1" else json.loads(Path(fake).read_text()))
                print(f"turboserve engine: TEST-ONLY fake NVML readings ({FAKE_ENV}={fake})", file=sys.stderr, flush=True)
            elif device.type != "cuda":
                self.reason = "no CUDA device (the engine runs on the CPU)"
                return
            else:
                try:
                    import pynvml
                except ImportError:
                    self.reason = "nvidia-ml-py is not installed (pip install nvidia-ml-py)"
                    return
                self.nvml = pynvml
            self.nvml.nvmlInit()
            self.handles = self._handles()
        except Exception as error:  # noqa: BLE001 — no telemetry is a reason, never a failure
            self.nvml, self.handles = None, []
            self.reason = f"NVML is not usable: {type(error).__name__}: {error}"

    def _handles(self) -> list[tuple[str, object]]:
        nvml = self.nvml
        if self.source == "fake":
            return [(f"cuda:{i}", nvml.nvmlDeviceGetHandleByIndex(i)) for i in range(nvml.nvmlDeviceGetCount())]
        import torch

        index = self.device.index if self.device.index is not None else torch.cuda.current_device()
        label = f"cuda:{index}"
        uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
        if uuid is not None:
            try:
                return [(label, nvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}"))]
            except Exception:  # noqa: BLE001 — fall back to the index (right unless CUDA_VISIBLE_DEVICES reorders)
                pass
        return [(label, nvml.nvmlDeviceGetHandleByIndex(index))]

    def read(self) -> dict:
        if self.nvml is None or not self.handles:
            return {"available": False, "reason": self.reason or "NVML reports no device"}
        return {"available": True, "source": self.source,
                "devices": [self._read_device(index, label, handle) for index, (label, handle) in enumerate(self.handles)]}

    def _read_device(self, index: int, label: str, handle) -> dict:
        nvml = self.nvml
        entry: dict = {"index": index, "device": label}
        readings = {
            "name": lambda: _text(nvml.nvmlDeviceGetName(handle)),
            "utilization_percent": lambda: float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
            "memory_used_bytes": lambda: int(nvml.nvmlDeviceGetMemoryInfo(handle).used),
            "memory_total_bytes": lambda: int(nvml.nvmlDeviceGetMemoryInfo(handle).total),
            "temperature_celsius": lambda: float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
            "power_watts": lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
            "energy_joules": lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0,
        }
        for field, reading in readings.items():
            try:
                entry[field] = reading()
            except Exception:  # noqa: BLE001 — unsupported on this GPU (NVMLError_NotSupported, …): left out
                pass
        return entry


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FakeNvml:
    """TEST-ONLY stand-in for the parts of `pynvml` the reader uses, answering fixed readings. A reading that is
    null or missing raises as an unsupported NVML query does. The energy counter behaves as a real one: it starts at
    the configured value and grows at the configured power draw (mW × s = mJ) as `clock` advances."""

    NVML_TEMPERATURE_GPU = 0

    class NotSupported(Exception):
        pass

    class _Struct:
        def __init__(self, **fields):
            self.__dict__.update(fields)

    def __init__(self, readings: dict, clock=time.monotonic):
        devices = readings.get("devices") if isinstance(readings, dict) else None
        if not isinstance(devices, list):
            raise ValueError('the fake NVML file must be {"devices": [{...}, ...]}')
        self.devices = devices
        self.clock = clock
        self.started = clock()

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> dict:
        return self.devices[index]

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> dict:
        for device in self.devices:
            if device.get("uuid") == uuid:
                return device
        raise FakeNvml.NotSupported(f"no device {uuid}")

    def _get(self, handle: dict, key: str):
        value = handle.get(key)
        if value is None:
            raise FakeNvml.NotSupported(key)
        return value

    def nvmlDeviceGetName(self, handle):
        return self._get(handle, "name")

    def nvmlDeviceGetUtilizationRates(self, handle):
        return FakeNvml._Struct(gpu=self._get(handle, "utilization_percent"), memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle):
        used, total = self._get(handle, "memory_used_bytes"), self._get(handle, "memory_total_bytes")
        return FakeNvml._Struct(used=used, total=total, free=total - used)

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return self._get(handle, "temperature_celsius")

    def nvmlDeviceGetPowerUsage(self, handle):
        return self._get(handle, "power_milliwatts")

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        drawn = (handle.get("power_milliwatts") or 0) * (self.clock() - self.started)
        return self._get(handle, "energy_millijoules") + drawn
