"""One-line docstrings of the `Tensor` methods and properties that do not carry their own (PyTorch keeps
them apart the same way, in `torch/_tensor_docs.py`). A method that is a function of `ember` says "See
`ember.name`"; an in-place method says which method it is the in-place version of."""
from __future__ import annotations

_DOCS = {
    "bool": "`self.to(ember.bool)`.", "byte": "`self.to(ember.uint8)`.", "short": "`self.to(ember.int16)`.",
    "int": "`self.to(ember.int32)`.", "long": "`self.to(ember.int64)`.", "half": "`self.to(ember.float16)`.",
    "float": "`self.to(ember.float32)`.", "double": "`self.to(ember.float64)`.",
    "dim": "The number of dimensions.", "element_size": "The size of one element in bytes.",
    "numel": "The number of elements.", "nelement": "The number of elements (alias of `numel`).",
    "size": "The shape as an `ember.Size`, or the size of dimension `dim` when given.",
    "is_floating_point": "True when the dtype is a floating-point dtype.",
    "tolist": "The data as (nested) Python lists of numbers; a number for a 0-d tensor.",
    "expand": "A view with singleton dimensions expanded to `sizes` (-1 keeps a dimension); no copy.",
    "expand_as": "`self.expand(other.size())`.", "view": "A view of the same data with another shape.",
    "view_as": "`self.view(other.size())`.", "reshape_as": "`self.reshape(other.size())`.",
    "type_as": "`self.to(other.dtype)`.", "sum_to_size": "Sum this tensor down to `size` (the inverse of broadcasting).",
    "new_empty": "An uninitialised tensor of `size` with this tensor's dtype and device (unless given).",
    "new_zeros": "A tensor of zeros of `size` with this tensor's dtype and device (unless given).",
    "new_ones": "A tensor of ones of `size` with this tensor's dtype and device (unless given).",
    "new_full": "A tensor of `size` filled with `fill_value`, with this tensor's dtype and device (unless given).",
    "new_tensor": "A new tensor from `data` with this tensor's dtype and device (unless given).",
    "frac": "The fractional part of each element: `self - self.trunc()`.",
    "lerp": "Linear interpolation: `self + weight * (end - self)`.",
    "clamp_min": "`self.clamp(min=min)`.", "clamp_max": "`self.clamp(max=max)`.",
    "abs": "The absolute value of each element.", "absolute": "Alias of `abs`.",
    "neg": "The negation of each element.", "negative": "Alias of `neg`.",
    "square": "Each element squared.", "reciprocal": "1 / each element.",
    "log2": "The base-2 logarithm of each element.", "log10": "The base-10 logarithm of each element.",
    "erfc": "The complementary error function of each element.", "exp2": "2 ** each element.",
    "logit": "log(p / (1 - p)) of each element, clamped to [eps, 1 - eps] when `eps` is given.",
    "sinc": "sin(pi x) / (pi x) of each element (1 at 0).",
    "greater": "Alias of `gt`.", "greater_equal": "Alias of `ge`.", "less": "Alias of `lt`.",
    "less_equal": "Alias of `le`.", "not_equal": "Alias of `ne`.",
    "copy_": "Copy the elements of `src` (broadcast, cast) into this tensor; returns self.",
    "fill_": "Fill this tensor with `value`; returns self.", "zero_": "Fill this tensor with zeros; returns self.",
    "detach_": "Detach this tensor from the graph that created it, in place; returns self.",
    "uniform_": "Fill with samples from U[from, to); returns self.",
    "normal_": "Fill with samples from N(mean, std**2); returns self.",
    "random_": "Fill with integers uniform in [from, to) (the dtype's range by default); returns self.",
    "exponential_": "Fill with samples from the exponential distribution of rate `lambd`; returns self.",
    "bernoulli_": "Fill with 1 with probability `p` (a number or tensor), else 0; returns self.",
    "addcdiv_": "In-place `self + value * tensor1 / tensor2`; returns self.",
    "addcmul_": "In-place `self + value * tensor1 * tensor2`; returns self.",
    "shape": "The shape, an `ember.Size`.", "dtype": "The `ember.dtype` of the elements.",
    "device": "The `ember.device` the data lives on.", "ndim": "The number of dimensions.",
    "is_cuda": "True when the tensor is on a CUDA device.",
    "is_leaf": "True for a tensor no recorded op produced (created by the user, or not requiring grad).",
    "grad_fn": "The graph node that produced this tensor (None for a leaf).",
    "requires_grad": "Whether autograd records operations on this tensor.",
    "T": "The tensor with its dimensions reversed.", "mT": "The tensor with its last two dimensions swapped.",
}


def document(tensor_cls, ember_module) -> None:
    """Give every public method and property of `tensor_cls` without a docstring the one it should have."""
    for name, value in vars(tensor_cls).items():
        if name.startswith("_") or getattr(value, "__doc__", None):
            continue
        doc = _DOCS.get(name)
        if doc is None and name.endswith("_") and name[:-1] in vars(tensor_cls):
            doc = f"In-place version of `Tensor.{name[:-1]}`; returns self."
        if doc is None and getattr(getattr(ember_module, name, None), "__doc__", None):
            doc = f"See `ember.{name}`."
        if doc is not None and (callable(value) or isinstance(value, property)):
            if isinstance(value, property):
                setattr(tensor_cls, name, property(value.fget, value.fset, value.fdel, doc))
            else:
                value.__doc__ = doc
