"""examples/transfer_learning.py: the pretrained backbone beats a random one, and the printed report says so."""
import importlib.util
import pathlib
import re

import pytest

import ember

pytest.importorskip("sklearn", reason="the transfer-learning example needs scikit-learn: pip install ember[examples]")

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "transfer_learning.py"


def load_example():
    spec = importlib.util.spec_from_file_location("transfer_learning", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_fine_tunes_a_pretrained_backbone_better_than_a_random_one(tmp_path, capsys, device):
    example = load_example()
    checkpoint = tmp_path / "digits_0_4.safetensors"
    accuracies = example.main(["--quick", "--checkpoint", str(checkpoint), "--device", str(device)])
    assert accuracies["pretrained"] > 0.9
    assert accuracies["fine_tuned"] > 0.8
    assert accuracies["fine_tuned"] > accuracies["random"] + 0.05

    lines = capsys.readouterr().out.splitlines()
    assert "  pretrain epoch  4/4: train loss" in lines[3] and "  fine-tune epoch  8/8" in lines[12]
    report = [line for line in lines if not line.startswith("  ")]
    assert len(report) == 4
    assert report[0] == (f"pretrained on digits 0-4: test accuracy {accuracies['pretrained']:.2%} on 157 images, "
                         f"saved to {checkpoint}")
    assert report[1] == (f"fine-tuned head on digits 5-9, pretrained frozen backbone: test accuracy "
                         f"{accuracies['fine_tuned']:.2%} on 202 images")
    assert report[2] == f"same head on digits 5-9, random frozen backbone: test accuracy {accuracies['random']:.2%}"
    margin = (accuracies["fine_tuned"] - accuracies["random"]) * 100
    assert re.fullmatch(rf"the pretrained backbone beats the random one by {margin:.1f} points; [0-9.]+ s in all",
                        report[3])


def test_the_saved_checkpoint_is_the_pretrained_model(tmp_path, capsys, device):
    example = load_example()
    checkpoint = tmp_path / "digits_0_4.safetensors"
    accuracies = example.main(["--epochs", "1", "--finetune-epochs", "1", "--quiet", "--checkpoint", str(checkpoint),
                               "--device", str(device)])
    assert len(capsys.readouterr().out.splitlines()) == 4  # --quiet: the report only
    model = example.DigitsCNN(num_classes=5).to(device)
    model.load_state_dict(ember.load(checkpoint, map_location=device))
    assert tuple(model.fc.weight.shape) == (5, example.FEATURES)
    test_set = example.digit_split(False, range(5), device)
    assert example.evaluate(model, test_set) == accuracies["pretrained"]
