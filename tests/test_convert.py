"""`python -m ember convert` / `ember.models.convert.convert_checkpoint`: PyTorch and safetensors checkpoints
become ember checkpoints; with an architecture, every key and shape mismatch is reported by name. The
comparisons with torchvision run only where torch and torchvision are installed (tox -e torch)."""
import os
import subprocess
import sys

import ember
import ember.models as models
import numpy as np
import pytest
from ember.__main__ import main
from ember.models.convert import ConversionError, convert_checkpoint, read_checkpoint


@pytest.fixture(scope="module")
def resnet18_state():
    ember.manual_seed(0)
    return models.resnet18().state_dict()


@pytest.fixture(scope="module")
def lenet_state():
    ember.manual_seed(0)
    return models.lenet5().state_dict()


def _same(a, b):
    assert list(a) == list(b)
    for key in a:
        assert ember.equal(a[key], b[key]), key


def test_a_safetensors_file_converts_to_an_ember_checkpoint(tmp_path, resnet18_state):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    src, dst = tmp_path / "resnet18.safetensors", tmp_path / "resnet18.ember"
    safetensors_numpy.save_file({k: v.numpy() for k, v in resnet18_state.items()}, str(src))
    report = convert_checkpoint(src, dst, arch="resnet18")
    assert report.ok and report.tensors == 122 and report.dst == str(dst)
    assert "every key and shape matches resnet18" in str(report)
    _same(ember.load(dst), resnet18_state)
    model = models.resnet18(weights=str(dst))
    assert ember.equal(model.fc.weight, resnet18_state["fc.weight"])


@pytest.mark.parametrize("wrapper", ["state_dict", "model", "model_state_dict"])
def test_training_checkpoints_are_unwrapped_and_data_parallel_prefixes_removed(tmp_path, lenet_state, wrapper):
    src = tmp_path / "checkpoint.ember"
    ember.save({"epoch": 3, wrapper: {f"module.{k}": v for k, v in lenet_state.items()}}, src)
    report = convert_checkpoint(src, tmp_path / "out.ember", arch="lenet5")
    assert f"took the state dict from the checkpoint's {wrapper!r} entry" in report.notes
    assert "removed the 'module.' prefix (DataParallel) from every key" in report.notes
    _same(ember.load(tmp_path / "out.ember"), lenet_state)


def _damaged(state):
    """lenet5's state dict with a 3-class head, one key missing and one extra."""
    damaged = dict(state)
    damaged["classifier.4.weight"] = ember.zeros(3, 84)
    damaged["classifier.4.bias"] = ember.zeros(3)
    del damaged["features.3.bias"]
    damaged["head.weight"] = ember.zeros(3)
    return damaged


def test_every_mismatch_is_reported_by_name_and_nothing_is_written(tmp_path, lenet_state):
    src, dst = tmp_path / "damaged.ember", tmp_path / "out.ember"
    ember.save(_damaged(lenet_state), src)
    with pytest.raises(ConversionError) as info:
        convert_checkpoint(src, dst, arch="lenet5")
    report = info.value.report
    assert report.missing == ["features.3.bias"] and report.unexpected == ["head.weight"]
    assert report.mismatched == [("classifier.4.weight", (3, 84), (10, 84)), ("classifier.4.bias", (3,), (10,))]
    message = str(info.value)
    for line in ("missing key: features.3.bias", "unexpected key: head.weight",
                 "size mismatch for classifier.4.weight: shape [3, 84] in the checkpoint, [10, 84] in lenet5",
                 "size mismatch for classifier.4.bias: shape [3] in the checkpoint, [10] in lenet5"):
        assert line in message
    assert not dst.exists()


def test_not_strict_accepts_missing_and_unexpected_keys_but_never_other_shapes(tmp_path, lenet_state):
    src, dst = tmp_path / "damaged.ember", tmp_path / "out.ember"
    ember.save(_damaged(lenet_state), src)
    with pytest.raises(ConversionError, match="size mismatch for classifier.4.weight"):
        convert_checkpoint(src, dst, arch="lenet5", strict=False)
    report = convert_checkpoint(src, dst, arch="lenet5", strict=False, num_classes=3)
    assert report.ok and report.missing == ["features.3.bias"] and report.unexpected == ["head.weight"]
    assert report.mismatched == [] and "head.weight" in ember.load(dst)


def test_the_command_line_prints_a_summary_and_exits_zero(tmp_path, capsys, resnet18_state):
    src, dst = tmp_path / "in.ember", tmp_path / "out.ember"
    ember.save(resnet18_state, src)
    assert main(["convert", str(src), str(dst), "--arch", "resnet18"]) == 0
    out = capsys.readouterr().out
    assert f"read 122 tensors (11,699,132 elements) from {src}" in out and f"wrote {dst}" in out
    _same(ember.load(dst), resnet18_state)


def test_the_command_line_lists_every_mismatch_and_exits_non_zero(tmp_path, capsys, lenet_state):
    src, dst = tmp_path / "damaged.ember", tmp_path / "out.ember"
    ember.save(_damaged(lenet_state), src)
    assert main(["convert", str(src), str(dst), "--arch", "lenet5"]) == 1
    err = capsys.readouterr().err
    assert "4 difference(s) from lenet5 (errors):" in err and "nothing was written" in err
    for key in ("features.3.bias", "head.weight", "classifier.4.weight", "classifier.4.bias"):
        assert key in err
    assert main(["convert", str(src), str(dst), "--arch", "lenet5", "--no-strict", "--num-classes", "3"]) == 0
    assert dst.exists()


def test_the_command_line_rejects_an_unknown_architecture(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "a"), str(tmp_path / "b"), "--arch", "resnet9"]) == 2
    assert "unknown --arch resnet9; choose one of alexnet, lenet5," in capsys.readouterr().err


def test_python_dash_m_ember_convert_runs(tmp_path):
    ember.manual_seed(0)
    src, dst = tmp_path / "lenet.ember", tmp_path / "out.ember"
    ember.save(models.lenet5().state_dict(), src)
    result = subprocess.run([sys.executable, "-m", "ember", "convert", str(src), str(dst), "--arch", "lenet5"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "every key and shape matches lenet5" in result.stdout and dst.exists()


def test_a_pytorch_file_without_torch_says_to_install_it(tmp_path, monkeypatch, capsys):
    src = tmp_path / "model.pth"
    src.write_bytes(b"PK\x03\x04 a torch.save zip archive")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with pytest.raises(ModuleNotFoundError, match="reading it needs PyTorch: pip install torch"):
        read_checkpoint(src)
    assert main(["convert", str(src), str(tmp_path / "out.ember")]) == 1
    assert "pip install torch" in capsys.readouterr().err


def test_a_file_without_tensors_is_not_a_state_dict(tmp_path):
    src = tmp_path / "config.ember"
    ember.save({"epoch": 3, "lr": 0.1}, src)
    with pytest.raises(ValueError, match="holds no state dict"):
        read_checkpoint(src)


# ---- with PyTorch ----------------------------------------------------------------------------------
def _to_torch(torch, state):
    return {k: torch.from_numpy(v.numpy().copy()) for k, v in state.items()}


def test_pytorch_zip_and_legacy_files_convert_and_bfloat16_widens(tmp_path):
    torch = pytest.importorskip("torch")
    ember.manual_seed(1)
    state = models.lenet5().state_dict()
    checkpoint = {"epoch": 3, "model_state_dict": _to_torch(torch, state)}
    torch.save(checkpoint, tmp_path / "zip.pth")
    torch.save(checkpoint, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    for name in ("zip.pth", "legacy.pt"):
        convert_checkpoint(tmp_path / name, tmp_path / "out.ember", arch="lenet5")
        _same(ember.load(tmp_path / "out.ember"), state)
    torch.save({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf16.pth")
    report = convert_checkpoint(tmp_path / "bf16.pth", tmp_path / "bf16.ember")
    assert report.notes == ["w: bfloat16 widened to float32 (ember has no bfloat16)"]
    assert ember.load(tmp_path / "bf16.ember")["w"].dtype == ember.float32


class _Opaque:
    pass


def test_pytorch_files_with_arbitrary_objects_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2), "config": _Opaque()}, tmp_path / "unsafe.pth")
    with pytest.raises(RuntimeError, match="torch.load\\(weights_only=True\\) refused"):
        read_checkpoint(tmp_path / "unsafe.pth")


def _torchvision():
    pytest.importorskip("torch")
    try:
        import torchvision
    except ImportError:
        pytest.skip("torchvision is not installed (pip install torchvision matching the installed torch)")
    except (OSError, RuntimeError) as exc:  # a torchvision build that does not fit the installed torch
        pytest.skip(f"torchvision does not import with this torch: {type(exc).__name__}: {exc}")
    return torchvision


@pytest.mark.parametrize("name, size", [("resnet18", 64), ("mobilenet_v2", 64), ("vgg11_bn", 32),
                                        ("alexnet", 64)])
def test_converted_torchvision_weights_give_torchvisions_outputs(tmp_path, name, size):
    torchvision = _torchvision()
    import torch

    torch.manual_seed(0)
    reference = torchvision.models.get_model(name).eval()
    with torch.no_grad():  # BatchNorm statistics away from 0 and 1, so that eval mode is tested
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    torch.save(reference.state_dict(), tmp_path / f"{name}.pth")
    report = convert_checkpoint(tmp_path / f"{name}.pth", tmp_path / f"{name}.ember", arch=name)
    assert report.ok
    model = models.get_model(name, weights=os.fspath(tmp_path / f"{name}.ember")).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        actual = model(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def _torch_resnet18(torch):
    """torchvision's resnet18 written with plain torch.nn (same module names), for when torchvision is absent."""
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths, inplanes = (64, 128, 256, 512), 64
            for i, planes in enumerate(widths, 1):
                stride = 1 if i == 1 else 2
                setattr(self, f"layer{i}", nn.Sequential(BasicBlock(inplanes, planes, stride),
                                                         BasicBlock(planes, planes, 1)))
                inplanes = planes
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def test_a_converted_torch_resnet18_gives_torchs_outputs(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = _torch_resnet18(torch).eval()
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    torch.save({"state_dict": reference.state_dict()}, tmp_path / "resnet18.pth")
    assert main(["convert", os.fspath(tmp_path / "resnet18.pth"), os.fspath(tmp_path / "resnet18.ember"),
                 "--arch", "resnet18"]) == 0
    model = models.resnet18(weights=os.fspath(tmp_path / "resnet18.ember")).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        actual = model(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
