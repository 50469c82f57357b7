"""`ember.compile` and `ember.compiler`: record a function's backend calls once and replay them (`api.py`)."""
from .api import GraphBreak, OptimizedModule, compile, reset

__all__ = ["GraphBreak", "OptimizedModule", "compile", "reset"]
