"""Graph nodes. An `Op` is one differentiable operation: `forward` (native arrays out) and
`backward` (tensor ops, so gradients are differentiable again) stand side by side, with an optional
`backward_arrays` (the same first-order gradient on native arrays, which the engine prefers when it
records no graph of the backward)."""
from __future__ import annotations

import re
import threading
import weakref

from .._tensor_base import Tensor, _wrap
from .grad_mode import state as _grad_state

_new = object.__new__  # a node without the `__init__` call (Op defines none): the per-op hot path


class Node:
    """A recorded operation: maps gradients of its outputs to gradients of its inputs.

    `next_edges[i]` is `(node, output_nr)` for the i-th input that needs a gradient, else None.
    """

    next_edges: tuple = ()
    needs_input_grad: tuple = ()
    n_outputs = 1
    _saved = None
    _saved_versions = None
    _out = None
    _released = False
    _pre_hooks = None  # {output_nr: [hook, ...]}: Tensor.register_hook / retain_grad on non-leaves
    #: the first-order backward of an `Op` on native arrays, `backward_arrays(self, grad_array)`: one array (or
    #: None) per input, or None to fall back to `backward`; the engine calls it when no graph is being created
    backward_arrays = None

    #: the op name in `grad_fn` reprs when it differs from the class name (PyTorch's: "Mul" for MulScalar)
    op_name: str | None = None
    #: held around every read-modify-write of the `.grad` of a tensor this node produces (`retain_grad`,
    #: `backward(inputs=...)`), so concurrent backward passes lose nothing; one lock serves all non-leaf
    #: nodes, and each `AccumulateGrad` has its own
    grad_lock = threading.Lock()

    def name(self) -> str:
        """The node's name, as PyTorch's (e.g. `AddBackward0`)."""
        return f"{self.op_name or type(self).__name__}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of the edges, `(node, output_nr)` or `(None, 0)` per input."""
        return tuple(e if e is not None else (None, 0) for e in self.next_edges)

    def save_for_backward(self, *tensors) -> None:
        """Keep `tensors` (or None) for backward; in-place changes before backward are detected."""
        self._saved = tensors
        versions = []  # a loop: faster than a comprehension for the one to three tensors ops save
        for t in tensors:
            versions.append(0 if t is None else t._version[0])
        self._saved_versions = versions

    @property
    def saved_tensors(self) -> tuple:
        """The tensors saved for backward; RuntimeError once a backward pass has freed them."""
        saved = self._saved
        if saved is None:
            if self._released:
                raise RuntimeError(
                    f"{self.name()}: trying to backward through the graph a second time (or to access saved "
                    "tensors after they were freed). Saved values are freed after .backward() or "
                    "autograd.grad(); pass retain_graph=True the first time to backward twice.")
            return ()
        for t, v in zip(saved, self._saved_versions):
            if t is not None and t._version[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype.name} {list(t.shape)}], which is output 0 of "
                    f"{t.grad_fn.name() if t.grad_fn is not None else 'a leaf'}, is at version {t._version[0]}; "
                    f"expected version {v} instead. {self.name()} needs its original value: use an "
                    f"out-of-place op (x = x + y instead of x += y) or .clone() before changing it.")
        return saved

    def saved_output_array(self):
        """The op's output as a native array, checked as unchanged since forward."""
        out = self._out
        if out is None:
            self.saved_tensors  # raises the freed-graph error
            raise RuntimeError(f"{self.name()}: the output was not saved")
        data, _, _, version, expected = out
        if version[0] != expected:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: the output of {self.name()} is at version {version[0]}; expected version "
                f"{expected} instead. Use an out-of-place op or .clone() the output before changing it.")
        return data

    def saved_output(self):
        """The op's output, as a tensor whose grad_fn is this node (for higher-order gradients)."""
        data = self.saved_output_array()
        _, bk, device, version, _ = self._out
        t = _wrap(data, bk, device)
        t._version = version
        t._grad_fn = self
        t._rg = True
        return t

    def release(self) -> None:
        """Free what was saved for backward (called after backward unless retain_graph)."""
        self._saved = None
        self._out = None
        self._released = True

    def backward(self, *grads):
        """Return one gradient (tensor or None) per input, given one gradient per output."""
        raise RuntimeError(f"{self.name()} is not differentiable")

    def grad_place(self, nr: int) -> tuple:
        """`(backend, device)` of the gradient of output `nr` (that output's own)."""
        return self.bk, self.device


class Op(Node):
    """Base of ember's built-in differentiable ops.

    Subclasses define `forward(self, *inputs, **params)`, which gets Tensors (or Python scalars
    where the op allows them), may call `self.save_for_backward`, and returns a native array
    computed with `self.bk` (the inputs' backend; an op that moves data sets `self.bk` and
    `self.device` to the output's); `self.needs_input_grad` is empty when no
    graph is recorded, so forward can skip saving. And
    `backward(self, grad)`, which returns a tuple with one gradient per input, computed with
    tensor ops. `save_output = True` keeps the output for `saved_output()`.

    An op may also define `backward_arrays(self, grad_array)`: the same first-order gradient computed
    on native arrays with `self.bk` (one array or None per input, or None to defer to `backward`). The
    engine calls it instead of `backward` when no graph of the backward is recorded (`create_graph=False`);
    `backward` stays the one differentiable formula, and the kit checks the two agree for every op.
    """

    save_output = False
    #: True when the output always has the dtype of the first tensor input (skips asking the backend)
    keeps_dtype = False

    @classmethod
    def apply(cls, *inputs, **params):
        node = _new(cls)
        src = inputs[0]
        if not isinstance(src, Tensor):
            src = _first_tensor(cls, inputs)
        node.bk = src._bk
        node.device = src._device
        edges = None
        if _grad_state.enabled:
            # one pass: which inputs need a gradient, and the graph edge of each that does
            needs, edges = [], []
            record = False
            for t in inputs:
                if isinstance(t, Tensor) and t._rg:
                    fn = t._grad_fn
                    edges.append((fn, t._output_nr) if fn is not None else t._leaf_edge or leaf_edge(t))
                    needs.append(True)
                    record = True
                else:
                    edges.append(None)
                    needs.append(False)
            if record:
                node.needs_input_grad = needs
            else:
                edges = None
        try:
            data = node.forward(*inputs, **params)
        except (ValueError, TypeError, IndexError) as exc:
            raise node.error(inputs, exc) from exc
        bk = node.bk  # forward may have changed it (an op that moves data)
        out = _new(Tensor)  # _wrap, inline
        out._data = data
        out._bk = bk
        out._device = node.device
        out._dtype = src._dtype if cls.keeps_dtype else bk.dtype_of(data)
        out._version = version = [0]
        if edges is not None:
            node.next_edges = edges
            out._grad_fn = node
            out._rg = True
            if cls.save_output:
                node._out = (data, bk, node.device, version, 0)
        return out

    def error(self, inputs, exc: Exception) -> Exception:
        """The exception to raise when the backend rejects the inputs; names the op and the shapes
        (PyTorch's "The size of tensor a ... at non-singleton dimension" when they do not broadcast)."""
        shapes = ", ".join(str(tuple(t.shape)) if isinstance(t, Tensor) else repr(t) for t in inputs)
        mismatch = broadcast_mismatch([t._data.shape for t in inputs if isinstance(t, Tensor)])
        return RuntimeError(f"{_public_name(type(self))}: {mismatch or exc} (inputs: {shapes})")


def broadcast_mismatch(shapes) -> str | None:
    """PyTorch's text for the first pair of `shapes` (folded left to right) that does not broadcast, naming
    the sizes and the non-singleton dimension; None when they all broadcast. For error paths only."""
    result = ()
    for shape in shapes:
        n = max(len(result), len(shape))
        a, b = (1,) * (n - len(result)) + tuple(result), (1,) * (n - len(shape)) + tuple(shape)
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                return (f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at non-singleton "
                        f"dimension {i}")
        result = tuple(y if x == 1 else x for x, y in zip(a, b))
    return None


def _public_name(cls) -> str:
    """The op's name as users call it: `BinaryCrossEntropy` -> `binary_cross_entropy`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.op_name or cls.__name__).lower()


def _first_tensor(cls, inputs: tuple):
    """The first Tensor among `inputs`; PyTorch's TypeError naming the op when there is none."""
    for t in inputs:
        if isinstance(t, Tensor):
            return t
    raise TypeError(f"{_public_name(cls)}(): argument 'input' (position 1) must be Tensor, not "
                    f"{type(inputs[0]).__name__}")


class AccumulateGrad(Node):
    """The graph's end for a leaf tensor: adds the incoming gradient into `variable.grad`.

    A leaf keeps one node, shared by every graph it takes part in; the node refers back to the
    leaf weakly (no reference cycle), so a leaf that nothing else holds gets no gradient. Its
    `grad_lock` makes the read-modify-write of `.grad` atomic when several threads run backward
    into the same leaf (Hogwild-style training), as PyTorch guarantees.
    """

    def __init__(self, variable) -> None:
        self._variable = weakref.ref(variable)
        self.grad_lock = threading.Lock()

    @property
    def variable(self):
        """The leaf tensor (None once it has been freed)."""
        return self._variable()

    def name(self) -> str:
        return "AccumulateGrad"

    def grad_place(self, nr: int) -> tuple:
        """`(backend, device)` of the leaf's gradient (the leaf's own)."""
        t = self._variable()
        return t._bk, t._device

    def accumulate(self, grad) -> None:
        """Add `grad` (a tensor carrying its own graph: `create_graph=True`) to the leaf's `.grad`, after its hooks."""
        t = self._variable()
        if t is None:
            return
        for hook in t._hooks or ():
            result = hook(grad)
            if result is not None:
                grad = result
        with self.grad_lock:
            t._grad = grad if t._grad is None else t._grad + grad

    def accumulate_array(self, grad, stolen: set) -> None:
        """`accumulate` for the first-order walk, where `grad` is a native array (see the engine)."""
        t = self._variable()
        if t is None:
            return
        bk, device = t._bk, t._device
        if t._hooks:
            for hook in t._hooks:
                result = hook(_wrap(grad, bk, device))
                if result is not None:
                    grad = result._data
            stolen.add(id(grad))
        with self.grad_lock:
            current = t._grad
            if current is None:
                if id(grad) in stolen or not bk.owns_memory(grad):
                    grad = bk.copy(grad)
                else:
                    stolen.add(id(grad))
                t._grad = _wrap(grad, bk, device)
            elif current._rg:
                t._grad = current + _wrap(grad, bk, device)
            else:
                current._bk.add(current._data, grad, out=current._data)


_leaf_edge_lock = threading.Lock()


def leaf_edge(tensor) -> tuple:
    """The graph edge `(AccumulateGrad node, 0)` of a leaf tensor, made on first use and kept by the tensor.

    Made under a lock: two threads must never give one leaf two nodes (and so two `.grad` locks).
    """
    edge = tensor._leaf_edge
    if edge is None:
        with _leaf_edge_lock:
            edge = tensor._leaf_edge
            if edge is None:
                edge = tensor._leaf_edge = (AccumulateGrad(tensor), 0)
    return edge

