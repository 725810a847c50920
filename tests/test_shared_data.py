"""Data sets shared with the training processes (`cnnviz.lenet.shared`): one copy, sent by name."""

import gc
import os
import pickle

import numpy as np
import pytest
import torch

from cnnviz.lenet.data import Dataset, to_model_input
from cnnviz.lenet.job import TrainingJob
from cnnviz.lenet.model import LeNet5
from cnnviz.lenet.recorder import JobState
from cnnviz.lenet.shared import SHM_DIR, DatasetRef, open_dataset, share_dataset, shared_blocks
from cnnviz.lenet.training import TrainConfig, evaluate, evaluate_images, train

pytestmark = pytest.mark.skipif(not os.path.isdir(SHM_DIR), reason="POSIX shared memory in /dev/shm (Linux)")


def fresh(n_train: int = 50, n_test: int = 20) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset(
        "fresh",
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),  # ink counts, as a `Dataset` holds them
        rng.integers(0, 10, n_train),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test),
        tuple("0123456789"),
    )


def test_a_shared_data_set_is_sent_as_a_small_reference_and_opens_equal():
    data = fresh(4000, 1000)  # 4 MB of images
    ref = share_dataset(data)
    assert isinstance(ref, DatasetRef)
    assert len(pickle.dumps(ref)) < 2000 < len(pickle.dumps(data)) // 1000
    opened = open_dataset(pickle.loads(pickle.dumps(ref)))
    for name in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(opened, name), getattr(data, name))
    assert opened.class_names == data.class_names and opened.name == "fresh"
    assert open_dataset(data) is data  # a plain data set passes through


def test_a_subset_shares_its_parents_blocks_and_a_second_share_copies_nothing():
    data = fresh()
    first = share_dataset(data)
    blocks = shared_blocks()
    again, part = share_dataset(data), share_dataset(data.subset(10, 5))
    assert shared_blocks() == blocks  # no new block
    assert part.X_train.block == first.X_train.block == again.X_train.block
    opened = open_dataset(part)
    np.testing.assert_array_equal(opened.X_train, data.X_train[:10])
    np.testing.assert_array_equal(opened.y_test, data.y_test[:5])


def test_a_block_is_unlinked_when_its_data_set_is_freed():
    data = fresh()
    ref = share_dataset(data)
    path = os.path.join(SHM_DIR, ref.X_train.block)
    assert os.path.exists(path)
    del data
    gc.collect()
    assert not os.path.exists(path)
    assert ref.X_train.block not in shared_blocks()


def test_evaluate_images_gives_evaluates_numbers(digits):
    model = LeNet5(seed=1)
    X, y = digits.X_test[:300], torch.as_tensor(digits.y_test[:300])
    assert evaluate_images(model, X, y, batch_size=128) == pytest.approx(
        evaluate(model, to_model_input(X), y)
    )


@pytest.mark.slow
def test_a_child_trains_on_the_shared_data_set_to_the_same_result(digits, monkeypatch):
    import cnnviz.lenet.job

    sent = []
    monkeypatch.setattr(
        cnnviz.lenet.job, "share_dataset", lambda d: sent.append(share_dataset(d)) or sent[-1]
    )
    data, config = digits.subset(200, 50), TrainConfig(epochs=1, batch_size=32)
    here = train(LeNet5(seed=0), data, config)
    job = TrainingJob(LeNet5(seed=0), data, config)
    job.start()
    assert job.join(120)
    assert len(sent) == 1 and isinstance(sent[0], DatasetRef)  # the child was sent a reference, not images
    assert job.state is JobState.FINISHED, job.message
    assert job.result.test_accuracy == here.test_accuracy
    assert job.result.test_loss == pytest.approx(here.test_loss, abs=1e-6)
    assert job._record.weights is None  # the ended run's copy of its weights is dropped: the model has them
    assert job.nbytes() > job._record.nbytes() > 0  # its replay stays for the page; the model counts too
