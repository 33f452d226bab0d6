"""Checkpoints: a whole training run in one ``.npz`` file, resumed bit for bit.

One file holds everything the next iteration depends on:

    format, version          "minigan-checkpoint", 1: what the file is
    step                     iterations done
    config                   the GANConfig as JSON (a 0-d string array), or "null"
    rng                      the training generator's state as JSON (PCG64 on the host)
    G/<name>, D/<name>       every parameter (``state_dict()``)
    opt_G/<key>, opt_D/<key> both optimizers' states (Adam's moments and step count, ...)

Plain arrays only, so the file is read with ``allow_pickle=False`` (a pickle can run any
code when loaded). Arrays are host NumPy arrays: a checkpoint written on the GPU loads on
a laptop and the other way round.

Written atomically: the data goes to a temporary file in the same folder, is flushed to
disk (fsync), then ``os.replace`` swaps it in, a single step that a crash cannot leave half
done, so the previous checkpoint survives any failure before it.

A file that is truncated, not a minigan checkpoint, or made for another network raises
``CheckpointError`` (a ValueError) with one line saying which.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass

import numpy as np

FORMAT = "minigan-checkpoint"
VERSION = 1
GROUPS = ("G", "D", "opt_G", "opt_D")
# Config fields that fix the arrays' shapes and meaning: a checkpoint only loads where they agree.
MUST_MATCH = ("dataset", "noise_dim", "g_hidden", "d_hidden", "g_activation", "d_activation", "g_output",
              "optimizer")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the GAN it is loaded into."""


@contextlib.contextmanager
def atomic_file(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step.

        with atomic_file("history.csv", "w") as f:
            f.write(...)

    If the block raises (or the process dies), ``path`` keeps its old content and the
    temporary file is removed (or, after a kill, left as an ignorable ``.*.tmp``).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(temporary, 0o666 & ~_umask())   # mkstemp makes it private (0600): give it the usual mode
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())        # the bytes are on disk before the rename makes them visible
        os.replace(temporary, path)     # atomic on POSIX and Windows
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    current = os.umask(0)   # the only way to read the umask is to set it, then put it back
    os.umask(current)
    return current


@dataclass(frozen=True)
class Saved:
    """A checkpoint's content as read from disk (host arrays)."""

    path: str
    step: int
    config: dict | None
    rng_state: dict
    states: dict  # group ("G", "D", "opt_G", "opt_D") -> {key: NumPy array}


def _text(value) -> np.ndarray:
    return np.asarray(value, dtype=np.str_)  # a 0-d unicode array: no pickle needed


def save(path, gan) -> str:
    """Write ``gan``'s whole training state to ``path`` (atomically). Returns the path."""
    path = os.fspath(path)
    arrays = {
        "format": _text(FORMAT),
        "version": np.asarray(VERSION, dtype=np.int64),
        "step": np.asarray(gan.step, dtype=np.int64),
        "config": _text(json.dumps(None if gan.config is None else gan.config.to_dict())),
        "rng": _text(json.dumps(gan.rng.state())),
    }
    for group, state in _states(gan).items():
        for key, array in state.items():
            if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
                raise CheckpointError(f"checkpoint {path}: {group} {key} is not finite; refusing to save a diverged state")
            arrays[f"{group}/{key}"] = array
    with atomic_file(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def read(path) -> Saved:
    """Read and check a checkpoint file without loading it into anything."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}   # reading each entry checks its CRC
    except Exception as error:  # zipfile, numpy and OS errors all mean the same thing here
        raise CheckpointError(
            f"checkpoint {path}: not a readable .npz file (truncated or corrupt?): {type(error).__name__}: {error}"
        ) from None
    if "format" not in arrays or arrays["format"].shape != () or str(arrays["format"]) != FORMAT:
        raise CheckpointError(f"checkpoint {path}: not a minigan checkpoint (no {FORMAT!r} format tag)")
    try:
        version = int(arrays["version"])
        if version > VERSION:
            raise CheckpointError(f"checkpoint {path}: format version {version} is newer than this minigan reads ({VERSION}); upgrade minigan")
        states = {group: {} for group in GROUPS}
        for key, array in arrays.items():
            group, _, name = key.partition("/")
            if group in states:
                states[group][name] = array
        return Saved(path=path, step=int(arrays["step"]), config=json.loads(str(arrays["config"])),
                     rng_state=json.loads(str(arrays["rng"])), states=states)
    except (KeyError, ValueError, TypeError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"checkpoint {path}: damaged minigan checkpoint ({type(error).__name__}: {error})") from None


def _check_fits(saved: Saved, gan) -> None:
    """Every array the GAN needs is there with its shape, and the configs agree."""
    if saved.config is not None and gan.config is not None:
        own = gan.config.to_dict()
        for field in MUST_MATCH:
            if field in saved.config and saved.config[field] != own[field]:
                raise CheckpointError(
                    f"checkpoint {saved.path}: written for {field}={saved.config[field]!r}, "
                    f"this GAN has {field}={own[field]!r}"
                )
    for group, state in _states(gan).items():
        found = saved.states[group]
        if set(found) != set(state):
            missing, extra = sorted(set(state) - set(found)), sorted(set(found) - set(state))
            raise CheckpointError(
                f"checkpoint {saved.path}: {group} does not match this GAN (missing {missing[:3]}, unexpected {extra[:3]})"
            )
        for key, array in state.items():
            if found[key].shape != array.shape:
                raise CheckpointError(
                    f"checkpoint {saved.path}: {group} {key} has shape {found[key].shape}, this GAN's has {array.shape}"
                )


def _states(gan) -> dict:
    return {"G": gan.G.state_dict(), "D": gan.D.state_dict(),
            "opt_G": gan.opt_G.state_dict(), "opt_D": gan.opt_D.state_dict()}


def _load_states(gan, states: dict) -> None:
    gan.G.load_state_dict(states["G"])
    gan.D.load_state_dict(states["D"])
    gan.opt_G.load_state_dict(states["opt_G"])
    gan.opt_D.load_state_dict(states["opt_D"])


def restore(saved: Saved, gan) -> None:
    """Load a ``read()`` checkpoint into ``gan`` (any backend); nothing changes if it does not fit."""
    _check_fits(saved, gan)
    before, rng_before = _states(gan), gan.rng.state()
    try:
        gan.rng.set_state(saved.rng_state)
        _load_states(gan, saved.states)
    except (KeyError, TypeError, ValueError) as error:  # a bad generator state, a hyperparameter out of range
        gan.rng.set_state(rng_before)
        _load_states(gan, before)
        raise CheckpointError(f"checkpoint {saved.path}: does not fit this GAN: {type(error).__name__}: {error}") from None
    gan.step = saved.step
    gan.last_checkpoint = saved.path


def load(path, gan) -> None:
    """Restore ``gan`` (built with the same config) from the checkpoint at ``path``."""
    restore(read(path), gan)
