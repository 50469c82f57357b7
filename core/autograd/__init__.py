"""Reverse-mode automatic differentiation: the graph, `backward`, `grad`, custom `Function`s, `gradcheck`."""
from .function import Function, FunctionCtx
from .functional import backward, grad
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .node import Node

__all__ = ["Function", "FunctionCtx", "backward", "grad", "enable_grad", "inference_mode", "is_grad_enabled",
           "no_grad", "set_grad_enabled", "GradcheckError", "gradcheck", "gradgradcheck", "Node"]
