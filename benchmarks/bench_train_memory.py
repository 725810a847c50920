"""A training process's own memory: the data set sent as a pickle per run, or shared (issue 13).

    .venv/bin/python benchmarks/bench_train_memory.py

Starts a run (`cnnviz.lenet.job.TrainingJob`, one torch thread) on the shipped MNIST 5k and on a data set
shaped like full MNIST (60,000 + 10,000 random 28x28 images), once with the data set pickled to the child
(as before `cnnviz/lenet/shared.py`) and once shared, and prints, at their largest over the first `--seconds`
of training, the child's own memory (Pss_Anon of /proc/<pid>/smaps_rollup: its share of anonymous memory,
where an unpickled data set lands; Private_Dirty would also count the shared block's pages, which tmpfs
keeps dirty) and the shared memory it maps (Pss_Shmem: its share of the one copy of the data set), and the
bytes sent to the child for the data set.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cnnviz.lenet.job as job_module  # noqa: E402
from cnnviz.lenet.data import Dataset, load_mnist5k  # noqa: E402
from cnnviz.lenet.job import TrainingJob  # noqa: E402
from cnnviz.lenet.model import LeNet5  # noqa: E402
from cnnviz.lenet.shared import share_dataset  # noqa: E402
from cnnviz.lenet.training import TrainConfig  # noqa: E402


def memory_mb(pid: int) -> tuple[float, float]:
    """(Pss_Anon, Pss_Shmem) of process `pid`, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields.get("Pss_Anon", 0) / 1024, fields.get("Pss_Shmem", 0) / 1024


def full_sized() -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(
        "mnist-sized",
        rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8),  # uint8 ink counts, as MNIST's are
        rng.integers(0, 10, 60_000),
        rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 10_000),
        tuple("0123456789"),
    )


def measure(data: Dataset, shared: bool, seconds: float) -> tuple[float, float, int]:
    """(the child's largest own memory and shared memory in MB, the bytes of the data set as sent)."""
    job_module.share_dataset = share_dataset if shared else (lambda d: d)
    sent = len(pickle.dumps(job_module.share_dataset(data)))
    job = TrainingJob(LeNet5(seed=0), data, TrainConfig(epochs=1, eval_every=0))
    job.start()
    deadline = time.monotonic() + 120
    while job.child_pid is None and time.monotonic() < deadline and job.alive:
        time.sleep(0.05)
    own = shm = 0.0
    until = time.monotonic() + seconds
    while time.monotonic() < until and job.alive:
        try:
            dirty, mapped = memory_mb(job.child_pid)
        except (OSError, TypeError):
            break
        own, shm = max(own, dirty), max(shm, mapped)
        time.sleep(0.05)
    job.stop()
    job.join(30)
    return own, shm, sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds of training sampled per run")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for data in (load_mnist5k(), full_sized()):
        for shared in (False, True):
            own, shm, sent = measure(data, shared, args.seconds)
            how = "shared (a DatasetRef)" if shared else "pickled per run     "
            print(
                f"{data.name:12} {how}: {sent / 2**20:8.3f} MB sent for the data set; the child's own memory "
                f"up to {own:4.0f} MB, shared memory mapped {shm:4.0f} MB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
