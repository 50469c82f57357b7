"""Transfer learning on scikit-learn's bundled 8x8 digits: pretrain a CNN on 0-4, fine-tune a new head on 5-9.

    python examples/transfer_learning.py          # 100% on 0-4; 92% on 5-9 vs 78% on a random backbone; ~2-4 s
    python examples/transfer_learning.py --quick  # a shorter run (the test's)

The workflow is PyTorch's: pretrain, ``ember.save`` the state dict, reload it into a fresh model (the
backbone), replace the head (``model.fc = nn.Linear(...)``), freeze the backbone
(``requires_grad_(False)``) and optimize only the trainable parameters. The same head trained on a
random frozen backbone shows what the pretrained features are worth. Needs scikit-learn for the data:
``pip install ember[examples]``.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import ember
from ember import nn, optim
from ember.data.datasets import Digits
from ember.utils.data import DataLoader, TensorDataset

# The digits' pixel mean and standard deviation in [0, 1], from the training split (as in train_digits.py).
MEAN, STD = 0.3056, 0.3761
FEATURES = 8 * 2 * 2


class DigitsCNN(nn.Module):
    """A convolutional backbone (``features``: 1x8x8 -> 32 features) and a linear head (``fc``).

    The backbone ends in a 1x1 convolution that squeezes 32 channels into 8: what those 32 features keep
    is what the head can learn from, so they must be learned (pretrained) rather than random.
    """

    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 8, kernel_size=1), nn.ReLU(), nn.Flatten(),
        )
        self.fc = nn.Linear(FEATURES, num_classes)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.fc(self.features(x))


def digit_split(train: bool, digits: range, device: ember.device) -> TensorDataset:
    """The images of `digits` from the Digits split, normalized, with labels renumbered from 0."""
    dataset = Digits(train=train)
    keep = (dataset.targets >= digits.start) & (dataset.targets < digits.stop)
    images = (dataset.data[keep].float() / 255.0 - MEAN) / STD
    return TensorDataset(images.unsqueeze(1).to(device), (dataset.targets[keep] - digits.start).to(device))


def train(model: nn.Module, dataset: TensorDataset, epochs: int, lr: float, batch_size: int, seed: int,
          label: str | None) -> None:
    """Adam on the parameters of `model` that require grad, `epochs` passes over `dataset`."""
    optimizer = optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=lr)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=ember.Generator().manual_seed(seed))
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        if label is not None:
            print(f"  {label} epoch {epoch:>2}/{epochs}: train loss {total / len(dataset):.4f}")


def evaluate(model: nn.Module, dataset: TensorDataset) -> float:
    """The fraction of `dataset` that `model` classifies correctly."""
    model.eval()
    images, labels = dataset.tensors
    with ember.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def fine_tune(backbone_state: dict | None, train_set: TensorDataset, test_set: TensorDataset,
              args: argparse.Namespace, label: str | None) -> float:
    """A new 5-class head on a frozen backbone (pretrained from `backbone_state`, or random when None)."""
    ember.manual_seed(args.seed + 1)  # the same random backbone and head initialisation for every call
    model = DigitsCNN(num_classes=5)
    if backbone_state is not None:
        model.load_state_dict(backbone_state)
    model.fc = nn.Linear(FEATURES, 5)  # replace the head: digits 5-9 instead of 0-4
    model.to(args.device)
    model.features.requires_grad_(False)
    train(model, train_set, args.finetune_epochs, args.lr, args.batch_size, args.seed, label)
    return evaluate(model, test_set)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, with ``--quick`` applied and ``device`` resolved to an `ember.device`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="pretraining passes over digits 0-4 (default: 10)")
    parser.add_argument("--finetune-epochs", type=int, default=15,
                        help="passes over digits 5-9 to train the new head (default: 15)")
    parser.add_argument("--quick", action="store_true", help="4 pretraining and 8 fine-tuning epochs (a short run)")
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size (default: 32)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default: 3e-3)")
    parser.add_argument("--checkpoint", default="digits_0_4_cnn.safetensors",
                        help="where to save the pretrained model (default: digits_0_4_cnn.safetensors)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.add_argument("--device", default=None,
                        help="where to train, e.g. cpu or cuda:0 (default: cuda when available, else cpu)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.finetune_epochs = 4, 8
    args.device = ember.device(args.device or ("cuda" if ember.cuda.is_available() else "cpu"))
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Pretrain, save, reload, fine-tune; returns the test accuracies ``pretrained``, ``fine_tuned``, ``random``."""
    args = parse_args(argv)
    start = time.perf_counter()
    first, second = range(5), range(5, 10)
    pretrain_set, pretrain_test = digit_split(True, first, args.device), digit_split(False, first, args.device)
    finetune_set, finetune_test = digit_split(True, second, args.device), digit_split(False, second, args.device)

    ember.manual_seed(args.seed)
    model = DigitsCNN(num_classes=5).to(args.device)
    train(model, pretrain_set, args.epochs, args.lr, args.batch_size, args.seed, None if args.quiet else "pretrain")
    pretrained = evaluate(model, pretrain_test)
    ember.save(model.state_dict(), args.checkpoint)
    print(f"pretrained on digits 0-4: test accuracy {pretrained:.2%} on {len(pretrain_test)} images, "
          f"saved to {args.checkpoint}")

    backbone_state = ember.load(args.checkpoint, map_location="cpu")
    fine_tuned = fine_tune(backbone_state, finetune_set, finetune_test, args, None if args.quiet else "fine-tune")
    print(f"fine-tuned head on digits 5-9, pretrained frozen backbone: test accuracy {fine_tuned:.2%} "
          f"on {len(finetune_test)} images")
    random_backbone = fine_tune(None, finetune_set, finetune_test, args, None if args.quiet else "random backbone")
    print(f"same head on digits 5-9, random frozen backbone: test accuracy {random_backbone:.2%}")
    margin = (fine_tuned - random_backbone) * 100
    verdict = f"beats the random one by {margin:.1f} points" if margin > 0 else \
        f"does not beat the random one ({margin:+.1f} points)"
    print(f"the pretrained backbone {verdict}; {time.perf_counter() - start:.1f} s in all")
    return {"pretrained": pretrained, "fine_tuned": fine_tuned, "random": random_backbone}


if __name__ == "__main__":
    main()
