"""Recurrent layers as in `torch.nn`: `RNN`, `LSTM`, `GRU` and the one-step cells `RNNCell`, `LSTMCell`, `GRUCell`.

Parameters carry PyTorch's names, shapes and gate order (LSTM: i, f, g, o; GRU: r, z, n), so
state dicts move between the two frameworks unchanged. A layer computes the input projection of all
time steps in one matrix product per layer and direction; only the hidden-state product and the
gate arithmetic run once per time step.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ...arguments import int_arg
from ...creation import arange, empty, zeros
from ...ops.elementwise import where
from ...ops.shape import cat, stack
from ...tensor import Tensor
from .. import functional as F, init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pad_packed_sequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- one time step of each cell (gate pre-activations in, new state out) -------------------------
def _lstm_pointwise(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """(h', c') from the summed pre-activations (N, 4H) in PyTorch's order i, f, g, o, and c (N, H)."""
    i, f, g, o = gates.unflatten(-1, (4, -1)).unbind(-2)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _gru_pointwise(gi: Tensor, gh: Tensor, h: Tensor) -> Tensor:
    """h' from the input part gi = W_i x + b_i and hidden part gh = W_h h + b_h (each (N, 3H), order r, z, n):
    r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r * gh_n), h' = (1 - z) * n + z * h."""
    i_r, i_z, i_n = gi.unflatten(-1, (3, -1)).unbind(-2)
    h_r, h_z, h_n = gh.unflatten(-1, (3, -1)).unbind(-2)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)


def _rnn_activation(mode: str):
    return Tensor.tanh if mode == "RNN_TANH" else Tensor.relu


class RNNBase(Module):
    """The multi-layer recurrent network behind `RNN`, `LSTM` and `GRU` (`mode` names the cell:
    "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"). See those classes for the arguments and shapes."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        name = type(self).__name__
        input_size = int_arg(input_size, name, "input_size")
        hidden_size = int_arg(hidden_size, name, "hidden_size")
        num_layers = int_arg(num_layers, name, "num_layers")
        proj_size = int_arg(proj_size, name, "proj_size")
        if hidden_size <= 0:
            raise ValueError(f"hidden_size must be greater than zero, got {hidden_size}")
        if num_layers <= 0:
            raise ValueError(f"num_layers must be greater than zero, got {num_layers}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"proj_size argument is only supported for LSTM, not RNN or GRU (mode {mode})")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for prefix, shape in shapes:
                    setattr(self, prefix + suffix, Parameter(empty(shape, device=device, dtype=dtype)))
                    names.append(prefix + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Kept for PyTorch compatibility: ember keeps no fused weight buffer (cuDNN's), so there is nothing
        to compact."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- forward ------------------------------------------------------------------------------
    def forward(self, input: Tensor, hx=None):
        """(output, h_n) for RNN and GRU, (output, (h_n, c_n)) for LSTM; see the subclasses. A PackedSequence
        input gives a PackedSequence output, and final states taken at each sequence's last step."""
        name = type(self).__name__
        packed, masks = isinstance(input, PackedSequence), None
        if packed:
            batch_sizes, sorted_indices, unsorted_indices = input.batch_sizes, input.sorted_indices, \
                input.unsorted_indices
            input = pad_packed_sequence(PackedSequence(input.data, batch_sizes))[0]
            rows = arange(input.shape[1], device=input.device)
            masks = [(rows < b).unsqueeze(1) for b in batch_sizes.tolist()]
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
        batched = input.ndim == 3
        lstm = self.mode == "LSTM"
        states = (hx if lstm else (hx,)) if hx is not None else None
        if states is not None:
            for s in states:
                if s.ndim != input.ndim:
                    raise RuntimeError(f"{name}: for {'batched 3' if batched else 'unbatched 2'}-D input, hx should "
                                       f"also be {input.ndim}-D but got {s.ndim}-D tensor")
        if not batched:
            input = input.unsqueeze(1)
            states = None if states is None else tuple(s.unsqueeze(1) for s in states)
        elif packed:
            if states is not None and sorted_indices is not None:
                states = tuple(s.index_select(1, sorted_indices) for s in states)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")
        if input.shape[0] == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
        num_directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        expected = [(self.num_layers * num_directions, batch, real_hidden)]
        if lstm:
            expected.append((self.num_layers * num_directions, batch, self.hidden_size))
        if states is None:
            states = tuple(zeros(shape, dtype=input.dtype, device=input.device) for shape in expected)
        else:
            for k, (s, shape) in enumerate(zip(states, expected)):
                if tuple(s.shape) != shape:
                    which = f"hidden[{k}]" if lstm else "hidden"
                    raise RuntimeError(f"{name}: Expected {which} size {shape}, got {tuple(s.shape)}")
        output, finals = self._run(input, [s.unbind(0) for s in states], masks)
        if packed:
            output = PackedSequence(cat([output[t, :b] for t, b in enumerate(batch_sizes.tolist())], 0),
                                    batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                finals = [f.index_select(1, unsorted_indices) for f in finals]
        elif not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (finals[0], finals[1])) if lstm else (output, finals[0])

    def _run(self, x: Tensor, states: list, masks: list | None = None) -> tuple[Tensor, list[Tensor]]:
        """All layers over the time-major input x (L, N, H_in); `states[k][i]` is the initial state k
        (h, then c for LSTM) of layer/direction i; `masks[t]` (N, 1), for packed input, marks the sequences
        active at step t (the others keep their state). Returns the last layer's output and the final states."""
        num_directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                i = layer * num_directions + direction
                weights = [getattr(self, n) for n in self._all_weights[i]]
                out, last = self._direction(x, [s[i] for s in states], weights, direction == 1, masks)
                outs.append(out)
                for k, s in enumerate(last):
                    finals[k].append(s)
            x = outs[0] if num_directions == 1 else cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, [stack(f) for f in finals]

    def _direction(self, x: Tensor, state: list, weights: list, reverse: bool,
                   masks: list | None = None) -> tuple[Tensor, list[Tensor]]:
        """One layer in one direction: the input projection of every step in one product, then the loop."""
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        gru = self.mode == "GRU"
        if gru or b_ih is None:
            gi = F.linear(x, w_ih, b_ih)
        else:
            gi = F.linear(x, w_ih, b_ih + b_hh)  # RNN and LSTM add both biases to the same sum: add them once
        w_hh_t = w_hh.mT
        w_hr_t = None if w_hr is None else w_hr.mT
        steps = gi.unbind(0)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        outs: list = [None] * len(steps)
        h = state[0]
        if self.mode == "LSTM":
            c = state[1]
            for t in order:
                h_new, c_new = _lstm_pointwise(steps[t] + h @ w_hh_t, c)
                if w_hr_t is not None:
                    h_new = h_new @ w_hr_t
                if masks is None:
                    h, c = h_new, c_new
                else:
                    h, c = where(masks[t], h_new, h), where(masks[t], c_new, c)
                outs[t] = h
            last = [h, c]
        elif gru:
            for t in order:
                gh = h @ w_hh_t
                h_new = _gru_pointwise(steps[t], gh if b_hh is None else gh + b_hh, h)
                h = h_new if masks is None else where(masks[t], h_new, h)
                outs[t] = h
            last = [h]
        else:
            act = _rnn_activation(self.mode)
            for t in order:
                h_new = act(steps[t] + h @ w_hh_t)
                h = h_new if masks is None else where(masks[t], h_new, h)
                outs[t] = h
            last = [h]
        return stack(outs), last


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked `num_layers` deep.

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        num_layers: stacked recurrent layers. Default: 1.
        nonlinearity: 'tanh' or 'relu'. Default: 'tanh'.
        bias: if False, no b_ih and b_hh. Default: True.
        batch_first: if True, input and output are (N, L, H) instead of (L, N, H) (not h_n). Default: False.
        dropout: dropout probability on the outputs of every layer but the last, in training. Default: 0.
        bidirectional: if True, a second pass runs over the reversed sequence. Default: False.

    Inputs: input (L, H_in), (L, N, H_in) or (N, L, H_in) with batch_first; h_0 `(D*num_layers, N, H_out)`
    or `(D*num_layers, H_out)` unbatched, default zeros (D = 2 if bidirectional else 1).
    Outputs: output `(L, N, D*H_out)` with the last layer's h_t for every t; h_n `(D*num_layers, N, H_out)`.
    Parameters: weight_ih_l{k} `(hidden_size, input_size or D*hidden_size)`, weight_hh_l{k}
    (hidden_size, hidden_size), bias_ih_l{k}, bias_hh_l{k} (hidden_size,); `_reverse` for the backward
    direction. All from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(output, h_n) for input (L, N, H_in) and optional h_0; see the class docstring for shapes."""
        return super().forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory, stacked `num_layers` deep:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                        h' = o * tanh(c')  (then h' W_hr^T when proj_size > 0)

    Args: as `RNN` (no `nonlinearity`), plus proj_size: if > 0, h is projected to proj_size features
    (H_out = proj_size) by weight_hr_l{k} (proj_size, hidden_size). Default: 0.

    Inputs: input (L, N, H_in) (or (N, L, H_in) with batch_first, or unbatched (L, H_in)) and optional
    (h_0, c_0) of shapes `(D*num_layers, N, H_out)` and `(D*num_layers, N, hidden_size)`, default zeros.
    Outputs: (output `(L, N, D*H_out)`, (h_n, c_n)).
    Parameters: weight_ih_l{k} `(4*hidden_size, ·)` = W_ii|W_if|W_ig|W_io, weight_hh_l{k}
    `(4*hidden_size, H_out)`, bias_ih_l{k}, bias_hh_l{k} `(4*hidden_size,)`, from U(-1/sqrt(hidden_size), ...).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """(output, (h_n, c_n)) for input (L, N, H_in) and optional (h_0, c_0); see the class docstring."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
        return super().forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit, stacked `num_layers` deep:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)    z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))    h' = (1 - z) * n + z * h

    Args, inputs and outputs: as `RNN` (no `nonlinearity`). Parameters: weight_ih_l{k} `(3*hidden_size, ·)`
    = W_ir|W_iz|W_in, weight_hh_l{k} `(3*hidden_size, hidden_size)`, bias_ih_l{k}, bias_hh_l{k}
    `(3*hidden_size,)`, from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(output, h_n) for input (L, N, H_in) and optional h_0; see the class docstring for shapes."""
        return super().forward(input, hx)


# ---- cells ----------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters and checks shared by the one-step cells: weight_ih `(chunks*hidden_size, input_size)`,
    weight_hh `(chunks*hidden_size, hidden_size)`, bias_ih and bias_hh `(chunks*hidden_size,)`."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size = input_size = int_arg(input_size, type(self).__name__, "input_size")
        self.hidden_size = hidden_size = int_arg(hidden_size, type(self).__name__, "hidden_size")
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states: tuple) -> tuple[Tensor, tuple, bool]:
        """(input, states) as batched 2-D tensors (zeros for missing states), and whether input was batched."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]}, expected "
                               f"{self.input_size}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        out = []
        for k, s in enumerate(states):
            if s is None:
                s = zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)
            else:
                if s.ndim != (2 if batched else 1):
                    raise RuntimeError(f"{name}: {'batched 2' if batched else 'unbatched 1'}-D input expects a "
                                       f"{'2' if batched else '1'}-D hidden state, got {s.ndim}-D hx[{k}]")
                if not batched:
                    s = s.unsqueeze(0)
                if s.shape[0] != input.shape[0]:
                    raise RuntimeError(f"{name}: Input batch size {input.shape[0]} doesn't match hidden{k} batch "
                                       f"size {s.shape[0]}")
                if s.shape[1] != self.hidden_size:
                    raise RuntimeError(f"{name}: hidden{k} has inconsistent hidden_size: got {s.shape[1]}, "
                                       f"expected {self.hidden_size}")
            out.append(s)
        return input, tuple(out), batched


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args: input_size, hidden_size, bias (default True), nonlinearity ('tanh' or 'relu', default 'tanh').
    Inputs: input (N, input_size) or (input_size,), hx (N, hidden_size) or (hidden_size,), default zeros.
    Output: h' (N, hidden_size) or (hidden_size,).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._prepare(input, (hx,))
        pre = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o as in `LSTM`): returns (h', c').

    Args: input_size, hidden_size, bias (default True).
    Inputs: input (N, input_size) or (input_size,); hx = (h_0, c_0), each (N, hidden_size) or
    (hidden_size,), default zeros. Outputs: (h_1, c_1) of the same shape as h_0.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: hx must be a tuple (h_0, c_0) of two tensors")
        input, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx))
        gates = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h, c = _lstm_pointwise(gates, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n as in `GRU`, with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

    Args: input_size, hidden_size, bias (default True).
    Inputs: input (N, input_size) or (input_size,), hx (N, hidden_size) or (hidden_size,), default zeros.
    Output: h' of the shape of hx.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._prepare(input, (hx,))
        h = _gru_pointwise(F.linear(input, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh), h)
        return h if batched else h.squeeze(0)
