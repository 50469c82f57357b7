"""ember.models: torchvision's architectures (parameter counts, state_dict layout, initialisation, forward and
backward), the weight registry and its cache (never a network access), and the fine-tuning workflow of
loading all but the head."""
import json
import math
import os
import pathlib
import urllib.error

import ember
import ember.hub
import ember.models as models
import numpy as np
import pytest
from ember import nn
from ember.models import weights as weights_module

LAYOUTS = pathlib.Path(__file__).parent / "data" / "torchvision"

# torchvision's documented parameter counts (the `num_params` of each model's weights)
DOCUMENTED_PARAMS = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840, "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "alexnet": 61_100_840,
    "mobilenet_v2": 3_504_872,
}
# the input side of the forward/backward check: small, but above each architecture's minimum
INPUT_SIZE = {"resnet18": 64, "resnet34": 64, "resnet50": 64, "vgg11": 32, "vgg11_bn": 32, "vgg16": 32,
              "vgg16_bn": 32, "alexnet": 63, "mobilenet_v2": 64}


@pytest.fixture(scope="module", params=list(DOCUMENTED_PARAMS))
def built(request):
    """(name, model): each architecture is built once (vgg16 has 138M parameters) and freed after its tests."""
    ember.manual_seed(0)
    return request.param, models.get_model(request.param)


def _layout(name):
    return json.loads((LAYOUTS / f"{name}.json").read_text())


def test_parameter_count_is_torchvisions(built):
    name, model = built
    count = sum(p.numel() for p in model.parameters())
    assert count == DOCUMENTED_PARAMS[name] == _layout(name)["num_params"]
    assert count == models.get_model_weights(name).DEFAULT.meta["num_params"]


def test_state_dict_keys_shapes_and_order_are_torchvisions(built):
    name, model = built
    ours = [[key, list(value.shape)] for key, value in model.state_dict().items()]
    assert ours == _layout(name)["state_dict"]


def test_forward_and_backward_on_a_small_batch(built):
    name, model = built
    model.train()
    x = ember.randn(2, 3, INPUT_SIZE[name], INPUT_SIZE[name])
    out = model(x)
    assert tuple(out.shape) == (2, 1000)
    out.square().mean().backward()
    grads = {key: p.grad for key, p in model.named_parameters()}
    assert all(g is not None for g in grads.values()), [k for k, g in grads.items() if g is None]
    last = list(grads)[-2]  # the weight of the output layer
    assert bool(ember.isfinite(grads[last]).all()) and float(grads[last].abs().sum()) > 0
    model.zero_grad(set_to_none=True)  # frees the gradients of the 138M-parameter models


def _std(t):
    return float(t.detach().std())


def test_initialisation_is_torchvisions(built):
    name, model = built
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    # a conv with many weights (a tight estimate) and more outputs than inputs (fan_out differs from fan_in)
    conv = max((m for m in convs if m.weight.numel() >= 10_000), key=lambda m: m.out_channels / m.in_channels)
    assert conv.out_channels > conv.in_channels
    fan_in = conv.weight[0].numel()
    fan_out = conv.weight.shape[0] * conv.weight[0, 0].numel()
    if name == "alexnet":  # PyTorch's layer defaults: kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), ..)
        assert float(conv.weight.abs().max()) <= 1 / math.sqrt(fan_in)
        assert _std(conv.weight) == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.05)
        return
    assert _std(conv.weight) == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)  # kaiming_normal_, fan_out
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert bool((m.weight == 1).all()) and bool((m.bias == 0).all())
    if name.startswith(("vgg", "mobilenet")):
        for m in linears:
            assert bool((m.bias == 0).all())
        assert _std(linears[0].weight[:64]) == pytest.approx(0.01, rel=0.05)  # a slice: vgg's has 103M
        assert all(bool((m.bias == 0).all()) for m in convs if m.bias is not None)


@pytest.mark.parametrize("name, head", [("resnet18", "fc"), ("alexnet", "classifier.6"),
                                        ("mobilenet_v2", "classifier.1"), ("lenet5", "classifier.4")])
def test_num_classes_sets_the_output_layer(name, head):
    model = models.get_model(name, num_classes=7)
    assert tuple(model.get_submodule(head).weight.shape)[0] == 7
    size = {"lenet5": 28, "alexnet": 63}.get(name, 32)
    out = model.eval()(ember.randn(1, 1 if name == "lenet5" else 3, size, size))
    assert tuple(out.shape) == (1, 7)


def test_zero_init_residual_zeroes_the_last_batchnorm_of_each_block():
    model = models.resnet18(zero_init_residual=True)
    assert all(bool((block.bn2.weight == 0).all()) for layer in (model.layer1, model.layer4) for block in layer)
    assert bool((model.layer1[0].bn1.weight == 1).all())


def test_resnet50_uses_bottlenecks_with_the_stride_on_the_3x3_convolution():
    block = models.resnet50().layer2[0]
    assert isinstance(block, models.Bottleneck)
    assert block.conv2.stride == (2, 2) and block.conv1.stride == (1, 1)


# ---- lenet5 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [28, 32])
def test_lenet5_takes_28x28_and_32x32_digits(size):
    model = models.lenet5()
    out = model(ember.randn(3, 1, size, size))
    assert tuple(out.shape) == (3, 10)
    out.sum().backward()
    assert model.features[0].weight.grad is not None
    assert sum(p.numel() for p in model.parameters()) == 61_706


def test_lenet5_pads_28x28_inputs_to_32x32():
    model = models.lenet5().eval()
    x = ember.randn(2, 1, 28, 28)
    padded = nn.functional.pad(x, (2, 2, 2, 2))
    with ember.no_grad():
        np.testing.assert_allclose(model(x).numpy(), model(padded).numpy(), rtol=1e-6, atol=1e-6)


def test_lenet5_rejects_other_image_sizes():
    with pytest.raises(ValueError, match="32x32 or 28x28"):
        models.lenet5()(ember.randn(1, 1, 30, 30))


# ---- list_models, get_model, get_model_weights -----------------------------------------------------
def test_list_models_names_the_zoo_and_filters_like_torchvision():
    assert models.list_models() == sorted([*DOCUMENTED_PARAMS, "lenet5"])
    assert models.list_models(include="vgg*", exclude="*_bn") == ["vgg11", "vgg16"]


def test_get_model_builds_by_name_and_rejects_unknown_names():
    assert isinstance(models.get_model("mobilenet_v2", num_classes=5), models.MobileNetV2)
    with pytest.raises(ValueError, match="Unknown model resnet9.*resnet18"):
        models.get_model("resnet9")


def test_get_model_weights_and_get_weight_find_the_enum():
    assert models.get_model_weights("resnet18") is models.ResNet18_Weights
    assert models.get_model_weights(models.vgg16_bn) is models.VGG16_BN_Weights
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is models.ResNet50_Weights.DEFAULT
    with pytest.raises(ValueError, match="lenet5 has no registry weights"):
        models.get_model_weights("lenet5")


# ---- the weight registry ---------------------------------------------------------------------------
def test_weights_enum_resolves_names_and_aliases_like_torchvision():
    enum = models.ResNet18_Weights
    assert enum.verify("DEFAULT") is enum.IMAGENET1K_V1
    assert enum.verify("ResNet18_Weights.IMAGENET1K_V1") is enum.IMAGENET1K_V1
    assert repr(enum.DEFAULT) == "ResNet18_Weights.IMAGENET1K_V1"
    assert models.MobileNet_V2_Weights.DEFAULT is models.MobileNet_V2_Weights.IMAGENET1K_V2
    with pytest.raises(ValueError, match="no weights named 'IMAGENET1K_V9'; known: IMAGENET1K_V1, DEFAULT"):
        enum.verify("IMAGENET1K_V9")
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received VGG11_Weights"):
        models.resnet18(weights=models.VGG11_Weights.DEFAULT)


def test_weights_describe_their_file_hash_and_preprocessing():
    w = models.ResNet50_Weights.IMAGENET1K_V2
    assert w.url == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
    assert (w.value.file_name, w.value.hash_prefix) == ("resnet50-11ad3fa6.pth", "11ad3fa6")
    assert w.value.checkpoint_name == "resnet50-11ad3fa6.safetensors"
    assert {k: w.meta[k] for k in ("num_classes", "resize_size", "crop_size", "mean", "std")} == {
        "num_classes": 1000, "resize_size": 232, "crop_size": 224, "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225)}


def test_weights_transforms_resize_crop_and_normalize():
    image = ember.full((3, 300, 400), 0.5)
    out = models.AlexNet_Weights.DEFAULT.transforms()(image)
    assert tuple(out.shape) == (3, 224, 224)
    expected = [(0.5 - m) / s for m, s in zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    np.testing.assert_allclose(out.numpy().mean(axis=(1, 2)), expected, rtol=1e-5)


def test_num_classes_other_than_the_weights_raises_like_torchvision():
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead"):
        models.resnet18(weights="DEFAULT", num_classes=10)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """EMBER_HOME in tmp_path, and any download fails as it does without a network."""
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setattr(ember.hub, "_hub_dir", None, raising=False)

    def offline(url, dst, hash_prefix=None, progress=True):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(ember.hub, "download_url_to_file", offline)
    return tmp_path / "hub" / "checkpoints"


def test_registry_weights_load_from_the_ember_cache(cache):
    ember.manual_seed(1)
    source = models.resnet18()
    cache.mkdir(parents=True)
    ember.save(source.state_dict(), cache / "resnet18-f37072fd.safetensors")
    model = models.resnet18(weights="DEFAULT")
    for key, value in source.state_dict().items():
        assert ember.equal(model.state_dict()[key], value), key


def test_missing_weights_without_network_say_where_to_put_them_and_how_to_convert(cache):
    with pytest.raises(FileNotFoundError) as info:
        models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)
    message = str(info.value)
    target = os.path.join(str(cache), "resnet18-f37072fd.safetensors")
    assert target in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert f"python -m ember convert resnet18-f37072fd.pth {target} --arch resnet18" in message
    assert not cache.exists() or not any(cache.iterdir())  # no partial file left behind


def test_missing_weights_without_torch_are_not_downloaded(cache, monkeypatch):
    monkeypatch.setattr(weights_module, "_torch_available", lambda: False)
    monkeypatch.setattr(ember.hub, "download_url_to_file", lambda *a, **k: pytest.fail("must not download"))
    with pytest.raises(FileNotFoundError, match="PyTorch, needed to read the original file, is not installed"):
        models.alexnet(weights="DEFAULT")


def test_an_original_file_with_the_wrong_hash_is_rejected(cache):
    cache.mkdir(parents=True)
    (cache / "resnet18-f37072fd.pth").write_bytes(b"not the published file")
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "f37072fd"'):
        models.resnet18(weights="IMAGENET1K_V1")


def test_a_downloaded_original_is_converted_into_the_cache(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    ember.manual_seed(2)
    source = models.mobilenet_v2()
    served = tmp_path / "served.pth"
    torch.save({k: torch.from_numpy(v.numpy().copy()) for k, v in source.state_dict().items()}, served)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    monkeypatch.setattr(ember.hub, "_hub_dir", None, raising=False)
    download, requested = ember.hub.download_url_to_file, []
    cache = tmp_path / "hub" / "checkpoints"

    def serve(url, dst, hash_prefix=None, progress=True):  # the real download, from a file:// URL
        requested.append((url, hash_prefix))
        download(served.as_uri(), dst, None, progress)  # the served file cannot have the published hash

    monkeypatch.setattr(ember.hub, "download_url_to_file", serve)
    model = models.mobilenet_v2(weights="IMAGENET1K_V2", progress=False)
    assert requested == [("https://download.pytorch.org/models/mobilenet_v2-7ebf99e0.pth", "7ebf99e0")]
    assert (cache / "mobilenet_v2-7ebf99e0.safetensors").is_file()
    for key, value in source.state_dict().items():
        assert ember.equal(model.state_dict()[key], value), key


def test_weights_may_be_a_local_checkpoint_path(tmp_path):
    ember.manual_seed(3)
    source = models.lenet5(num_classes=5)
    path = tmp_path / "lenet.safetensors"
    ember.save(source.state_dict(), path)
    for weights in (str(path), path):
        model = models.lenet5(weights=weights, num_classes=5)
        assert ember.equal(model.classifier[4].weight, source.classifier[4].weight)
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        models.resnet18(weights=str(tmp_path / "absent.safetensors"))
    with pytest.raises(TypeError, match="no registry weights"):
        models.lenet5(weights=models.ResNet18_Weights.DEFAULT)


# ---- fine-tuning: load everything but the head -----------------------------------------------------
@pytest.fixture(scope="module")
def pretrained_state():
    ember.manual_seed(4)
    return models.resnet18().state_dict()


def test_load_state_dict_non_strict_reports_the_skipped_keys(pretrained_state):
    model = models.resnet18(num_classes=10)
    backbone = {k: v for k, v in pretrained_state.items() if not k.startswith("fc.")}
    result = model.load_state_dict(backbone, strict=False)
    assert result.missing_keys == ["fc.weight", "fc.bias"] and result.unexpected_keys == []
    assert type(result).__name__ == "_IncompatibleKeys" and tuple(result) == (["fc.weight", "fc.bias"], [])
    assert ember.equal(model.conv1.weight, pretrained_state["conv1.weight"])
    assert tuple(model(ember.randn(2, 3, 32, 32)).shape) == (2, 10)


def test_a_head_of_another_size_raises_naming_the_key_even_when_not_strict(pretrained_state):
    model = models.resnet18(num_classes=10)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight: copying a param with shape "
                                           "ember.Size\\(\\[1000, 512\\]\\) from checkpoint, the shape in "
                                           "current model is ember.Size\\(\\[10, 512\\]\\)"):
        model.load_state_dict(pretrained_state, strict=False)


def test_replacing_the_head_after_loading_keeps_the_backbone(pretrained_state):
    model = models.resnet18()
    model.load_state_dict(pretrained_state)
    model.fc = nn.Linear(model.fc.in_features, 3)
    assert ember.equal(model.layer4[1].conv2.weight, pretrained_state["layer4.1.conv2.weight"])
    assert [k for k in model.state_dict() if k.startswith("fc.")] == ["fc.weight", "fc.bias"]
    assert tuple(model(ember.randn(2, 3, 32, 32)).shape) == (2, 3)
