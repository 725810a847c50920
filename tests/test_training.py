"""Training: the function, the recorder, the job in its child process (pause, stop, heartbeat) and the command line."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import proc_stat, wait_for

from cnnviz.lenet.data import IDX_FILES, load_mnist5k, to_model_input, write_idx
from cnnviz.lenet.job import NICENESS, TrainingJob, model_in_view, model_to_train
from cnnviz.lenet.model import LeNet5, load_weights
from cnnviz.lenet.recorder import JobState
from cnnviz.lenet.training import (
    TrainConfig,
    confusion_matrix,
    evaluate,
    train,
)

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_config_rejects_bad_values_in_words():
    with pytest.raises(ValueError, match="optimizer 'rmsprop' is not one of adam, sgd"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="momentum must be in"):
        TrainConfig(momentum=1.0)


@pytest.mark.slow
def test_a_short_seeded_run_learns_the_digits(digits):
    model = LeNet5(seed=0)
    X_test, y_test = to_model_input(digits.X_test), torch.as_tensor(digits.y_test)
    _, before = evaluate(model, X_test, y_test)
    result = train(model, digits, TrainConfig(epochs=2, seed=0))
    assert before < 0.25  # an untrained net is near chance (10%)
    assert result.test_accuracy > 0.80  # 2 epochs: well above chance
    assert result.test_accuracy == pytest.approx(evaluate(model, X_test, y_test)[1])
    assert result.epochs == 2 and result.samples == 2 * 1438 and not result.stopped
    assert [round(e) for e, _, _ in result.test_history] == [1, 2]


def test_training_is_deterministic_for_a_seed(digits):
    small = digits.subset(160, 40)
    runs = []
    for seed in (3, 3, 4):
        model = LeNet5(seed=3)
        train(model, small, TrainConfig(epochs=1, batch_size=32, seed=seed))
        runs.append(model.c1.weight.detach().clone())
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])  # another shuffling order, another result


@pytest.mark.slow
def test_sgd_with_momentum_trains_too(digits):
    model = LeNet5("tanh", "avg", seed=0)
    result = train(model, digits, TrainConfig(optimizer="sgd", lr=0.05, epochs=1, seed=0))
    assert result.test_accuracy > 0.5


def test_the_callback_sees_every_step_and_can_stop(digits):
    seen = []

    def callback(progress, model):
        seen.append(progress)
        return progress.step < 7

    result = train(
        LeNet5(seed=0), digits.subset(320, 40), TrainConfig(batch_size=16, epochs=1, eval_every=5), callback
    )
    assert [p.step for p in seen] == list(range(1, 8))
    assert result.stopped and result.steps == 7 and result.samples == 7 * 16
    assert [p.step for p in seen if p.evaluated] == [5]
    assert seen[-1].total_steps == 20


def test_confusion_matrix_by_hand():
    M = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], n_classes=3)
    np.testing.assert_array_equal(M, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


@pytest.mark.slow
def test_job_runs_to_the_end_with_curves_and_snapshots(digits):
    config = TrainConfig(epochs=2, batch_size=16)
    job = TrainingJob(LeNet5(seed=0), digits.subset(400, 60), config, probe_index=3)
    assert job.view().state is JobState.CREATED
    before = job.current_model()  # one read-only copy, shared by every live view until the next snapshot
    assert job.current_model() is before and not before.c1.weight.requires_grad
    job.start()
    assert job.join(120)
    view = job.view()
    assert view.state is JobState.FINISHED, view.message
    assert job.current_model() is not before and job.current_model() is job.current_model()
    assert not torch.equal(job.current_model().c1.weight, before.c1.weight)
    assert view.step == view.total_steps == 2 * 25
    assert len(view.test_curve["accuracy"]) == 2 and len(view.train_curve["loss"]) >= 2
    assert view.train_curve["epoch"][-1] == 2.0
    assert view.samples_per_s > 0 and view.seconds_left is None
    snaps = job.snapshots()
    assert snaps[0].step == 0 and snaps[-1].step == 50 and len(snaps) >= 10
    assert snaps[-1].c1.shape == (6, 5, 5) and snaps[-1].c3.shape == (16, 6, 5, 5)
    assert snaps[-1].activations["S4"].shape == (16, 5, 5) and snaps[-1].probe_index == 3
    assert not np.array_equal(snaps[0].c1, snaps[-1].c1)  # the filters moved
    # the page's model is the trained one: the last snapshot's filters, and its accuracy
    np.testing.assert_array_equal(job.model.c1.weight[:, 0].detach().numpy(), snaps[-1].c1)
    torch.testing.assert_close(job.current_model().c1.weight, job.model.c1.weight)
    X_test, y_test = to_model_input(digits.X_test[:60]), torch.as_tensor(digits.y_test[:60])
    assert evaluate(job.model, X_test, y_test)[1] == pytest.approx(view.test_curve["accuracy"][-1])


def process_state(pid: int) -> str:
    """R running, S sleeping, T stopped."""
    return proc_stat(pid)[0]


@pytest.mark.slow
def test_pause_resume_and_stop(digits):
    job = TrainingJob(LeNet5(seed=0), digits, TrainConfig(epochs=50))
    job.start()
    wait_for(lambda: job.view().step > 3)
    job.pause()
    # at once, whatever the load: the view says paused and the training process is stopped (state "T")
    assert job.pause_requested and job.view().state is JobState.PAUSED
    wait_for(lambda: process_state(job.child_pid) == "T")  # the kernel stops it as soon as it is scheduled
    time.sleep(0.1)  # the steps it had sent before are read
    step = job.view().step
    time.sleep(0.3)
    assert job.view().step == step  # no training while paused
    assert job.view().seconds_left is not None
    job.resume()
    assert job.view().state is JobState.RUNNING and process_state(job.child_pid) in "RS"
    wait_for(lambda: job.view().step > step + 2)
    assert job.view().state is JobState.RUNNING  # the child's late "paused" does not pause it again
    job.stop()
    assert job.join(30)
    view = job.view()
    assert view.state is JobState.STOPPED and not job.alive and "stopped after" in view.message
    assert job._process.exitcode == 0  # the child ended by itself


@pytest.mark.slow
def test_a_job_nobody_watches_stops_itself(digits):
    job = TrainingJob(LeNet5(seed=0), digits, TrainConfig(epochs=50), heartbeat_timeout=0.3)
    job.start()
    assert job.join(30)
    view = job.view()
    assert view.state is JobState.STOPPED and "no page has looked" in view.message


@pytest.mark.slow
def test_a_failing_run_reports_its_error(digits):
    bad = digits.subset(32, 8)
    object.__setattr__(bad, "y_train", np.full(32, 12))  # label 12 of 10 classes
    job = TrainingJob(LeNet5(seed=0), bad, TrainConfig(epochs=1))
    job.start()
    assert job.join(30)
    view = job.view()
    assert view.state is JobState.FAILED and "IndexError" in view.message


@pytest.mark.slow
def test_a_killed_child_is_reported_as_failed(digits):
    job = TrainingJob(LeNet5(seed=0), digits, TrainConfig(epochs=50))
    job.start()
    wait_for(lambda: job.view().step > 3)
    job._process.kill()
    assert job.join(30)
    view = job.view()
    assert view.state is JobState.FAILED and "ended unexpectedly" in view.message


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_the_child_is_named_and_trains_on_the_torch_threads_asked(digits, threads):
    job = TrainingJob(LeNet5(seed=0), digits.subset(64, 16), TrainConfig(epochs=1), threads=threads)
    job.start()
    try:
        wait_for(lambda: job.child_torch_threads is not None)
        assert job.child_torch_threads == threads  # as the CLI's --threads (default 1)
        assert Path(f"/proc/{job.child_pid}/comm").read_text().strip() == "cnnviz-train"  # what `ps` shows
        # its niceness: NICENESS above the server's own (field 19 of stat; `make class` sets 10)
        child_nice = int(proc_stat(job.child_pid)[16])
        assert child_nice == min(19, os.nice(0) + NICENESS)
    finally:
        job.stop()
        job.join(30)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "cnnviz.lenet.train", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_trains_prints_json_last_and_saves_weights(tmp_path):
    out = run_cli(
        "--epochs", "4", "--limit-train", "500", "--limit-test", "100", "--save", str(tmp_path / "w.pt")
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["dataset"] == "mnist5k"  # the shipped MNIST digits by default
    assert summary["epochs"] == 4 and summary["n_train"] == 500 and summary["n_test"] == 100
    assert summary["samples_per_s"] > 0 and summary["seconds"] > 0
    assert 0.3 < summary["test_accuracy"] <= 1  # 4 epochs on 500 digits: well above chance (0.1)
    assert "test accuracy" in out.stderr
    model = load_weights(tmp_path / "w.pt")
    mnist = load_mnist5k()
    X = to_model_input(mnist.X_test[:100])
    acc = (model(X).argmax(1) == torch.as_tensor(mnist.y_test[:100])).float().mean().item()
    assert acc == pytest.approx(summary["test_accuracy"])


@pytest.mark.slow
def test_cli_reads_idx_files_and_explains_missing_ones(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "mnist").mkdir()
    for role, stem in IDX_FILES.items():
        n = 64 if role.startswith("train") else 16
        array = rng.integers(0, 255, (n, 28, 28)) if role.endswith("images") else rng.integers(0, 10, n)
        write_idx(tmp_path / "mnist" / (stem + ".gz"), array.astype(np.uint8))
    out = run_cli("--dataset", "mnist", "--data-dir", str(tmp_path / "mnist"), "--epochs", "1")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["dataset"] == "mnist" and summary["n_train"] == 64 and summary["n_test"] == 16
    missing = run_cli("--dataset", "fashion-mnist", "--no-download", "--data-dir", str(tmp_path / "empty"))
    assert missing.returncode == 2 and "there is no folder" in missing.stderr


SERVER = """
import sys, time
from cnnviz.lenet.data import load_digits
from cnnviz.lenet.job import TrainingJob, model_in_view, model_to_train
from cnnviz.lenet.model import LeNet5
from cnnviz.lenet.training import TrainConfig

if __name__ == "__main__":
    job = TrainingJob(LeNet5(seed=0), load_digits(), TrainConfig(epochs=100))
    job.start()
    if sys.argv[1] == "pause":
        job.pause()
    while job.child_pid is None or (sys.argv[1] == "pause" and job.view().state != "paused"):
        time.sleep(0.05)
    print(job.child_pid, flush=True)
    time.sleep(600)
"""


def gone(pid: int) -> bool:
    """True when process `pid` has ended (or is a zombie nobody waits for)."""
    try:
        return proc_stat(pid)[0] == "Z"
    except OSError:
        return True


@pytest.mark.slow
@pytest.mark.parametrize("how", ["training", "pause"])
def test_a_child_never_outlives_a_killed_server(tmp_path, how):
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), how],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    try:
        child = int(server.stdout.readline())
        assert not gone(child)
        server.kill()  # no atexit, no cleanup: only the child's own watch can end it
        server.wait(10)
        wait_for(lambda: gone(child), timeout=30)
    finally:
        server.kill()


class FinishedRun:
    """What `model_to_train` reads of a previous run."""

    def __init__(self, model, data):
        self.model, self.data = model, data

    def current_model(self):
        return self.model


def test_start_continues_the_previous_run_only_on_the_same_images_and_architecture(digits):
    previous = FinishedRun(LeNet5("relu", "max", seed=5), digits)
    pretrained = LeNet5("tanh", "avg", seed=6).requires_grad_(False)
    continued = model_to_train(previous, digits, "relu", "max", pretrained, 0)  # the run's network, copied
    assert continued is not previous.model and continued.c1.weight.requires_grad
    torch.testing.assert_close(continued.c1.weight, previous.model.c1.weight)
    other_images = digits.subset(10, 10)
    copied = model_to_train(previous, other_images, "tanh", "avg", pretrained, 0)  # the start weights, copied
    assert copied is not pretrained and copied.c1.weight.requires_grad
    torch.testing.assert_close(copied.c1.weight, pretrained.c1.weight)
    fresh = model_to_train(previous, digits, "sigmoid", "max", None, 3)  # another architecture: from scratch
    torch.testing.assert_close(fresh.c1.weight, LeNet5("sigmoid", "max", seed=3).c1.weight)
    assert model_in_view(None, "relu", "max", pretrained, 0) is pretrained
    assert model_in_view(None, "relu", "avg", None, 3).pooling == "avg"
