"""`SwiGLU`: the gated feed-forward block of Shazeer 2020 ("GLU Variants Improve Transformer"), as in LLaMA."""
from __future__ import annotations

from ember import Tensor, nn
from ember.nn import functional as F


class SwiGLU(nn.Module):
    """Gated feed-forward block: `w2(silu(w1(x)) * w3(x))`.

    `w1` and `w3` are `Linear(in_features, hidden_features)` (the gate and the value), `w2` is
    `Linear(hidden_features, out_features)`; the names follow the LLaMA reference implementation.

    Args:
        in_features: size of each input sample.
        hidden_features: size of the gated hidden layer.
        out_features: size of each output sample (default: `in_features`).
        bias: if False, the three linear layers have no bias (default: True; LLaMA uses False).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        input (*, in_features); output (*, out_features).
    """

    def __init__(self, in_features: int, hidden_features: int, out_features: int | None = None, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        out_features = in_features if out_features is None else out_features
        for name, value in (("in_features", in_features), ("hidden_features", hidden_features),
                            ("out_features", out_features)):
            if value <= 0:
                raise ValueError(f"SwiGLU: {name} must be positive, got {value}")
        self.in_features = in_features
        self.hidden_features = hidden_features
        self.out_features = out_features
        self.w1 = nn.Linear(in_features, hidden_features, bias=bias, device=device, dtype=dtype)
        self.w3 = nn.Linear(in_features, hidden_features, bias=bias, device=device, dtype=dtype)
        self.w2 = nn.Linear(hidden_features, out_features, bias=bias, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self.w2(F.silu(self.w1(input)) * self.w3(input))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, hidden_features={self.hidden_features}, "
                f"out_features={self.out_features}")
