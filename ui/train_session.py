"""Per-session training state for the Train LeNet page.

The run lives in `st.session_state` (one per browser session) and in `JOBS`, this process's
`TrainingQueue`, which caps the runs training at once and queues the rest. A run stops when its session has
been disconnected for `RECONNECT_GRACE` seconds, or `CLOSE_GRACE` seconds after its tab was closed
(`ui.departures`), not on a short network drop, and not when a client clears the caches.

A run also belongs to a token kept in the page's URL (`?run=...`, the run's token in `JOBS`): a refresh (a
new session) or a second tab of the same link finds the run again and adopts it (`attach_from_url`); a link
without the token attaches to nothing. `RUNS` keeps the last `MAX_REGISTERED_RUNS` runs by token (finished
ones too, so a refresh after the end still shows the run), in a module global that clear-caches cannot empty.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz.lenet.data import (
    IDX_FILES,
    SOURCES,
    Dataset,
    DataUnavailable,
    find_idx_files,
    idx_dataset,
    load_digits,
    load_idx_folder,
    load_mnist5k,
    read_idx,
)
from cnnviz.lenet.job import TrainingJob, leave_cores_to_training, warm_up
from cnnviz.lenet.model import SHIPPED_WEIGHTS, LeNet5, load_weights
from cnnviz.lenet.runqueue import TrainingQueue
from ui import departures


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


# How many runs train at once for this server process (each a child process on one torch thread); the others
# wait in line and the page says where. `make class` runs one process per core and sets this to 1.
MAX_CONCURRENT_JOBS = max(1, int(_env_number("CNNVIZ_TRAINING_SLOTS", 2)))
# A run outlives its page by this many seconds: a network drop or a refresh shorter than this changes nothing.
RECONNECT_GRACE = _env_number("CNNVIZ_RECONNECT_GRACE", 10.0)
# ...and by this many once the page has said goodbye (its tab was closed; a refresh adopts the run in time).
CLOSE_GRACE = _env_number("CNNVIZ_CLOSE_GRACE", 3.0)


def _connected(session_id: str) -> bool:
    """Whether this browser session's websocket is connected to this server right now."""
    return Runtime.exists() and Runtime.instance().is_active_session(session_id)


# Every run of this process, owned by a module global rather than a cache: Streamlit's "clear caches" (which
# any client can send) empties st.cache_resource, and must neither stop runs nor reset the cap.
departures.install()
JOBS = TrainingQueue(
    MAX_CONCURRENT_JOBS,
    owner_alive=_connected,
    grace=RECONNECT_GRACE,
    owner_left=departures.said_goodbye,
    left_grace=CLOSE_GRACE,
)
# The fork server that starts training processes imports torch now, not at the first Start; and Streamlit's
# command line, which `streamlit run`'s main script imports and each training process runs again.
warm_up(("streamlit.web.cli",))
leave_cores_to_training()


@dataclass
class JobHolder:
    """This session's training run and what was computed from it (plain Python, no streamlit)."""

    job: TrainingJob | None = None
    token: str = ""  # the run's token in `JOBS` and in the URL, "" when there is no run
    try_input: object = None  # the model input (1, 1, 32, 32) "Try it" has, shown in the view on request
    base: LeNet5 | None = None  # uploaded weights to start (or continue) from
    base_name: str = ""
    analysis: dict = field(default_factory=dict)  # job id -> predictions etc., computed once per run


def session_holder() -> JobHolder:
    """This browser session's JobHolder, created on first use."""
    if "train_holder" not in st.session_state:
        st.session_state["train_holder"] = JobHolder()
    return st.session_state["train_holder"]


def owner_id() -> str:
    """This browser session's id: the owner of the runs it starts."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


MAX_REGISTERED_RUNS = 64  # runs a server remembers for reattaching; the oldest ended ones are forgotten first
# Bytes of snapshots the ended runs may hold together (a LeNet-5 run's replay is about 2 MB, a designed
# network's more): over it, the oldest ended runs keep only THINNED_REPLAY snapshots of their replay (their
# curves, final weights and live view stay), then are forgotten. 32 MB: about 8% of a server's memory, so
# that the runs a lesson leaves behind stay within issue 13's "memory within 15% after ten cycles".
MAX_REGISTERED_BYTES = 32 << 20
THINNED_REPLAY = 8
TOKEN_PARAM = "run"  # the URL's query parameter that holds the run token


class RunRegistry:
    """Runs by token, for reattaching after a refresh (one per server process, shared on purpose).

    Bounded twice: at most `limit` runs, and the ended ones' arrays within `max_bytes` (`trim`)."""

    def __init__(self, limit: int = MAX_REGISTERED_RUNS, max_bytes: int = MAX_REGISTERED_BYTES):
        self.limit, self.max_bytes = limit, max_bytes
        self._runs: collections.OrderedDict[str, TrainingJob] = collections.OrderedDict()
        self._lock = threading.Lock()

    def add(self, token: str, job: TrainingJob) -> None:
        with self._lock:
            self._runs[token] = job
            while len(self._runs) > self.limit:
                ended = [t for t, j in self._runs.items() if not j.alive]
                self._runs.pop(ended[0] if ended else next(iter(self._runs)))
        self.trim()

    def trim(self) -> None:
        """Keep the ended runs' arrays within `max_bytes`: thin the oldest replays first, then forget the
        oldest runs. Runs still training are never touched."""
        with self._lock:
            ended = [(t, j) for t, j in self._runs.items() if not j.alive and j.state.ended]
            sizes = {t: j.nbytes() for t, j in ended}
            total = sum(sizes.values())
            for t, j in ended:  # oldest first
                if total <= self.max_bytes:
                    return
                if j.thin_replay(THINNED_REPLAY):
                    total += j.nbytes() - sizes[t]
            for t, _ in ended:
                if total <= self.max_bytes:
                    return
                total -= self._runs.pop(t).nbytes()

    def nbytes(self) -> int:
        """Bytes of the arrays the registered runs hold."""
        with self._lock:
            return sum(j.nbytes() for j in self._runs.values())

    def get(self, token: str) -> TrainingJob | None:
        with self._lock:
            return self._runs.get(token)

    def remove(self, token: str) -> None:
        with self._lock:
            self._runs.pop(token, None)


RUNS = RunRegistry()


def submit(holder: JobHolder, job: TrainingJob) -> None:
    """Queue `job` as this session's run (it starts now if a training slot is free), under a new token that
    the URL keeps."""
    if holder.token:
        RUNS.remove(holder.token)
    holder.job, holder.token = job, JOBS.submit(owner_id(), job)
    RUNS.add(holder.token, job)
    st.query_params[TOKEN_PARAM] = holder.token


def attach_from_url(holder: JobHolder) -> None:
    """Reattach this session to the run named by the URL's token (after a refresh, in a second tab); put the
    token back in the URL when this session has a run and the URL lost it (after visiting another page)."""
    token = st.query_params.get(TOKEN_PARAM, "")
    if holder.job is None and token:
        job = RUNS.get(token)
        if job is not None:
            JOBS.adopt(token, owner_id())
            holder.job, holder.token = job, token
            job.heartbeat()
    elif holder.job is not None and holder.token and token != holder.token:
        st.query_params[TOKEN_PARAM] = holder.token


def forget_run(holder: JobHolder) -> None:
    """Reset: no run any more, and no token in the URL."""
    if holder.token:
        RUNS.remove(holder.token)
    holder.job, holder.token = None, ""
    st.query_params.pop(TOKEN_PARAM, None)


@st.cache_resource(show_spinner=False)
def shipped_model() -> LeNet5:
    """The pretrained LeNet-5 shipped in assets/ (loaded with weights_only=True); shared, never trained."""
    model = load_weights(SHIPPED_WEIGHTS).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def keep_alive(holder: JobHolder) -> None:
    """The page is looking at its run (the live view calls this on every redraw)."""
    if holder.job is not None:
        holder.job.heartbeat()
        JOBS.touch(holder.token)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def queue_message(holder: JobHolder) -> str:
    """Where this session's run waits, e.g. "queued: 2nd in line (2 of 2 runs are training)..."."""
    return queue_message_for(holder.token)


def queue_message_for(token: str) -> str:
    """Where the run with this token waits in `JOBS`' line."""
    position = JOBS.position(token)
    where = f"{ordinal(position)} in line" if position else "about to start"
    return (
        f"queued: {where} ({JOBS.training} of {JOBS.limit} runs are training on this server). "
        "It starts by itself when a slot frees; keep this page open."
    )


def slots_caption() -> str:
    return f"Runs training on this server now: {JOBS.training} of {JOBS.limit}" + (
        f", {JOBS.waiting} waiting in line." if JOBS.waiting else " (the others wait in line)."
    )


# ----------------------------------------------------------------------------------------------------------
# Data: the embedded digits, the lecturer's folder, or the student's upload. Nothing a student types names a
# path on the server or starts a download.

DATA_DIR_ENV = (
    "CNNVIZ_DATA_DIR"  # the lecturer's folder holding mnist/ and fashion-mnist/ (four IDX files each)
)


def lecturer_folder(name: str) -> Path | None:
    """The lecturer's folder of the IDX data set `name`, when $CNNVIZ_DATA_DIR is set and holds all four."""
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        return None
    folder = Path(root).expanduser() / name
    return folder if len(find_idx_files(folder)) == len(IDX_FILES) else None


BUNDLED = {"mnist5k": load_mnist5k, "digits": load_digits}  # shipped in assets/: no upload, no network


@functools.lru_cache(maxsize=4)
def shared_dataset(name: str, folder: str = "") -> Dataset:
    """A data set loaded once per server and shared read-only by every session.

    A plain `lru_cache`, not `st.cache_resource`: Streamlit's clear-cache message, which any client can
    send, must not swap the images under the runs training on them."""
    if name in BUNDLED:
        return BUNDLED[name]()
    return load_idx_folder(folder, name)


_UPLOADS: collections.OrderedDict[tuple[str, str], Dataset] = collections.OrderedDict()
_UPLOADS_LOCK = threading.Lock()
MAX_UPLOADED_SETS = 2  # data sets read from uploads kept at once (MNIST as uint8: about 55 MB each)


def uploaded_dataset(name: str, digest: str, files: tuple[tuple[str, bytes], ...]) -> Dataset:
    """A data set from four uploaded IDX files, shared by content: a class uploading the same files holds
    one copy. `digest` (of the bytes) is the key; `files` is (file name, bytes) pairs. Kept in a module-level
    table (the last MAX_UPLOADED_SETS), which Streamlit's clear-cache message does not empty."""
    key = (name, digest)
    with _UPLOADS_LOCK:
        if key in _UPLOADS:
            _UPLOADS.move_to_end(key)
            return _UPLOADS[key]
    with st.spinner("Reading the uploaded files..."):
        data = _read_uploaded(name, files)
    with _UPLOADS_LOCK:
        _UPLOADS[key] = data
        while len(_UPLOADS) > MAX_UPLOADED_SETS:
            _UPLOADS.popitem(last=False)
    return data


def _read_uploaded(name: str, files: tuple[tuple[str, bytes], ...]) -> Dataset:
    arrays = {}
    for file_name, raw in files:
        role = idx_role(file_name)
        if role is None:
            raise ValueError(
                f"{file_name} is not one of the four IDX files ({', '.join(IDX_FILES.values())}, "
                "each gzipped or not)"
            )
        try:
            arrays[role] = read_idx(raw)
        except ValueError as error:
            raise ValueError(f"{file_name}: {error}") from None
    missing = [IDX_FILES[role] for role in IDX_FILES if role not in arrays]
    if missing:
        raise ValueError(f"still missing: {', '.join(missing)}; upload all four files of the data set")
    for split in ("train", "test"):
        X, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if X.shape[1:] != (28, 28):
            raise ValueError(
                f"the {split} files do not match: images {X.shape}, labels {y.shape}; "
                "expected (N, 28, 28) images and N labels"
            )
    return idx_dataset(name, arrays, SOURCES[name].class_names)  # the uint8 images as read: no second copy


def idx_role(file_name: str) -> str | None:
    """Which of the four IDX files a name is ("train_images", ...), as `find_idx_files` names them."""
    stem = file_name.removesuffix(".gz").replace(".idx", "-idx")
    return next((role for role, standard in IDX_FILES.items() if stem == standard), None)


def dataset_or_error(name: str) -> tuple[Dataset | None, str]:
    """The chosen data set, or None and what to do. For MNIST-like sets this draws an uploader unless the
    lecturer's folder ($CNNVIZ_DATA_DIR) has the files."""
    if name in BUNDLED:
        return shared_dataset(name), ""
    title = SOURCES[name].title
    folder = lecturer_folder(name)
    try:
        if folder is not None:
            st.caption(f"{title} from the lecturer's copy on this server.")
            return shared_dataset(name, str(folder)), ""
        files = st.file_uploader(
            f"The four IDX files of {title}",
            accept_multiple_files=True,
            key=f"train_idx_upload_{name}",
            help=f"{', '.join(IDX_FILES.values())}, each gzipped (.gz, as published: about 10 MB for the "
            "training images) or not.",
        )
        if not files:
            return None, (
                f"{title} is not on this server. Upload its four IDX files here, or ask the lecturer to put "
                f"them in the data folder (${DATA_DIR_ENV})."
            )
        pairs = tuple(sorted((f.name, f.getvalue()) for f in files))
        digest = hashlib.sha256(b"".join(hashlib.sha256(raw).digest() for _, raw in pairs)).hexdigest()
        return uploaded_dataset(name, digest, pairs), ""
    except (DataUnavailable, ValueError, OSError) as error:
        if folder is not None:  # the lecturer's files: name no path to a student
            return None, f"the lecturer's copy of {title} could not be read; ask the lecturer to check it"
        return None, str(error)
