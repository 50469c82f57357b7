"""ember's differentiable ops, one file per family, written against the backend interface."""
