"""A training run for a live page: `train` in a child process, read by a light thread in the server.

Training in the server's own process shares its GIL with Streamlit's event loop and the live view's redraws;
a child process trains at the command line's speed. The child runs `cnnviz.lenet.training.train` with a
callback that sends what the page shows over a pipe (every step's loss and accuracy in batches, snapshots of
the weights and of one test image's activations, the end) and obeys commands coming the other way (pause,
resume, stop, follow another test image) between two batches. In the server, one thread per run reads the
pipe into a `RunRecorder` (plain data, under the job's lock), stops the run when no page looks at it, and
tells the `TrainingQueue` when it has ended.

A child never outlives the server: it is a daemon process (ended when the server exits), and it stops by
itself as soon as its pipe breaks (the server was killed).
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import functools
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable

import torch

from cnnviz.lenet.data import Dataset, to_model_input
from cnnviz.lenet.model import LeNet5
from cnnviz.lenet.recorder import JobState, JobView, RunRecorder, snapshot_every
from cnnviz.lenet.shared import DatasetRef, open_dataset, share_dataset
from cnnviz.lenet.training import Progress, TrainConfig, take_snapshot, train
from cnnviz.memory import release_memory

__all__ = ["OS_PROCESS_NAME", "TrainingJob", "training_processes"]

OS_PROCESS_NAME = "cnnviz-train"  # what `ps`, top and /proc/<pid>/comm show for a training process
SEND_EVERY = 0.1  # seconds: the child sends its steps in batches, so the server wakes ~10 times a second
STOP_GRACE = 10.0  # seconds a child has to end after a stop before it is terminated
# A training process's niceness. `make class` sets 10: the servers go first (a student's click, a live view's
# redraw), training takes the rest, and with the cores to itself trains as fast as at 0. `make run` (one user,
# who waits for the run) leaves it at 0.
NICENESS = int(os.environ.get("CNNVIZ_TRAINING_NICENESS", "0"))
# "forkserver": each child is forked from a clean server process that has imported torch once (never from the
# threaded Streamlit server, which a plain fork would copy mid-flight); a child starts in well under a second.
_CONTEXT = multiprocessing.get_context("forkserver")
PRELOAD = "cnnviz.lenet.forkserver_preload"  # imported once by the fork server
_CONTEXT.set_forkserver_preload([PRELOAD])


def warm_up(modules: tuple[str, ...] = ()) -> None:
    """Start the fork server now (it imports torch in the background), so that the first run starts fast.

    `modules`: more for it to import once. Each child runs the server's main script again (multiprocessing
    does, to find the functions it pickles by name): the modules that script imports, preloaded here, make
    that instant (measured: a child of a script importing Streamlit's command line started in 0.35-0.6 s
    without, about 0.1 s with)."""
    from multiprocessing import forkserver

    _CONTEXT.set_forkserver_preload([PRELOAD, *modules])  # only before the fork server has started
    with contextlib.suppress(Exception):
        forkserver.ensure_running()


def leave_cores_to_training() -> None:
    """The server's own torch work (the live view's forward pass of a starting network, Try it) on one thread.

    By default torch takes a thread per core; in a server beside training processes its short forward passes
    then wait on busy cores (measured: tens of milliseconds for one 32x32 image while a run trained, a third
    of a millisecond alone)."""
    torch.set_num_threads(1)


def _name_process(name: str) -> None:
    """Name the calling process's thread for the operating system (Linux), so a lecturer or a benchmark sees
    the training processes in `ps`. Elsewhere, or if it fails, nothing happens."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME


def training_processes(pid: int) -> list[int]:
    """The training processes (named `OS_PROCESS_NAME`) among the descendants of process `pid` (Linux)."""
    from pathlib import Path

    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            child = int(text.split(" ", 1)[0])
            names[child] = text[text.index("(") + 1 : text.rindex(")")]
            parents[child] = int(text[text.rindex(")") + 2 :].split()[1])
    found, frontier = [], [pid]
    while frontier:
        frontier = [c for c, p in parents.items() if p in frontier]
        found += [c for c in frontier if names.get(c) == OS_PROCESS_NAME]
    return found


# ----------------------------------------------------------------------------------------------------------
# The child process


class _Child:
    """The training side of the pipe: `train` with a callback that reports and obeys."""

    def __init__(self, conn, model, data: Dataset, config: TrainConfig, settings: dict):
        self.conn, self.model, self.data, self.config = conn, model, data, config
        self.snapshot_fn: Callable = settings["snapshot_fn"]
        self.live_every: float = settings["live_every"]
        steps = math.ceil(len(data.X_train) / config.batch_size) * config.epochs
        self.snapshot_every = snapshot_every(steps, settings["max_snapshots"])
        self.set_probe(settings["probe_index"])
        self.paused = self.stopped = False
        self.steps: list[Progress] = []
        self.sent_at = self.live_at = time.monotonic()

    def set_probe(self, index: int) -> None:
        self.probe_index, self.probe = index, to_model_input(self.data.X_test[index])  # (1, 1, 32, 32)

    def run(self) -> None:
        self.conn.send(("started", os.getpid(), torch.get_num_threads()))
        self.obey()  # a pause or a stop sent before the child was up
        self.snapshot(0, 0.0, keep=True)
        result = train(self.model, self.data, self.config, self.callback)
        self.flush()
        self.snapshot(result.steps, result.epochs, keep=True)
        self.conn.send(("done", result))

    def callback(self, p: Progress, model) -> bool:
        self.steps.append(p)
        now = time.monotonic()
        keep = p.step % self.snapshot_every == 0
        if keep or p.evaluated or now - self.live_at >= self.live_every:
            self.flush()
            self.snapshot(p.step, p.epoch, keep)
        elif now - self.sent_at >= SEND_EVERY:
            self.flush()
        self.obey()
        return not self.stopped

    def flush(self) -> None:
        if self.steps:
            self.conn.send(("steps", self.steps))
            self.steps = []
        self.sent_at = time.monotonic()

    def snapshot(self, step: int, epoch: float, keep: bool) -> None:
        snap = self.snapshot_fn(self.model, self.probe, self.probe_index, step, epoch)
        weights = {k: v.detach().numpy().copy() for k, v in self.model.state_dict().items()}
        self.conn.send(("snapshot", snap, keep, weights))  # numpy, not tensors (see `_launch`)
        self.live_at = time.monotonic()

    def obey(self) -> None:
        """Act on the commands that came since the last step; while paused, wait for the next one."""
        while self.conn.poll():
            self.command(self.conn.recv())
        if self.paused and not self.stopped:
            self.flush()
            self.conn.send(("paused",))
            while self.paused and not self.stopped:
                self.command(self.conn.recv())  # EOFError when the server has gone: the run ends with it
            self.conn.send(("resumed",))

    def command(self, command) -> None:
        match command:
            case "pause":
                self.paused = True
            case "resume":
                self.paused = False
            case "stop":
                self.stopped = True
            case ("probe", index):
                self.set_probe(index)


def _die_with_parent() -> None:
    """Be killed when this process's parent (the fork server, which ends with the Streamlit server) ends: a
    paused run is a stopped process (SIGSTOP) whose own watch thread cannot run (Linux; elsewhere nothing)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG


def _watch_server(pid: int) -> None:
    """End this child within a second of the server process `pid` (a broken pipe ends it sooner)."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            os._exit(0)
        except OSError:
            pass


def _child_main(
    conn, model_bytes: bytes, data: DatasetRef | Dataset, config: TrainConfig, settings: dict
) -> None:
    """The child process: train, report, obey; end quietly when the server has gone. `data` is usually a
    `DatasetRef` (the server's copy in shared memory, mapped here, not copied)."""
    _name_process(OS_PROCESS_NAME)
    _die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    threading.Thread(target=_watch_server, args=(settings["server_pid"],), daemon=True).start()
    torch.set_num_threads(settings["threads"])  # as the command line's --threads
    try:
        model = pickle.loads(model_bytes)
        _Child(conn, model, open_dataset(data), config, settings).run()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the server has gone: so does this run
    except Exception as error:  # the page shows it
        with contextlib.suppress(OSError):
            conn.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------------------
# The server side


class TrainingJob:
    """One training run in a child process; the page reads `view()` and calls `pause`, `resume`, `stop` and
    `heartbeat`. It never calls Streamlit.

    Pause and stop act between two batches. Without a heartbeat for `heartbeat_timeout` seconds (the page
    was closed) the run stops itself. `snapshot_fn(model, probe, probe_index, step, epoch)` takes what the
    live view draws (LeNet-5's `take_snapshot` by default); it runs in the child.
    """

    snapshot_fn: Callable = staticmethod(take_snapshot)

    def __init__(
        self,
        model: torch.nn.Module,
        data: Dataset,
        config: TrainConfig,
        *,
        probe_index: int = 0,
        heartbeat_timeout: float = 120.0,
        live_every: float = 0.5,
        max_snapshots: int = 40,
        threads: int = 1,
    ):
        self.model, self.data, self.config = model, data, config
        self.heartbeat_timeout = heartbeat_timeout
        self.live_every, self.max_snapshots, self.threads = live_every, max_snapshots, threads
        self._probe_index = probe_index
        steps_per_epoch = math.ceil(len(data.X_train) / config.batch_size)
        self._lock = threading.Lock()  # guards `_record` (written by the reader, read by the page)
        self._send_lock = threading.Lock()  # one command at a time down the pipe
        self._record = RunRecorder(len(data.X_train) * config.epochs, steps_per_epoch)
        self._thread: threading.Thread | None = None
        self._process = None
        self._conn = None
        self._pause_requested = False
        self._stop_requested_at: float | None = None
        self._last_heartbeat = time.monotonic()
        self._view_model = None  # (ended, the weights it was made from, the model): see current_model
        # Set by a TrainingQueue: whether the run's owner is still there, and what to do when the run ends.
        self.child_pid: int | None = None  # the training process, once it has started
        self.child_torch_threads: int | None = None  # the torch threads it trains on, as it reported
        self.keep_going: Callable[[], bool] | None = None
        self.on_exit: Callable[[], None] | None = None

    # --- called by the page -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the run: its reader thread starts the child process (returns at once)."""
        if self._thread is not None:
            raise RuntimeError("this job has already been started; make a new one")
        with self._lock:
            self._record.launched()
        self._thread = threading.Thread(target=self._run, name="cnnviz-train-reader", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Pause now: the training process is frozen at once (SIGSTOP), whatever the machine's load (a busy
        machine may take seconds to schedule a process at niceness 10); the pause it is also sent is obeyed
        between two batches after `resume` (it flushes its steps and says so)."""
        self._pause_requested = True
        self._send("pause")
        self._freeze(True)

    def resume(self) -> None:
        self._pause_requested = False
        self._freeze(False)
        self._send("resume")

    def stop(self, message: str = "") -> None:
        with self._lock:
            self._record.note(message)
            if self._thread is None and self._record.state in (JobState.CREATED, JobState.QUEUED):
                # never started: it waited in line and leaves it
                self._record.ended(JobState.STOPPED, "stopped before its turn to train came")
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self._pause_requested = False
        self._freeze(False)
        self._send("stop")

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested_at is not None

    @property
    def pause_requested(self) -> bool:
        """True from `pause()` until `resume()` or `stop()` (the child pauses at its next batch)."""
        return self._pause_requested

    def mark_queued(self) -> None:
        """Shown as queued until a `TrainingQueue` starts it."""
        with self._lock:
            self._record.queued()

    def heartbeat(self) -> None:
        self._last_heartbeat = time.monotonic()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run to end (its process and its reader); True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> JobState:
        with self._lock:
            return self._record.state

    @property
    def message(self) -> str:
        with self._lock:
            return self._record.message

    @property
    def result(self):
        with self._lock:
            return self._record.result

    @property
    def probe_index(self) -> int:
        return self._probe_index

    def set_probe(self, index: int) -> None:
        """Follow another test image's activations from the next snapshot on."""
        self.data.X_test[index]  # an IndexError here, in the page, rather than in the child
        self._probe_index = index
        self._send(("probe", index))

    def view(self) -> JobView:
        with self._lock:
            return self._record.view()

    def snapshots(self) -> list:
        with self._lock:
            return self._record.snapshots()

    def nbytes(self) -> int:
        """Bytes of the arrays the run holds: its record's (the replay, the live snapshot, the latest weights)
        and its model's."""
        model = sum(t.nelement() * t.element_size() for t in self.model.state_dict().values())
        with self._lock:
            return self._record.nbytes() + model

    def thin_replay(self, keep: int) -> int:
        """Keep at most `keep` replay snapshots of an ended run (evenly spread); how many were dropped."""
        with self._lock:
            return self._record.thin(keep) if self._record.state.ended else 0

    def current_model(self) -> torch.nn.Module:
        """The model as of the last snapshot (the trained model once the run has ended), in eval mode.

        One copy per snapshot, shared by every caller until the next one (the live view asks every 2 s, and
        30 students' views would otherwise copy the network each time): read it, never train it
        (`model_to_train` copies it)."""
        with self._lock:
            ended = self._record.state.ended
            state = None if ended else self._record.weights
            cached = self._view_model
            if cached is not None and cached[0] == ended and cached[1] is state:
                return cached[2]
            model = copy.deepcopy(self.model)
        if state is not None:
            model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        model.eval().requires_grad_(False)
        with self._lock:
            self._view_model = (ended, state, model)
        return model

    def _freeze(self, frozen: bool) -> None:
        """Stop (SIGSTOP) or continue (SIGCONT) the training process, once it has started and until it ends."""
        pid = self.child_pid
        if pid is None or self.state.ended:
            return
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)
        with self._lock:  # what the page shows now; the child's own "paused" and "resumed" come on resume
            self._record.paused() if frozen else self._record.resumed()
        if frozen:
            threading.Thread(target=self._watch_frozen, name="cnnviz-train-paused", daemon=True).start()

    def _watch_frozen(self) -> None:
        """While the child is frozen the reader may be waiting inside a message it was sending: watch the
        run's page from here instead (a page closed while paused still stops its run)."""
        while self._pause_requested and not self.stop_requested and not self.state.ended:
            time.sleep(0.25)
            self._watch(time.monotonic())

    # --- the reader thread --------------------------------------------------------------------------------
    def _send(self, command) -> None:
        with self._send_lock:
            if self._conn is not None:
                with contextlib.suppress(OSError, ValueError):  # the child has ended already
                    self._conn.send(command)

    def _launch(self):
        """Start the child process; returns the server's end of the pipe."""
        ours, theirs = _CONTEXT.Pipe(duplex=True)
        # The model goes as plain pickled bytes and weights come back as numpy arrays: tensors sent through
        # multiprocessing would be moved to shared memory (torch's reductions), the page's model with them.
        model_bytes = pickle.dumps(self.model)
        settings = {
            "snapshot_fn": type(self).snapshot_fn,
            "probe_index": self._probe_index,
            "live_every": self.live_every,
            "max_snapshots": self.max_snapshots,
            "threads": self.threads,
            "server_pid": os.getpid(),
        }
        self._process = _CONTEXT.Process(
            target=_child_main,
            # the data set as a reference to one shared copy (`cnnviz.lenet.shared`), not a pickle per run
            args=(theirs, model_bytes, share_dataset(self.data), self.config, settings),
            name=OS_PROCESS_NAME,
            daemon=True,  # ended by multiprocessing when the server exits
        )
        self._process.start()
        theirs.close()  # only the child holds its end: the pipe breaks when either side is gone
        return ours

    def _run(self) -> None:
        ended = False
        try:
            conn = self._launch()
            with self._send_lock:
                self._conn = conn
            if self._pause_requested:
                self._send("pause")
            if self._stop_requested_at is not None:
                self._send("stop")
            ended = self._read(conn)
        except Exception as error:  # the page shows it; the reader must not die silently
            self._end(JobState.FAILED, f"{type(error).__name__}: {error}")
            ended = True
        finally:
            self._close(ended)
            with self._lock:  # the model holds the final weights now (`_finish`); the copy is not read again
                self._record.weights = None
            if self.on_exit is not None:
                self.on_exit()
            release_memory()  # what the run's messages took, back to the system (`cnnviz.memory`)

    def _read(self, conn) -> bool:
        """Feed the recorder from the pipe until the child ends; True if it said how it ended."""
        checked_at = 0.0
        while True:
            if conn.poll(0.25):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return False
                if self._handle(message):
                    return True
            now = time.monotonic()
            if now - checked_at >= 0.25:  # the owner's page, at most 4 times a second
                checked_at = now
                self._watch(now)

    def _handle(self, message) -> bool:
        """Record one message of the child; True when it was the last."""
        kind, *rest = message
        with self._lock:
            record = self._record
            if kind == "steps":
                for p in rest[0]:
                    record.step(p)
            elif kind == "snapshot":
                record.snapshot(*rest)
            elif kind == "started":
                record.started()
                self.child_pid, self.child_torch_threads = rest
            elif kind == "paused":
                if self._pause_requested:  # not a pause that `resume` has already ended (see `_freeze`)
                    record.paused()
            elif kind == "resumed":
                record.resumed()
        if kind == "done":
            self._finish(rest[0])
        elif kind == "failed":
            self._end(JobState.FAILED, rest[0])
        return kind in ("done", "failed")

    def _finish(self, result) -> None:
        with self._lock:
            if self._record.weights is not None:  # the page's model is the trained one
                self.model.load_state_dict({k: torch.from_numpy(v) for k, v in self._record.weights.items()})
            if result.stopped:
                self._record.ended(JobState.STOPPED, f"stopped after {result.epochs:g} epochs", result)
            else:
                self._record.ended(JobState.FINISHED, "", result)

    def _end(self, state: JobState, message: str) -> None:
        with self._lock:
            self._record.ended(state, message)

    def _watch(self, now: float) -> None:
        """Stop a run nobody looks at; terminate a child that ignores a stop."""
        if now - self._last_heartbeat > self.heartbeat_timeout:
            self.stop(f"stopped: no page has looked at this run for {self.heartbeat_timeout:g} s")
        elif self.keep_going is not None and not self.keep_going():
            self.stop("stopped: the page that started it was closed")
        if self._stop_requested_at is not None and now - self._stop_requested_at > STOP_GRACE:
            self._freeze(False)
            self._process.terminate()

    def _close(self, ended: bool) -> None:
        """The child has ended (or is made to): reap it, and say so if it died without a word."""
        process = self._process if self._process is not None and self._process.pid is not None else None
        if process is not None:
            process.join(STOP_GRACE)
            if process.is_alive():
                self._freeze(False)  # a signal waits while a process is stopped
                process.terminate()
                process.join(2)
        with self._send_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        if not ended:
            code = process.exitcode if process is not None else None
            if self._stop_requested_at is not None:
                self._end(JobState.STOPPED, "stopped")
            else:
                self._end(JobState.FAILED, f"the training process ended unexpectedly (exit code {code})")


# ----------------------------------------------------------------------------------------------------------
# Which network the Train page trains and shows


def model_to_train(
    previous: TrainingJob | None, data: Dataset, activation: str, pooling: str, start, seed: int
):
    """The network Start trains. After a run that trained on the same images with the same architecture (it
    was stopped or it finished), the same network again, as that run left it; otherwise a trainable copy of
    the chosen start weights `start` (pretrained or uploaded), or fresh random weights from `seed`."""
    same_images = previous is not None and previous.data is data
    if same_images and (previous.model.activation, previous.model.pooling) == (activation, pooling):
        return copy.deepcopy(previous.current_model()).requires_grad_(True)
    if start is not None:
        return copy.deepcopy(start).requires_grad_(True)
    return LeNet5(activation, pooling, seed=seed)


def model_in_view(job: TrainingJob | None, activation: str, pooling: str, start, seed: int):
    """The network the view and "Try it" use: the run's (as of its last snapshot), else the starting one."""
    if job is not None:
        return job.current_model()
    if start is not None:
        return start
    return _fresh_model(activation, pooling, seed)


@functools.lru_cache(maxsize=16)
def _fresh_model(activation: str, pooling: str, seed: int) -> LeNet5:
    """Fresh random weights from `seed`, made once per choice (the view asks every 2 s); read-only."""
    return LeNet5(activation, pooling, seed=seed).eval().requires_grad_(False)
