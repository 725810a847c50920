"""Per-session training state for the Train LeNet page.

The run lives in `st.session_state` (one per browser session). A session-scoped `st.cache_resource` with
`on_release` is told about it too: Streamlit calls `on_release` when the session ends (the tab is closed),
which stops that session's training thread. As a second line of defence the job stops itself when the
page's live view stops sending heartbeats (see `TrainingJob.heartbeat_timeout`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st

from cnnviz.data import (
    IDX_FILES,
    SOURCES,
    Dataset,
    DataUnavailable,
    find_idx_files,
    load_digits,
    load_idx_folder,
    read_idx,
)
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


@st.cache_resource(show_spinner="Loading the images...", max_entries=4)
def shared_dataset(name: str, folder: str = "") -> Dataset:
    """A data set loaded once per server and shared read-only by every session."""
    return load_digits() if name == "digits" else load_idx_folder(folder, name)


@st.cache_resource(show_spinner="Reading the uploaded files...", max_entries=2)
def uploaded_dataset(name: str, digest: str, _files: tuple[tuple[str, bytes], ...]) -> Dataset:
    """A data set from four uploaded IDX files, shared by content: a class uploading the same files holds
    one copy. `digest` (of the bytes) is the cache key; `_files` is (file name, bytes) pairs."""
    arrays = {}
    for file_name, raw in _files:
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
        if X.shape[1:] != (28, 28) or y.ndim != 1 or len(X) != len(y):
            raise ValueError(
                f"the {split} files do not match: images {X.shape}, labels {y.shape}; "
                "expected (N, 28, 28) images and N labels"
            )
    return Dataset(
        name,
        (arrays["train_images"] / np.float32(255)).astype(np.float32),
        arrays["train_labels"].astype(np.int64),
        (arrays["test_images"] / np.float32(255)).astype(np.float32),
        arrays["test_labels"].astype(np.int64),
        SOURCES[name].class_names,
    )


def idx_role(file_name: str) -> str | None:
    """Which of the four IDX files a name is ("train_images", ...), as `find_idx_files` names them."""
    stem = file_name.removesuffix(".gz").replace(".idx", "-idx")
    return next((role for role, standard in IDX_FILES.items() if stem == standard), None)


def dataset_or_error(name: str) -> tuple[Dataset | None, str]:
    """The chosen data set, or None and what to do. For MNIST-like sets this draws an uploader unless the
    lecturer's folder ($CNNVIZ_DATA_DIR) has the files."""
    if name == "digits":
        return shared_dataset("digits"), ""
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
