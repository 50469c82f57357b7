"""Train a small CNN on scikit-learn's bundled 8x8 digits, checkpoint it, reload it and test the reloaded model.

    python examples/train_digits.py                 # ~98-99% test accuracy in about 10 s on 2 CPU cores
    python examples/train_digits.py --epochs 2 --quiet --checkpoint /tmp/digits.safetensors

Needs the ``examples`` extra (scikit-learn for the data, tqdm for the progress bar):
``pip install ember[examples,safetensors]``. Everything else is ember with PyTorch's API.
"""
from __future__ import annotations

import argparse
import time
from typing import Sequence

import ember
import ember.nn as nn
import ember.optim as optim
from ember import transforms
from ember.data.datasets import Digits
from ember.utils.data import DataLoader

# The digits' pixel mean and standard deviation after ToTensor (values in [0, 1]), from the training split.
MEAN, STD = 0.3056, 0.3761


def build_model() -> nn.Module:
    """Two conv blocks (1x8x8 -> 32x4x4 -> 64x2x2) and a two-layer classifier over the 10 digits."""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 2 * 2, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def make_loaders(batch_size: int, seed: int) -> tuple[DataLoader, DataLoader]:
    """The shuffled training loader (seeded by `seed`) and the test loader over the fixed Digits split."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    train_loader = DataLoader(Digits(train=True, transform=transform), batch_size=batch_size, shuffle=True,
                              generator=ember.Generator().manual_seed(seed))
    return train_loader, DataLoader(Digits(train=False, transform=transform), batch_size=256)


def train_one_epoch(model: nn.Module, loader: DataLoader, loss_fn: nn.Module, optimizer: optim.Optimizer,
                    device: ember.device, progress: str | None) -> float:
    """One pass over `loader`; returns the mean training loss. `progress` is the tqdm bar's label, or None."""
    model.train()
    batches = loader
    if progress is not None:
        try:
            from tqdm import tqdm
        except ImportError:
            raise ImportError("the progress bar needs tqdm: pip install ember[examples], or pass --quiet") from None
        batches = tqdm(loader, desc=progress, leave=False, unit="batch")
    total, seen = 0.0, 0
    for images, labels in batches:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        seen += len(labels)
        if progress is not None:
            batches.set_postfix(loss=f"{loss.item():.4f}")
    return total / seen


def evaluate(model: nn.Module, loader: DataLoader, device: ember.device) -> float:
    """The fraction of `loader`'s samples that `model` (on `device`) classifies correctly."""
    model.eval()
    correct = 0
    with ember.no_grad():
        for images, labels in loader:
            correct += (model(images.to(device)).argmax(dim=1) == labels.to(device)).sum().item()
    return correct / len(loader.dataset)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training set (default: 15)")
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size (default: 32)")
    parser.add_argument("--lr", type=float, default=3e-3,
                        help="Adam's initial learning rate, annealed to 0 on a cosine (default: 3e-3)")
    parser.add_argument("--checkpoint", default="digits_cnn.safetensors",
                        help="where to save the checkpoint (default: digits_cnn.safetensors)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    parser.add_argument("--device", default=None,
                        help="where to train, e.g. cpu or cuda:0 (default: cuda when available, else cpu)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> float:
    """Train, save, reload and test; returns the reloaded model's test accuracy (a fraction in [0, 1])."""
    args = parse_args(argv)
    device = ember.device(args.device or ("cuda" if ember.cuda.is_available() else "cpu"))
    start = time.perf_counter()
    ember.manual_seed(args.seed)
    train_loader, test_loader = make_loaders(args.batch_size, args.seed)
    model = build_model().to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)  # a steady final accuracy
    for epoch in range(1, args.epochs + 1):
        label = None if args.quiet else f"epoch {epoch}/{args.epochs}"
        loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device, label)
        scheduler.step()
        if not args.quiet:
            print(f"epoch {epoch:>2}/{args.epochs}: train loss {loss:.4f}, "
                  f"test accuracy {evaluate(model, test_loader, device):.2%}")

    ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "epoch": args.epochs}, args.checkpoint)
    checkpoint = ember.load(args.checkpoint)
    reloaded = build_model().to(device)
    reloaded.load_state_dict(checkpoint["model"])
    accuracy = evaluate(reloaded, test_loader, device)
    print(f"reloaded {args.checkpoint} (epoch {checkpoint['epoch']}): test accuracy {accuracy:.2%} "
          f"on {len(test_loader.dataset)} images; {time.perf_counter() - start:.1f} s in all")
    return accuracy


if __name__ == "__main__":
    main()
