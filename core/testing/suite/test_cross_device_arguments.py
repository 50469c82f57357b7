"""Every tensor argument of an op must be on the input's device: PyTorch's error, never a silent copy."""
import pytest

import ember
import ember.nn.functional as F


@pytest.fixture
def other(device):
    """A device of another backend (both built-in ones are always installed)."""
    return ember.device("reference:0") if device.type == "cpu" else ember.device("cpu")


CASES = {
    "gather": lambda x, d, o: ember.gather(x, 1, ember.zeros(3, 1, dtype=ember.int64, device=o)),
    "scatter_add index": lambda x, d, o: x.scatter_add(1, ember.zeros(3, 1, dtype=ember.int64, device=o), x),
    "scatter_add src": lambda x, d, o: x.scatter_add(1, ember.zeros(3, 1, dtype=ember.int64, device=d),
                                                    ember.ones(3, 4, device=o)),
    "embedding": lambda x, d, o: F.embedding(ember.zeros(2, dtype=ember.int64, device=o), x),
    "layer_norm weight": lambda x, d, o: F.layer_norm(x, (4,), weight=ember.ones(4, device=o)),
    "batch_norm running_mean": lambda x, d, o: F.batch_norm(x, ember.zeros(4, device=o), ember.ones(4, device=d)),
    "cross_entropy target": lambda x, d, o: F.cross_entropy(x, ember.zeros(3, dtype=ember.int64, device=o)),
    "cross_entropy weight": lambda x, d, o: F.cross_entropy(x, ember.zeros(3, dtype=ember.int64, device=d),
                                                           weight=ember.ones(4, device=o)),
    "nll_loss weight": lambda x, d, o: F.nll_loss(x, ember.zeros(3, dtype=ember.int64, device=d),
                                                 weight=ember.ones(4, device=o)),
    "bce_with_logits pos_weight": lambda x, d, o: F.binary_cross_entropy_with_logits(
        x, ember.ones(3, 4, device=d), pos_weight=ember.ones(4, device=o)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_tensor_argument_on_another_device_is_refused_naming_both(case, device, other):
    x = ember.randn(3, 4, device=device)
    with pytest.raises(RuntimeError, match=f"same device.*{device}.*{other}"):
        CASES[case](x, device, other)
