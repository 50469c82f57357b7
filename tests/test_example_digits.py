"""examples/train_digits.py: a short run learns the digits well above chance, and its checkpoint reloads."""
import importlib.util
import pathlib

import pytest

import ember

pytest.importorskip("sklearn", reason="the digits example needs scikit-learn: pip install ember[examples]")
pytest.importorskip("safetensors", reason="the digits example saves a checkpoint: pip install ember[safetensors]")

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_training_run_beats_chance_and_its_checkpoint_reloads(tmp_path, capsys, device):
    example = load_example()
    checkpoint_path = tmp_path / "digits.safetensors"
    argv = ["--epochs", "2", "--batch-size", "32", "--checkpoint", str(checkpoint_path), "--seed", "1",
            "--device", str(device)]
    if importlib.util.find_spec("tqdm") is None:
        argv.append("--quiet")
    accuracy = example.main(argv)
    assert accuracy > 0.8

    out = capsys.readouterr().out
    assert "epoch  2/2" in out or "--quiet" in argv
    assert f"test accuracy {accuracy:.2%}" in out.splitlines()[-1]
    checkpoint = ember.load(checkpoint_path)
    assert sorted(checkpoint) == ["epoch", "model", "optimizer", "scheduler"] and checkpoint["epoch"] == 2
    model = example.build_model().to(device)
    model.load_state_dict(checkpoint["model"])
    assert example.evaluate(model, example.make_loaders(batch_size=32, seed=0)[1], device) == accuracy
