"""ember's backends: the abstract ops interface and the built-in array-library backends."""
from .base import Backend

__all__ = ["Backend"]
