"""The fine-tuning workflow on a small CNN: freezing a backbone, replacing the head, optimizing only what trains,
a learning rate per param group, frozen BatchNorm, and loading checkpoints whose head differs."""
import pytest

import ember
from ember import nn, optim


class SmallCNN(nn.Module):
    """A backbone (`features`) and a head (`fc`) named as torchvision names them."""

    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(self.features(x)))


@pytest.fixture
def model(device):
    ember.manual_seed(0)
    return SmallCNN().to(device)


def _batch(device, n=6, classes=3):
    return ember.randn(n, 1, 6, 6, device=device), ember.arange(n, device=device) % classes


def _step(model, optimizer, device):
    x, y = _batch(device)
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


def _snapshot(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def _changed(before, module):
    return sorted(name for name, p in module.named_parameters() if not ember.equal(p.detach(), before[name]))


def test_a_frozen_backbone_gets_no_grad_and_only_the_head_is_optimized(model, device):
    model.features.requires_grad_(False)
    assert all(not p.requires_grad for p in model.features.parameters())
    trainable = list(filter(lambda p: p.requires_grad, model.parameters()))
    assert [id(p) for p in trainable] == [id(model.fc.weight), id(model.fc.bias)]
    before = _snapshot(model)
    _step(model, optim.SGD(trainable, lr=0.1), device)
    assert all(p.grad is None for p in model.features.parameters())
    assert model.fc.weight.grad is not None and model.fc.bias.grad is not None
    assert _changed(before, model) == ["fc.bias", "fc.weight"]


def test_requires_grad_true_unfreezes_again(model, device):
    model.requires_grad_(False).features.requires_grad_(True)
    assert [p.requires_grad for p in model.parameters()] == [True] * 4 + [False] * 2
    x, y = _batch(device)
    nn.functional.cross_entropy(model(x), y).backward()
    assert model.features[0].weight.grad is not None and model.fc.weight.grad is None


def test_a_replaced_head_is_registered_and_trainable_and_the_state_dict_follows(model, device):
    model.requires_grad_(False)
    old_head = model.fc
    model.fc = nn.Linear(16, 7).to(device)
    assert model.fc is not old_head and dict(model.named_children())["fc"] is model.fc
    params = list(model.parameters())
    assert any(p is model.fc.weight for p in params) and not any(p is old_head.weight for p in params)
    state = model.state_dict()
    assert list(state)[-2:] == ["fc.weight", "fc.bias"] and tuple(state["fc.weight"].shape) == (7, 16)
    assert [name for name, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    assert tuple(model(_batch(device)[0]).shape) == (6, 7)


def test_a_head_replaced_by_a_sequential_gets_nested_state_dict_keys(model, device):
    model.fc = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 5)).to(device)
    head_keys = [k for k in model.state_dict() if k.startswith("fc.")]
    assert head_keys == ["fc.0.weight", "fc.0.bias", "fc.2.weight", "fc.2.bias"]


def test_each_param_group_steps_with_its_own_learning_rate(model, device):
    backbone_lr, head_lr = 0.01, 0.5
    optimizer = optim.SGD([{"params": model.features.parameters(), "lr": backbone_lr},
                           {"params": model.fc.parameters()}], lr=head_lr)
    assert [group["lr"] for group in optimizer.param_groups] == [backbone_lr, head_lr]
    model.eval()  # deterministic: no dropout, fixed BatchNorm statistics
    before = _snapshot(model)
    _step(model, optimizer, device)
    for name, p in model.named_parameters():
        lr = head_lr if name.startswith("fc.") else backbone_lr
        expected = before[name] - lr * p.grad
        assert ember.allclose(p.detach(), expected, rtol=1e-5, atol=1e-7), name
        assert not ember.equal(p.detach(), before[name]), name


def _bn_state(model):
    bn = model.features[1]
    return bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone()


def test_freezing_batchnorm_parameters_does_not_freeze_its_running_statistics(model, device):
    model.features.requires_grad_(False)
    mean, var, count = _bn_state(model)
    model(_batch(device)[0])
    new_mean, new_var, new_count = _bn_state(model)
    assert not ember.equal(new_mean, mean) and not ember.equal(new_var, var) and new_count.item() == count.item() + 1


def test_eval_keeps_batchnorm_statistics_and_uses_them(model, device):
    model(_batch(device)[0])  # one training-mode batch gives non-trivial running statistics
    mean, var, count = _bn_state(model)
    model.eval()
    x = _batch(device)[0]
    with ember.no_grad():
        features = model.features[:2](x)
    for new, old in zip(_bn_state(model), (mean, var, count)):
        assert ember.equal(new, old)
    bn = model.features[1]
    conv = model.features[0](x).detach()
    shape = (1, 4, 1, 1)
    expected = ((conv - mean.reshape(shape)) / (var.reshape(shape) + bn.eps).sqrt() * bn.weight.reshape(shape)
                + bn.bias.reshape(shape))
    assert ember.allclose(features, expected, rtol=1e-4, atol=1e-5)


def test_batchnorm_alone_in_eval_keeps_statistics_while_the_rest_trains(model, device):
    model.features.requires_grad_(False)
    model.train()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
    assert model.training and model.dropout.training and not model.features[1].training
    stats = _bn_state(model)
    x = _batch(device)[0]
    with ember.no_grad():
        features_before = model.features(x)
    before = _snapshot(model)
    optimizer = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    for _ in range(3):
        _step(model, optimizer, device)
    for new, old in zip(_bn_state(model), stats):
        assert ember.equal(new, old)
    with ember.no_grad():
        assert ember.equal(model.features(x), features_before)  # the backbone computes exactly as before
    assert _changed(before, model) == ["fc.bias", "fc.weight"]
    model.train()  # train() switches BatchNorm back on: the pattern has to be repeated after each train()
    assert model.features[1].training


def test_load_state_dict_non_strict_returns_exactly_the_skipped_keys(model, device):
    ember.manual_seed(1)
    source = SmallCNN().to(device).state_dict()
    del source["fc.weight"], source["fc.bias"]
    source["extra.weight"] = ember.zeros(2, device=device)
    source["features.9.bias"] = ember.zeros(2, device=device)
    result = model.load_state_dict(source, strict=False)
    assert result.missing_keys == ["fc.weight", "fc.bias"]
    assert result.unexpected_keys == ["extra.weight", "features.9.bias"]
    missing, unexpected = result
    assert (missing, unexpected) == (["fc.weight", "fc.bias"], ["extra.weight", "features.9.bias"])
    assert ember.equal(model.features[0].weight, source["features.0.weight"])
    assert ember.equal(model.features[1].running_mean, source["features.1.running_mean"])
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc.weight", "fc.bias"') as error:
        model.load_state_dict(source)
    assert 'Unexpected key(s) in state_dict: "extra.weight", "features.9.bias"' in str(error.value)


def test_all_keys_matched_is_reported_as_in_pytorch(model):
    result = model.load_state_dict(model.state_dict(), strict=False)
    assert result == ([], []) and repr(result) == "<All keys matched successfully>"


def test_a_checkpoint_with_another_number_of_classes_loads_without_its_head(tmp_path, device):
    ember.manual_seed(2)
    pretrained = SmallCNN(num_classes=10).to(device)
    pretrained(_batch(device)[0])  # non-default BatchNorm statistics, which must be loaded too
    ember.save(pretrained.state_dict(), tmp_path / "pretrained.safetensors")
    model = SmallCNN(num_classes=3).to(device)
    head_before = _snapshot(model.fc)

    checkpoint = ember.load(tmp_path / "pretrained.safetensors", map_location=device)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):  # strict=False does not excuse shapes
        model.load_state_dict(checkpoint, strict=False)
    backbone = {k: v for k, v in checkpoint.items() if not k.startswith("fc.")}
    result = model.load_state_dict(backbone, strict=False)
    assert result.missing_keys == ["fc.weight", "fc.bias"] and result.unexpected_keys == []
    for key, value in pretrained.features.state_dict().items():
        assert ember.equal(model.features.state_dict()[key], value), key
    assert _changed(head_before, model.fc) == []  # the new head keeps its own initialisation


def test_incompatible_keys_match_pytorchs_for_the_same_model():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TorchCNN(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(),
                                           tnn.AdaptiveAvgPool2d(2), tnn.Flatten())
            self.dropout = tnn.Dropout(0.5)
            self.fc = tnn.Linear(16, 3)

    keys = list(TorchCNN().state_dict())
    assert keys == list(SmallCNN().state_dict())
    ours, theirs = SmallCNN(), TorchCNN()
    ours_state = {k: v for k, v in ours.state_dict().items() if not k.startswith("fc.")}
    theirs_state = {k: v for k, v in theirs.state_dict().items() if not k.startswith("fc.")}
    ours_state["head.weight"] = ember.zeros(1)
    theirs_state["head.weight"] = torch.zeros(1)
    ours_result = ours.load_state_dict(ours_state, strict=False)
    theirs_result = theirs.load_state_dict(theirs_state, strict=False)
    assert ours_result.missing_keys == theirs_result.missing_keys
    assert ours_result.unexpected_keys == theirs_result.unexpected_keys
