"""Expert weights kept on the host and streamed to the device block by block (docs/engine-protocol.md, load/unload).

`StreamedWeights` holds one expert: a host copy, made once, and at most one device copy. Its guarantees:

- Host copy. It is the module given to the constructor (on CUDA its tensors are moved to pinned memory when that is
  possible) and lives as long as the object. `unload` frees only the device copy; the next `load` copies from the
  host copy again, never from disk.
- Ordering. A load first allocates the whole device copy (so running out of memory is reported by `load` itself),
  then copies group 0 (every tensor outside `module.blocks`: patch embedding, condition embedders, norms, proj_out,
  rope buffers) and then each block, in order, one event per group. All copies of a device go through one channel
  (a CUDA side stream, or elsewhere one copier thread), so loads also complete in the order they were started.
  `load` returns once the copy has been started.
- Waiting. The device module's own forward pre-hook waits for group 0 and each block's pre-hook for that block's
  group only, so a forward runs under the copy. On CUDA the wait is `current_stream().wait_event` (the host does not
  block); elsewhere it is `threading.Event.wait`. A hook removes itself after its first successful wait.
- Thread-safety. The methods, and the forwards of the device module, are for one thread at a time (the engine's).
  The copier thread touches only the tensors of the transfer it runs, and publishes a transfer's error before it
  sets any remaining event.
- Lifetimes. The device copy lives from `load` to `unload`, or until a failed copy is reported. Both first wait for
  the copy to finish, so nothing is ever copied into freed memory. Host tensors outlive every copy from them.
- Errors. An exception in a copy stops it, is kept, and every remaining event is set, so no one waits forever. The
  next use (`module()`, a forward that reaches a hook, or `load`) raises it once as an `EngineError`
  (`out_of_memory` for device OOM, otherwise `internal`) and drops the device copy; the next `load` starts again
  from the host copy. `unload` of a failed copy frees it without raising and logs the error to stderr.
"""

from __future__ import annotations

import copy
import queue
import sys
import threading
import traceback

import torch

from .errors import EngineError, is_out_of_memory, out_of_memory


def copy_group(index: int, pairs: list[tuple[torch.Tensor, torch.Tensor]], non_blocking: bool) -> None:
    """Copies one group's host tensors into its device tensors (the hook point tests patch to gate or fail a copy)."""
    for device_tensor, host_tensor in pairs:
        device_tensor.copy_(host_tensor, non_blocking=non_blocking)


class StreamedWeights:
    """One expert's host copy and its device copy, streamed in by `load` (see the module docstring)."""

    def __init__(self, host: torch.nn.Module, device: torch.device, name: str):
        self.host = host
        self.device = device
        self.name = name
        self._channel = _channel(device)
        self._module: torch.nn.Module | None = None
        self._transfer: _Transfer | None = None
        if device.type == "cuda":
            _pin(host)

    @property
    def resident(self) -> bool:
        return self._module is not None

    @property
    def streaming(self) -> bool:
        """True while blocks are still arriving."""
        return self._transfer is not None and not self._transfer.done

    def module(self, wait: bool = False) -> torch.nn.Module | None:
        """The device copy, or None if not loaded; raises a failed copy's error (once). Without `wait` its blocks may
        still be arriving (a forward waits for each through its hooks); with `wait` the copy has finished, so the
        tensors can be read directly."""
        if wait:
            self.finish()
        if self._transfer is not None and self._transfer.error is not None:
            self._fail(self._transfer)
        return self._module

    def load(self) -> None:
        """Allocates the device copy and starts streaming into it; a no-op when already loaded."""
        if self.module() is not None:
            return
        try:
            module = _empty_copy(self.host, self.device)
        except Exception as error:  # noqa: BLE001 — device OOM is mapped; anything else passes unchanged
            if not is_out_of_memory(error):
                raise
            raise out_of_memory(f"loading {self.name}", "unload another expert first (or lower model_cache.max_resident)", error) from None
        device_tensors, host_tensors = _tensors(module), _tensors(self.host)
        groups = [[(device_tensors[name], host_tensors[name]) for name in names] for names in _group_names(module)]
        transfer = _Transfer(self._channel, groups)
        blocks = list(module.blocks) if _has_blocks(module) else []
        for group, target in enumerate([module, *blocks]):
            _wait_then_remove(target, lambda group=group: self._wait(transfer, group))
        self._channel.submit(transfer.run)
        self._module, self._transfer = module, transfer

    def unload(self) -> None:
        """Waits for a copy still under way, then frees the device copy. The host copy stays."""
        transfer = self._transfer
        self._drop()
        if transfer is not None and transfer.error is not None:
            print(f"turboserve: unloaded {self.name}, whose copy to {self.device} had failed: {transfer.error!r}", file=sys.stderr)

    def finish(self) -> None:
        """Blocks until the copy under way (if any) has finished or failed. Does not raise."""
        if self._transfer is not None:
            self._transfer.finish()

    def _wait(self, transfer: _Transfer, group: int) -> None:
        transfer.wait(group)
        if transfer.error is not None:
            self._fail(transfer)

    def _fail(self, transfer: _Transfer):
        error = transfer.error
        if self._transfer is transfer:
            self._drop()
        if isinstance(error, EngineError):
            raise error
        if is_out_of_memory(error):
            raise out_of_memory(f"copying {self.name} to {self.device}", "unload another expert first (or lower model_cache.max_resident)", error) from None
        raise EngineError("internal", f"copying {self.name} to {self.device} failed: {type(error).__name__}: {error}") from error

    def _drop(self) -> None:
        if self._transfer is not None:
            self._transfer.finish()
        self._module, self._transfer = None, None


class _Transfer:
    """One load's copy: groups of (device tensor, host tensor) pairs and one event per group."""

    def __init__(self, channel, groups: list[list[tuple[torch.Tensor, torch.Tensor]]]):
        self.channel = channel
        self.groups = groups
        self.events = [channel.event() for _ in groups]
        self.error: BaseException | None = None

    def run(self) -> None:
        """Runs on the channel: the copier thread, or on CUDA the caller under the side stream."""
        copied = 0
        try:
            with torch.no_grad():
                for index, pairs in enumerate(self.groups):
                    copy_group(index, pairs, self.channel.non_blocking)
                    self.channel.record(self.events[index])
                    copied += 1
        except BaseException as error:  # noqa: BLE001 — kept and raised on the engine thread at the next use
            traceback.print_exc(file=sys.stderr)
            self.error = error.with_traceback(None)  # a kept traceback would keep this copy's device tensors alive
        finally:
            for event in self.events[copied:]:
                self.channel.record(event)
            self.groups = None  # the transfer no longer holds the device tensors

    def wait(self, group: int) -> None:
        self.channel.wait(self.events[group])

    def finish(self) -> None:
        self.channel.synchronize(self.events[-1])

    @property
    def done(self) -> bool:
        return self.channel.query(self.events[-1])


class _ThreadChannel:
    """The side stream off CUDA: one daemon thread runs the submitted transfers in order; events are threading ones."""

    non_blocking = False

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="turboserve-copier", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            job()  # a transfer's run never raises
            del job

    def submit(self, job) -> None:
        self._jobs.put(job)

    @staticmethod
    def event() -> threading.Event:
        return threading.Event()

    @staticmethod
    def record(event: threading.Event) -> None:
        event.set()

    @staticmethod
    def wait(event: threading.Event) -> None:
        event.wait()

    synchronize = wait

    @staticmethod
    def query(event: threading.Event) -> bool:
        return event.is_set()


class _CudaChannel:
    """A `torch.cuda.Stream` beside the compute stream: copies from pinned memory are issued without blocking the
    host, each group records a `torch.cuda.Event`, and compute waits on the device for the events it needs."""

    non_blocking = True

    def __init__(self, device: torch.device):
        self.device = device
        self.stream = torch.cuda.Stream(device)

    def submit(self, job) -> None:
        # Fresh allocations may reuse memory that work already queued on the compute stream still reads.
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            job()

    @staticmethod
    def event() -> torch.cuda.Event:
        return torch.cuda.Event()

    def record(self, event: torch.cuda.Event) -> None:
        event.record(self.stream)

    def wait(self, event: torch.cuda.Event) -> None:
        torch.cuda.current_stream(self.device).wait_event(event)

    @staticmethod
    def synchronize(event: torch.cuda.Event) -> None:
        event.synchronize()

    @staticmethod
    def query(event: torch.cuda.Event) -> bool:
        return event.query()


_channels: dict[str, _ThreadChannel | _CudaChannel] = {}
_channels_lock = threading.Lock()


def _channel(device: torch.device):
    """The one copy channel of a device, made on first use."""
    with _channels_lock:
        key = str(device)
        if key not in _channels:
            _channels[key] = _CudaChannel(device) if device.type == "cuda" else _ThreadChannel()
        return _channels[key]


def _has_blocks(module: torch.nn.Module) -> bool:
    return isinstance(getattr(module, "blocks", None), torch.nn.ModuleList)


def _tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def _group_names(module: torch.nn.Module) -> list[list[str]]:
    """Tensor names per group: group 0 is everything outside `blocks`, group i + 1 is `blocks.i`."""
    groups: list[list[str]] = [[] for _ in range(1 + (len(module.blocks) if _has_blocks(module) else 0))]
    for name in _tensors(module):
        parts = name.split(".")
        groups[int(parts[1]) + 1 if len(groups) > 1 and parts[0] == "blocks" else 0].append(name)
    return groups


def _empty_copy(host: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """A copy of `host` with uninitialised tensors on `device`, made without copying any data."""
    memo: dict = {}
    for tensor in host.parameters():
        memo[id(tensor)] = torch.nn.Parameter(torch.empty_like(tensor, device="meta"), requires_grad=tensor.requires_grad)
    for tensor in host.buffers():
        memo[id(tensor)] = torch.empty_like(tensor, device="meta")
    return copy.deepcopy(host, memo).to_empty(device=device)


def _pin(module: torch.nn.Module) -> None:
    """Moves the module's tensors to pinned host memory, so device copies can run asynchronously; keeps them
    pageable where pinning is not possible (the copies are then synchronous, still correct)."""
    try:
        for tensor in [*module.parameters(), *module.buffers()]:
            tensor.data = tensor.data.pin_memory()
    except RuntimeError as error:
        print(f"turboserve: host copy stays in pageable memory ({error})", file=sys.stderr)


def _wait_then_remove(target: torch.nn.Module, wait) -> None:
    """A forward pre-hook on `target` that calls `wait()` and removes itself once that has returned."""
    handle = None

    def hook(_module, _args):
        wait()
        handle.remove()

    handle = target.register_forward_pre_hook(hook)
