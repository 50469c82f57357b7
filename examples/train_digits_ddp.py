"""Train the digits CNN of train_digits.py data-parallel on N processes (ember.distributed over MPI).

    python -m ember.distributed.run -n 2 examples/train_digits_ddp.py   # 2 processes, ~98-99% test accuracy
    python examples/train_digits_ddp.py                                 # the same script on 1 process

Each process trains a replica on its share of every batch (`DistributedSampler`); `DistributedDataParallel`
averages the gradients, so with the same global batch size N processes take the same steps as one and reach
the same accuracy. Rank 0 evaluates, saves the checkpoint, and every rank reloads it. Needs
``pip install ember[mpi,examples,safetensors]``.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Sequence

import ember
import ember.distributed as dist
from ember import nn, optim, transforms
from ember.data.datasets import Digits
from ember.nn.parallel import DistributedDataParallel
from ember.utils.data import DataLoader, DistributedSampler

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from train_digits import MEAN, STD, build_model, evaluate


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training set (default: 15)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="global batch size, split evenly over the processes (default: 32)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's initial learning rate (default: 3e-3)")
    parser.add_argument("--checkpoint", default="digits_cnn_ddp.safetensors",
                        help="where rank 0 saves the checkpoint (default: digits_cnn_ddp.safetensors)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> float:
    """Train on every process of the MPI job; returns the reloaded model's test accuracy (the same on all ranks)."""
    args = parse_args(argv)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} must be a multiple of the {world} processes")
    start = time.perf_counter()
    ember.manual_seed(args.seed)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    train_set = Digits(train=True, transform=transform)
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)  # replicas and rank from the group
    train_loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler)
    test_loader = DataLoader(Digits(train=False, transform=transform), batch_size=256)

    model = DistributedDataParallel(build_model())  # rank 0's initial weights on every rank
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle every epoch, the same on every rank
        model.train()
        totals = ember.zeros(2, dtype=ember.float64)  # this rank's loss sum and sample count
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()  # the gradients are averaged over the processes here
            optimizer.step()
            totals += ember.tensor([loss.item() * len(labels), len(labels)], dtype=ember.float64)
        scheduler.step()
        dist.all_reduce(totals)
        if rank == 0 and not args.quiet:
            accuracy = evaluate(model.module, test_loader, ember.device("cpu"))
            print(f"epoch {epoch:>2}/{args.epochs}: train loss {(totals[0] / totals[1]).item():.4f}, "
                  f"test accuracy {accuracy:.2%}", flush=True)

    if rank == 0:
        ember.save({"model": model.module.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "epoch": args.epochs}, args.checkpoint)
    dist.barrier()  # the checkpoint is complete before anyone reads it
    reloaded = build_model()
    reloaded.load_state_dict(ember.load(args.checkpoint)["model"])
    accuracy = evaluate(reloaded, test_loader, ember.device("cpu"))
    if rank == 0:
        print(f"reloaded {args.checkpoint} (epoch {args.epochs}): test accuracy {accuracy:.2%} on "
              f"{len(test_loader.dataset)} images, trained on {world} process{'es' if world > 1 else ''}; "
              f"{time.perf_counter() - start:.1f} s in all", flush=True)
    dist.destroy_process_group()
    return accuracy


if __name__ == "__main__":
    main()
