"""Gradient averaging for `DistributedDataParallel`: parameters in buckets, one `all_reduce` per bucket.

Parameters are assigned to buckets in reverse order (roughly the order backward produces their gradients),
at most `bucket_cap_bytes` each and one dtype and device per bucket. Each parameter carries a gradient hook
(`Tensor.register_hook` on a leaf runs just before the gradient is added into `.grad`). When the hook of the
last parameter of a bucket fires, every other parameter of that bucket already has its final `.grad`; the
bucket's gradients (that last one's included, added to what it had accumulated) are copied into the
bucket's flat tensor (kept from step to step), all-reduced, divided by the world size and copied back;
backward then goes on with the earlier layers (the all-reduce blocks, it does not overlap them). Buckets
are reduced in index order on every rank, so the ranks' collectives always pair up.
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import ember
from ember import distributed as dist
from ember.tensor import Tensor

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error "
    "indicates that your module has parameters that were not used in producing loss (parameters {names}). "
    "You can enable unused parameter detection by passing the keyword argument `find_unused_parameters=True` "
    "to `ember.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
    "participate in calculating loss."
)


def assign_buckets(params: Sequence[Tensor], cap_bytes: int) -> list[list[int]]:
    """Parameter indices in buckets: reverse order, one (device, dtype) per bucket, at most `cap_bytes` each
    (a single larger parameter gets a bucket of its own)."""
    open_buckets: dict[tuple, tuple[list[int], int]] = {}
    buckets: list[list[int]] = []
    for i in reversed(range(len(params))):
        p = params[i]
        key = (p.device, p.dtype)
        size = p.numel() * p.dtype.itemsize
        members, used = open_buckets.get(key, (None, 0))
        if members is None or used + size > cap_bytes:
            members, used = [], 0
            buckets.append(members)
        members.append(i)
        open_buckets[key] = (members, used + size)
    return buckets


class Reducer:
    """Averages the gradients of `params` across `group` during backward (see the module docstring).

    Args:
        params: the parameters that require a gradient, in `module.parameters()` order.
        names: their qualified names, for error messages.
        group: the process group, or None for the default group.
        bucket_cap_bytes: the most bytes of gradients in one bucket.
        find_unused_parameters: whether `prepare` looks for parameters the output does not depend on.
    """

    def __init__(self, params: Sequence[Tensor], names: Sequence[str], group: Any, bucket_cap_bytes: int,
                 find_unused_parameters: bool) -> None:
        self.params = list(params)
        self.names = list(names)
        self.group = group
        self.world_size = dist.get_world_size(group)
        self.find_unused_parameters = find_unused_parameters
        self.buckets = assign_buckets(self.params, bucket_cap_bytes)
        self.bucket_of = {i: b for b, members in enumerate(self.buckets) for i in members}
        self.armed = False
        self.ready = [False] * len(self.params)
        self.pending = [0] * len(self.buckets)
        self.next_bucket = len(self.buckets)
        self.globally_unused: set[int] = set()
        self.flats: dict[int, Tensor] = {}  # bucket -> its flat gradient buffer, kept: MPI is slower on new memory
        self.collectives = 0  # all_reduce calls made for gradients, for tests and benchmarks
        ref = weakref.ref(self)
        for i, p in enumerate(self.params):
            p.register_hook(_make_hook(ref, i))

    def prepare(self, outputs: Any) -> None:
        """Expect one backward from `outputs` (the wrapped module's forward result) and sync its gradients."""
        if self.armed:
            missing = [self.names[i] for i, r in enumerate(self.ready) if not r]
            raise RuntimeError(_UNFINISHED.format(names=", ".join(missing)))
        self.ready = [False] * len(self.params)
        self.pending = [len(b) for b in self.buckets]
        self.next_bucket = 0
        self.armed = True
        self.globally_unused = set()
        if self.find_unused_parameters:
            used = _reachable_leaves(outputs)
            unused = [i for i, p in enumerate(self.params) if id(p) not in used]
            flags = ember.tensor([int(id(p) not in used) for p in self.params], dtype=ember.int32)
            dist.all_reduce(flags, op=dist.ReduceOp.MIN, group=self.group)
            self.globally_unused = {i for i, f in enumerate(flags.tolist()) if f}
            for i in unused:
                self._mark_ready(i, None)

    def on_gradient(self, index: int, grad: Tensor) -> Tensor | None:
        """Parameter `index`'s gradient `grad` is about to be added into its `.grad`; returns its replacement
        (the averaged gradient, after which `.grad` is reset) when its bucket was reduced now."""
        if not self.armed:
            return None
        if self.ready[index]:
            raise RuntimeError(f"Expected to mark a variable ready only once: parameter {self.names[index]} got a "
                               f"second gradient in one iteration (a second backward through the same graph, or "
                               f"an unused parameter marked ready by find_unused_parameters=True)")
        p = self.params[index]
        total = grad if p.grad is None else p.grad + grad
        return self._mark_ready(index, total)

    def _mark_ready(self, index: int, total: Tensor | None) -> Tensor | None:
        self.ready[index] = True
        self.pending[self.bucket_of[index]] -= 1
        replacement = None
        while self.next_bucket < len(self.buckets) and not self.pending[self.next_bucket]:
            result = self._reduce(self.next_bucket, index, total)
            replacement = result if result is not None else replacement
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self.armed = False
        return replacement

    def _reduce(self, bucket: int, current: int, current_total: Tensor | None) -> Tensor | None:
        """All-reduce one bucket; returns the averaged gradient of parameter `current` when it is a member."""
        members = self.buckets[bucket]
        with ember.no_grad():
            flat = self.flats.get(bucket)
            if flat is None:
                first = self.params[members[0]]
                flat = self.flats[bucket] = ember.empty(sum(self.params[i].numel() for i in members),
                                                        dtype=first.dtype, device=first.device)
            offset = 0
            for i in members:
                p = self.params[i]
                n = p.numel()
                g = current_total if i == current and current_total is not None else p.grad
                flat[offset:offset + n] = 0 if g is None else g.reshape(-1)
                offset += n
            dist.all_reduce(flat, group=self.group)
            self.collectives += 1
            if self.world_size > 1:
                flat.div_(self.world_size)
            replacement = None
            offset = 0
            for i in members:
                p = self.params[i]
                n = p.numel()
                averaged = flat[offset:offset + n].view(p.shape)
                offset += n
                if i in self.globally_unused:
                    continue
                if i == current and current_total is not None:
                    p.grad = None  # the engine stores the returned replacement as the new .grad
                    replacement = averaged
                elif p.grad is None:
                    p.grad = averaged.clone()
                else:
                    p.grad.copy_(averaged)
        return replacement


def _make_hook(ref: weakref.ref, index: int):
    def hook(grad: Tensor) -> Tensor | None:
        reducer = ref()
        return reducer.on_gradient(index, grad) if reducer is not None else None
    return hook


def _reachable_leaves(outputs: Any) -> set[int]:
    """The ids of the leaf tensors that the autograd graph of `outputs` (tensors in any nesting) reaches."""
    stack, seen, leaves = [], set(), set()
    pending = [outputs]
    while pending:
        obj = pending.pop()
        if isinstance(obj, Tensor):
            if obj.grad_fn is not None:
                stack.append(obj.grad_fn)
            elif obj.requires_grad:
                leaves.add(id(obj))
        elif isinstance(obj, (list, tuple)):
            pending.extend(obj)
        elif isinstance(obj, dict):
            pending.extend(obj.values())
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        for edge in node.next_edges or ():
            if edge is not None:
                stack.append(edge[0])
    return leaves
