"""Train LeNet-5 from the command line, headless, with the same `train` function the page uses.

    python -m cnnviz.lenet.train                       # the 5,000 embedded MNIST digits, default settings
    python -m cnnviz.lenet.train --dataset mnist --data-dir ~/mnist --epochs 3 --save weights/mnist.pt

Progress goes to stderr, one line per test evaluation; the last line on stdout is one JSON object with
test_accuracy, samples_per_s, seconds, epochs (and more), for scripts and benchmarks to read.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, fields
from pathlib import Path

import torch

from cnnviz.lenet.data import DATASETS, DEFAULT_DATASET, DataUnavailable, load_dataset
from cnnviz.lenet.model import ACTIVATIONS, POOLINGS, LeNet5, save_weights
from cnnviz.lenet.training import OPTIMIZERS, SCHEDULES, TrainConfig, train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m cnnviz.lenet.train", description="Train LeNet-5 headless."
    )
    parser.add_argument("--dataset", choices=DATASETS, default=DEFAULT_DATASET)
    parser.add_argument("--data-dir", help="folder holding the four IDX files (mnist, fashion-mnist)")
    parser.add_argument("--no-download", action="store_true", help="never try the network for IDX files")
    parser.add_argument("--activation", choices=tuple(ACTIVATIONS), default="relu")
    parser.add_argument("--pooling", choices=tuple(POOLINGS), default="max")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--schedule", choices=SCHEDULES, default=defaults.schedule)
    parser.add_argument("--momentum", type=float, default=defaults.momentum)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="seeds both the start weights and the order"
    )
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--limit-train", type=int, help="use only the first N training images")
    parser.add_argument("--limit-test", type=int, help="use only the first N test images")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--save", type=Path, help="write the trained weights to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
        data = load_dataset(args.dataset, args.data_dir, download=not args.no_download)
    except (ValueError, DataUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    data = data.subset(args.limit_train, args.limit_test)
    model = LeNet5(args.activation, args.pooling, seed=args.seed)
    print(
        f"training LeNet-5 ({model.n_params():,} parameters, {args.activation}, {args.pooling} pooling) on "
        f"{len(data.X_train):,} {data.name} images, testing on {len(data.X_test):,}",
        file=sys.stderr,
    )

    def report(p, _model) -> None:
        if p.evaluated:
            print(
                f"epoch {p.epoch:6.2f}  step {p.step}/{p.total_steps}  batch loss {p.loss:.4f}  "
                f"test loss {p.test_loss:.4f}  test accuracy {p.test_accuracy:.2%}  "
                f"{p.samples / p.seconds:,.0f} samples/s",
                file=sys.stderr,
                flush=True,
            )

    result = train(model, data, config, report)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        save_weights(model, args.save)
        print(f"saved the weights to {args.save}", file=sys.stderr)
    summary = {
        "dataset": data.name,
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "samples_per_s": result.samples_per_s,
        "seconds": result.seconds,
        "epochs": result.epochs,
        "steps": result.steps,
        "n_train": len(data.X_train),
        "n_test": len(data.X_test),
        "threads": args.threads,
        "weights": str(args.save) if args.save else None,
        "config": asdict(config),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
