"""Bundled datasets: ``Digits`` (scikit-learn's digits, offline; needs ``ember[examples]``) and ``FakeData``."""
from .digits import Digits
from .fake_data import FakeData

__all__ = ["Digits", "FakeData"]
