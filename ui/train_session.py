"""Per-session training state for the Train LeNet page.

The run lives in `st.session_state` (one per browser session). A session-scoped `st.cache_resource` with
`on_release` is told about it too: Streamlit calls `on_release` when the session ends (the tab is closed),
which stops that session's training thread. As a second line of defence the job stops itself when the
page's live view stops sending heartbeats (see `TrainingJob.heartbeat_timeout`).

A run also belongs to a token kept in the page's URL (`?run=...`): a refresh (a new session) or a second tab
of the same link finds the run again in `run_registry()`, a per-process registry keyed by that unguessable
token. So that a refresh does not stop the run, a session that ends *detaches* a run that has a token: the
run stops itself only if no page reattaches within `REATTACH_GRACE` seconds. A link without the token
attaches to nothing.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import streamlit as st

from cnnviz.data import Dataset, DataUnavailable, load_dataset
from cnnviz.lenet import SHIPPED_WEIGHTS, LeNet5, load_weights
from cnnviz.training import TrainingJob, TrainingSlots

MAX_CONCURRENT_JOBS = 2  # on a 2-core classroom server; the others wait in line (and the page says so)
REATTACH_GRACE = 30.0  # seconds a run whose page went away waits for a refresh or another tab to reattach
MAX_REGISTERED_RUNS = 64  # runs a server remembers for reattaching; the oldest ended ones are forgotten first
TOKEN_PARAM = "run"  # the URL's query parameter that holds the run token


@dataclass
class JobHolder:
    """This session's training run and what was computed from it (plain Python, no streamlit)."""

    job: TrainingJob | None = None
    base: LeNet5 | None = None  # uploaded weights to start (or continue) from
    base_name: str = ""
    analysis: dict = field(default_factory=dict)  # job id -> predictions etc., computed once per run
    token: str = ""  # the run's token in the URL, "" when there is no run
    try_input: object = None  # the model input (1, 1, 32, 32) "Try it" has, shown in the view on request

    def release(self) -> None:
        if self.job is not None:
            if self.token:
                self.job.detach(REATTACH_GRACE)  # a refresh or another tab may reattach
            else:
                self.job.stop()


def _release(holders: list[JobHolder]) -> None:
    for holder in holders:
        holder.release()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _session_guard() -> list[JobHolder]:
    """The holders of this session, stopped by `_release` when the session ends."""
    return []


def session_holder() -> JobHolder:
    """This browser session's JobHolder, created on first use."""
    if "train_holder" not in st.session_state:
        holder = JobHolder()
        st.session_state["train_holder"] = holder
        _session_guard().append(holder)
    return st.session_state["train_holder"]


class RunRegistry:
    """Runs by token, for reattaching after a refresh (one per server process, shared on purpose)."""

    def __init__(self, limit: int = MAX_REGISTERED_RUNS):
        self.limit = limit
        self._runs: OrderedDict[str, TrainingJob] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, job: TrainingJob) -> str:
        token = secrets.token_urlsafe(18)  # 144 random bits: a link cannot be guessed
        with self._lock:
            self._runs[token] = job
            while len(self._runs) > self.limit:
                ended = [t for t, j in self._runs.items() if not j.alive]
                self._runs.pop(ended[0] if ended else next(iter(self._runs)))
        return token

    def get(self, token: str) -> TrainingJob | None:
        with self._lock:
            return self._runs.get(token)

    def remove(self, token: str) -> None:
        with self._lock:
            self._runs.pop(token, None)


@st.cache_resource(show_spinner=False)
def run_registry() -> RunRegistry:
    return RunRegistry()


def attach_from_url(holder: JobHolder) -> None:
    """Reattach this session to the run named by the URL's token (after a refresh, in a second tab); put the
    token back in the URL when this session has a run and the URL lost it (after visiting another page)."""
    token = st.query_params.get(TOKEN_PARAM, "")
    if holder.job is None and token:
        job = run_registry().get(token)
        if job is not None:
            holder.job, holder.token = job, token
            job.heartbeat()
    elif holder.job is not None and holder.token and token != holder.token:
        st.query_params[TOKEN_PARAM] = holder.token


def register_run(holder: JobHolder, job: TrainingJob) -> None:
    """Make `job` this session's run, under a new token kept in the URL."""
    if holder.token:
        run_registry().remove(holder.token)
    holder.job, holder.token = job, run_registry().add(job)
    st.query_params[TOKEN_PARAM] = holder.token


def forget_run(holder: JobHolder) -> None:
    """Reset: no run any more, and no token in the URL."""
    if holder.token:
        run_registry().remove(holder.token)
    holder.job, holder.token = None, ""
    st.query_params.pop(TOKEN_PARAM, None)


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """One cap on concurrent training runs for the whole server (shared on purpose)."""
    return TrainingSlots(MAX_CONCURRENT_JOBS)


@st.cache_resource(show_spinner=False)
def shipped_model() -> LeNet5:
    """The pretrained LeNet-5 shipped in assets/ (loaded with weights_only=True); shared, never trained."""
    model = load_weights(SHIPPED_WEIGHTS).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@st.cache_resource(show_spinner="Loading the images...", max_entries=4)
def shared_dataset(name: str, folder: str, download: bool) -> Dataset:
    """A data set loaded once per server and shared read-only by every session."""
    return load_dataset(name, folder or None, download=download)


def dataset_or_error(name: str, folder: str, download: bool) -> tuple[Dataset | None, str]:
    try:
        return shared_dataset(name, folder, download), ""
    except (DataUnavailable, ValueError, OSError) as error:
        return None, str(error)
