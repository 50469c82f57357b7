"""`DistributedDataParallel`: one model replica per process, gradients averaged across processes in backward."""
from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import ember
from ember import distributed as dist
from ember.tensor import Tensor

from ..modules.module import Module
from .reducer import Reducer

_UNSUPPORTED = ("delay_all_reduce_named_params", "param_to_hook_all_reduce", "mixed_precision", "device_mesh")


class DistributedDataParallel(Module):
    """Data parallelism across processes: every process holds a replica of `module` and trains it on its own
    part of each batch; backward averages the gradients over the process group, so after `optimizer.step()`
    the replicas stay identical.

    At construction the parameters and buffers of the group's rank 0 are broadcast to every rank. During
    backward the gradients are averaged bucket by bucket (`bucket_cap_mb` of gradients per `all_reduce`, so a
    model with hundreds of parameters makes a handful of collectives). With a mean loss, each of N ranks
    training on 1/N of a batch takes the same step as one process on the whole batch. `no_sync()` skips the
    averaging for gradient accumulation; `module` is the wrapped model, and `state_dict()` keys start with
    `module.` as in PyTorch.

    Args:
        module: the model to replicate.
        device_ids: None (CPU), or a list with the one device the module is on.
        output_device: accepted for PyTorch compatibility; the output stays where the module puts it.
        dim: accepted for PyTorch compatibility (ember runs one device per process and never splits inputs).
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm statistics) to every rank at the start of each
            forward that will be followed by a synchronised backward (grad enabled, outside `no_sync()`).
        init_sync: broadcast rank 0's parameters and buffers at construction.
        process_group: the group to average over (default: the default group).
        bucket_cap_mb: the most megabytes of gradients per bucket (default 25).
        find_unused_parameters: look, after each forward, for parameters the output does not depend on and
            count them as ready; without it such a parameter makes the next forward raise.
        check_reduction: ignored, as in PyTorch (deprecated there).
        gradient_as_bucket_view: accepted; gradients are copied out of the buckets either way.
        static_graph: accepted; the reducer handles a static graph without the hint.

    A forward under `ember.no_grad()` makes no collective, so evaluating on one rank alone is safe.
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, init_sync: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params: Any = None, param_to_hook_all_reduce: Any = None,
                 mixed_precision: Any = None, device_mesh: Any = None) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an ember.nn.Module, not {type(module).__name__}")
        given = {"delay_all_reduce_named_params": delay_all_reduce_named_params,
                 "param_to_hook_all_reduce": param_to_hook_all_reduce, "mixed_precision": mixed_precision,
                 "device_mesh": device_mesh}
        for name in _UNSUPPORTED:
            if given[name] is not None:
                raise ValueError(f"DistributedDataParallel: {name}= is not supported by ember (pass None)")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        _check_device_ids(device_ids, [p for _, p in named])
        cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if not cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = process_group
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_bytes_cap = int(cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        dist.get_world_size(process_group)  # ValueError (PyTorch's message) before init_process_group
        _check_same_parameters_everywhere(module, process_group)
        if init_sync:
            _broadcast_coalesced(list(module.parameters()) + list(module.buffers()), process_group)
        self.reducer = Reducer([p for _, p in named], [n for n, _ in named], process_group, self.bucket_bytes_cap,
                               find_unused_parameters)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """The wrapped module's forward; with grad enabled (outside `no_sync()`) it also prepares the gradient
        averaging of the backward that follows."""
        sync = ember.is_grad_enabled() and self.require_backward_grad_sync
        if sync and self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, self.process_group)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.reducer.prepare(output)
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context backward only accumulates gradients locally; the first synchronised backward
        after it averages the accumulated gradients.

        Example::

            with ddp.no_sync():
                ddp(x1).sum().backward()    # no communication
            ddp(x2).sum().backward()        # averages the sum of both gradients
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _check_device_ids(device_ids: Sequence[Any] | None, params: list[Tensor]) -> None:
    if device_ids is None:
        return
    ids = list(device_ids)
    devices = {p.device for p in params}
    if len(ids) != 1 or len(devices) != 1:
        raise ValueError(f"DistributedDataParallel: device_ids must be None or hold the one device the module is on "
                         f"(one device per process), got {ids} for a module on {sorted(map(str, devices))}")
    wanted = ember.device(f"cuda:{ids[0]}" if isinstance(ids[0], int) else ids[0])
    if wanted != next(iter(devices)):
        raise ValueError(f"DistributedDataParallel: device_ids={ids} but the module is on {next(iter(devices))}; "
                         f"move it there first (module.to(device))")


def _check_same_parameters_everywhere(module: Module, group: Any) -> None:
    """RuntimeError on every rank when the ranks' modules differ in parameter names, shapes or dtypes."""
    layout = ";".join(f"{n}:{list(p.shape)}:{p.dtype}" for n, p in module.named_parameters())
    digest = ember.tensor([zlib.crc32(layout.encode())], dtype=ember.int64)
    digests = [ember.zeros(1, dtype=ember.int64) for _ in range(dist.get_world_size(group))]
    dist.all_gather(digests, digest, group=group)
    differing = [r for r, d in enumerate(digests) if d.item() != digests[0].item()]
    if differing:
        raise RuntimeError(f"DistributedDataParallel: the module's parameters (names, shapes or dtypes) on group "
                           f"rank(s) {differing} differ from rank 0's; every rank must build the same model")


def _broadcast_coalesced(tensors: list[Tensor], group: Any) -> None:
    """Broadcast `tensors` from the group's rank 0, one flat collective per (device, dtype)."""
    by_kind: dict[tuple, list[Tensor]] = {}
    for t in tensors:
        by_kind.setdefault((t.device, t.dtype), []).append(t)
    with ember.no_grad():
        for same in by_kind.values():
            flat = ember.cat([t.reshape(-1) for t in same])
            dist.broadcast(flat, group=group, group_src=0)
            offset = 0
            for t in same:
                n = t.numel()
                t.copy_(flat[offset:offset + n].view(t.shape))
                offset += n
