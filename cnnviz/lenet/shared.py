"""Data sets shared with the training processes: one copy in shared memory, however many runs train on it.

A run trains in a child process (`cnnviz.lenet.job`). Sending it the data set as a pickle gave every run its
own copy (4 MB for the shipped MNIST 5k, 55 MB for full MNIST, images as uint8). Instead the server copies each data
set's arrays once into a block of POSIX shared memory (`/dev/shm`, Linux) and sends the child a
`DatasetRef`: the block's name and where each array lies in it. The child maps the block (its pages are the
server's, never copied unless written) and trains on numpy views of it.

A block is kept while the array it copies lives in the server (a data set that is cached, or that a run
still holds) and unlinked when that array is freed; Python's resource tracker unlinks it if the server dies.
A subset (`Dataset.subset`, a view) shares its parent's block. Where shared memory is missing or too small
for the array, `share_dataset` returns the data set itself and it is pickled as before.
"""

from __future__ import annotations

import atexit
import contextlib
import mmap
import os
import shutil
import sys
import threading
import weakref
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

from cnnviz.lenet.data import Dataset

__all__ = ["ArrayRef", "DatasetRef", "open_dataset", "share_dataset", "shared_blocks"]

SHM_DIR = "/dev/shm"  # where POSIX shared memory blocks appear as files on Linux


@dataclass(frozen=True)
class ArrayRef:
    """Where one array lies in a shared memory block."""

    block: str  # the block's name (a file in /dev/shm)
    size: int  # the block's size in bytes
    dtype: str
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int  # bytes from the block's start to the array's first element


@dataclass(frozen=True)
class DatasetRef:
    """A `Dataset` whose arrays are in shared memory: what a training process is sent instead of the data."""

    name: str
    X_train: ArrayRef
    y_train: ArrayRef
    X_test: ArrayRef
    y_test: ArrayRef
    class_names: tuple[str, ...]


_BLOCKS: dict[int, tuple[weakref.ref, shared_memory.SharedMemory]] = {}  # id(array) -> (its ref, its block)
_LOCK = threading.Lock()


def shared_blocks() -> list[str]:
    """The names of the blocks this process holds now (for tests and benchmarks)."""
    with _LOCK:
        return [block.name for _, block in _BLOCKS.values()]


def _release(key: int) -> None:
    with _LOCK:
        _, block = _BLOCKS.pop(key, (None, None))
    if block is not None:
        with contextlib.suppress(OSError):
            block.unlink()


@atexit.register
def _release_all() -> None:
    """At exit, unlink what is left (the resource tracker would, with a warning about leaked blocks)."""
    for key in list(_BLOCKS):
        _release(key)


def _owner(X: np.ndarray) -> np.ndarray:
    """The array that owns `X`'s memory (X itself, or the array X is a view of)."""
    root = X
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root


def _block_of(root: np.ndarray) -> shared_memory.SharedMemory | None:
    """`root`'s block, made (one copy of `root`) on first use; None if shared memory cannot hold it."""
    key = id(root)
    with _LOCK:
        held = _BLOCKS.get(key)
        if held is not None and held[0]() is root:
            return held[1]
    try:
        if shutil.disk_usage(SHM_DIR).free < 2 * root.nbytes + (64 << 20):
            return None  # a nearly full /dev/shm would kill the server with SIGBUS on writing
        block = shared_memory.SharedMemory(create=True, size=max(1, root.nbytes))
    except OSError:
        return None
    np.ndarray(root.shape, root.dtype, buffer=block.buf)[...] = root
    block.close()  # the server keeps its own array; the block stays for the children until unlinked
    with _LOCK:
        _BLOCKS[key] = (weakref.ref(root), block)
    weakref.finalize(root, _release, key)
    return block


def _share_array(X: np.ndarray) -> ArrayRef | None:
    root = _owner(X)
    if not root.flags.c_contiguous:
        return None
    start = root.__array_interface__["data"][0]
    offset = X.__array_interface__["data"][0] - start
    if offset < 0 or any(s < 0 for s in X.strides):
        return None
    block = _block_of(root)
    if block is None:
        return None
    return ArrayRef(block.name, block.size, X.dtype.str, X.shape, X.strides, offset)


def share_dataset(data: Dataset) -> DatasetRef | Dataset:
    """A `DatasetRef` to `data` in shared memory (copied there once per array), or `data` itself where shared
    memory is not available (not Linux, /dev/shm too small)."""
    if not sys.platform.startswith("linux") or not os.path.isdir(SHM_DIR):
        return data
    refs = [_share_array(X) for X in (data.X_train, data.y_train, data.X_test, data.y_test)]
    if any(ref is None for ref in refs):
        return data
    return DatasetRef(data.name, *refs, data.class_names)


def _open_array(ref: ArrayRef) -> np.ndarray:
    fd = os.open(os.path.join(SHM_DIR, ref.block), os.O_RDONLY)
    try:
        # ACCESS_COPY: a private mapping, so numpy sees a writable array (torch warns about read-only ones);
        # nothing writes to it, so every page stays the server's.
        buffer = mmap.mmap(fd, ref.size, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
    return np.ndarray(ref.shape, np.dtype(ref.dtype), buffer=buffer, offset=ref.offset, strides=ref.strides)


def open_dataset(data: DatasetRef | Dataset) -> Dataset:
    """The data set a `DatasetRef` names, as views of the shared blocks (a `Dataset` is returned as it is)."""
    if isinstance(data, Dataset):
        return data
    arrays = [_open_array(ref) for ref in (data.X_train, data.y_train, data.X_test, data.y_test)]
    return Dataset(data.name, *arrays, data.class_names)
