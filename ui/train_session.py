"""Per-session training state for the Train LeNet page.

The run lives in `st.session_state` (one per browser session). A session-scoped `st.cache_resource` with
`on_release` is told about it too: Streamlit calls `on_release` when the session ends (the tab is closed),
which stops that session's training thread. As a second line of defence the job stops itself when the
page's live view stops sending heartbeats (see `TrainingJob.heartbeat_timeout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from cnnviz.data import Dataset, DataUnavailable, load_dataset
from cnnviz.lenet import LeNet5
from cnnviz.training import TrainingJob, TrainingSlots

MAX_CONCURRENT_JOBS = 2  # on a 2-core classroom server; the others wait in line (and the page says so)


@dataclass
class JobHolder:
    """This session's training run and what was computed from it (plain Python, no streamlit)."""

    job: TrainingJob | None = None
    base: LeNet5 | None = None  # uploaded weights to start (or continue) from
    base_name: str = ""
    analysis: dict = field(default_factory=dict)  # job id -> predictions etc., computed once per run

    def release(self) -> None:
        if self.job is not None:
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


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """One cap on concurrent training runs for the whole server (shared on purpose)."""
    return TrainingSlots(MAX_CONCURRENT_JOBS)


@st.cache_resource(show_spinner="Loading the images...", max_entries=4)
def shared_dataset(name: str, folder: str, download: bool) -> Dataset:
    """A data set loaded once per server and shared read-only by every session."""
    return load_dataset(name, folder or None, download=download)


def dataset_or_error(name: str, folder: str, download: bool) -> tuple[Dataset | None, str]:
    try:
        return shared_dataset(name, folder, download), ""
    except (DataUnavailable, ValueError, OSError) as error:
        return None, str(error)
