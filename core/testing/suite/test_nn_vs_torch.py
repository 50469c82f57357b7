"""Optional: ember's layers against PyTorch's on the same weights and inputs (outputs, input and parameter
gradients, running statistics, reprs). Skipped when torch is not installed."""
import numpy as np
import pytest

import ember
import ember.nn as nn

torch = pytest.importorskip("torch")

# name -> (constructor call text evaluated against both `nn` modules, input shape)
LAYERS = {
    "Linear": ("Linear(5, 3)", (4, 5)),
    "Bilinear": ("Bilinear(5, 5, 2)", (4, 5)),
    "Embedding_padding": ("Embedding(6, 3, padding_idx=2)", None),
    "BatchNorm1d": ("BatchNorm1d(5)", (4, 5)),
    "BatchNorm1d_momentum_none": ("BatchNorm1d(5, momentum=None)", (4, 5)),
    "BatchNorm2d": ("BatchNorm2d(3)", (2, 3, 4, 4)),
    "InstanceNorm1d": ("InstanceNorm1d(3)", (2, 3, 5)),
    "InstanceNorm2d_affine_running": ("InstanceNorm2d(3, affine=True, track_running_stats=True)", (2, 3, 4, 4)),
    "InstanceNorm2d_unbatched": ("InstanceNorm2d(3, track_running_stats=True)", (3, 4, 4)),
    "Softmax2d": ("Softmax2d()", (2, 3, 2, 2)),
    "LayerNorm": ("LayerNorm((4, 4))", (2, 3, 4, 4)),
    "GroupNorm": ("GroupNorm(3, 6)", (2, 6, 5)),
    "RMSNorm": ("RMSNorm(5)", (4, 5)),
    "PReLU": ("PReLU(3)", (2, 3, 4)),
    "GELU": ("GELU()", (4, 5)),
    "GELU_tanh": ("GELU('tanh')", (4, 5)),
    "ELU": ("ELU(0.7)", (4, 5)),
    "SELU": ("SELU()", (4, 5)),
    "Softplus": ("Softplus(2.0, 3.0)", (4, 5)),
    "Mish": ("Mish()", (4, 5)),
    "SiLU": ("SiLU()", (4, 5)),
    "LogSoftmax": ("LogSoftmax(dim=1)", (4, 5)),
    "Softmax": ("Softmax(dim=-1)", (4, 5)),
    "Softmin": ("Softmin(dim=0)", (4, 5)),
    "Hardswish": ("Hardswish()", (4, 5)),
    "LeakyReLU": ("LeakyReLU(0.3)", (4, 5)),
    "GLU": ("GLU(dim=1)", (4, 6)),
    "Flatten": ("Flatten()", (2, 3, 4)),
}


def _copy_params(src, dst) -> None:
    with torch.no_grad():
        for name, p in src.named_parameters():
            dict(dst.named_parameters())[name].copy_(torch.from_numpy(p.detach().numpy().copy()))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_pytorch(name, device):
    ctor, shape = LAYERS[name]
    ours = eval("nn." + ctor).double().to(device)
    theirs = eval("torch.nn." + ctor).double()
    ours.to("cpu")
    gen = np.random.default_rng(0)
    with ember.no_grad():
        for p in ours.parameters():
            p.copy_(ember.tensor(gen.normal(size=p.shape) + 0.5, device="cpu"))
    _copy_params(ours, theirs)
    ours.to(device)
    assert repr(ours) == repr(theirs)
    if shape is None:
        data = np.array([[0, 2, 5], [2, 2, 1]])
        x, tx = ember.tensor(data, device=device), torch.tensor(data)
    else:
        data = gen.normal(size=shape) * 2
        x = ember.tensor(data, dtype=ember.float64, device=device, requires_grad=True)
        tx = torch.tensor(data, requires_grad=True)
    args, targs = ((x, x), (tx, tx)) if name == "Bilinear" else ((x,), (tx,))
    for _ in range(2):  # twice: BatchNorm's running statistics evolve
        out, tout = ours(*args), theirs(*targs)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = gen.normal(size=tuple(tout.shape))
    out.backward(ember.tensor(g, dtype=ember.float64, device=device))
    tout.backward(torch.tensor(g))
    if shape is not None:
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=n)
    for (n, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-12, err_msg=n)
    if hasattr(ours, "running_mean"):
        ours.eval(), theirs.eval()
        np.testing.assert_allclose(ours(x).detach().numpy(), theirs(tx).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_state_dict_keys_and_load_error_match_pytorch():
    ours = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(),
                                 torch.nn.Linear(3, 1))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bad = {"weight": np.zeros((3, 3)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as ours_err:
        nn.Linear(2, 3).load_state_dict({k: ember.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as theirs_err:
        torch.nn.Linear(2, 3).load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    assert str(ours_err.value) == str(theirs_err.value).replace("torch.Size", "ember.Size")
