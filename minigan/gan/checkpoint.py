"""Checkpoints: a whole training run in one ``.npz`` file, resumed bit for bit.

One file holds everything the next iteration depends on:

    format, version          "minigan-checkpoint", 2: what the file is
    step                     iterations done
    config                   the GANConfig in force now, as JSON (a 0-d string array), or "null"
    run                      the run as JSON: its id, every config it has had (with the step
                             each began at) and the parameters' norm at step 0
    rng                      the training generator's state as JSON (PCG64 on the host)
    G/<name>, D/<name>       every parameter (``state_dict()``)
    opt_G/<key>, opt_D/<key> both optimizers' states (Adam's moments and step count, ...)

Plain arrays only, so the file is read with ``allow_pickle=False`` (a pickle can run any
code when loaded). Arrays are host NumPy arrays: a checkpoint written on the GPU loads on
a laptop and the other way round. The zip is written with a fixed date on every member,
so the same training state always gives the same bytes (``np.savez`` stamps the time).

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
import zipfile
from dataclasses import dataclass, field

import numpy as np

FORMAT = "minigan-checkpoint"
VERSION = 2                       # 2 added "run"; version 1 files still load
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no clock in the file
GROUPS = ("G", "D", "opt_G", "opt_D")
# Config fields that fix the arrays' shapes and meaning: a checkpoint only loads where they agree.
# (The optimizer may change on resume: its state is then left out, see restore.)
MUST_MATCH = ("dataset", "noise_dim", "g_hidden", "d_hidden", "g_activation", "d_activation", "g_output")


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
    run: dict = field(default_factory=dict)  # run_id, configs, start_norm (empty in version 1 files)


def _text(value) -> np.ndarray:
    return np.asarray(value, dtype=np.str_)  # a 0-d unicode array: no pickle needed


def save(path, gan) -> str:
    """Write ``gan``'s whole training state to ``path`` (atomically). Returns the path."""
    path = os.fspath(path)
    run = {"run_id": gan.run_id, "configs": gan.configs, "start_norm": gan.start_norm}
    arrays = {
        "format": _text(FORMAT),
        "version": np.asarray(VERSION, dtype=np.int64),
        "step": np.asarray(gan.step, dtype=np.int64),
        "config": _text(json.dumps(None if gan.config is None else gan.config.to_dict())),
        "run": _text(json.dumps(run)),
        "rng": _text(json.dumps(gan.rng.state())),
    }
    for group, state in _states(gan).items():
        for key, array in state.items():
            if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
                raise CheckpointError(f"checkpoint {path}: {group} {key} is not finite; refusing to save a diverged state")
            arrays[f"{group}/{key}"] = array
    with atomic_file(path, "wb") as f:
        write_npz(f, arrays)
    return path


def write_npz(file, arrays: dict) -> None:
    """What ``np.savez`` writes (one ``<key>.npy`` per array, uncompressed), with a fixed date."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            with archive.open(zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def read(path) -> Saved:
    """Read and check a checkpoint file without loading it into anything."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        with open(path, "rb") as f:
            start = f.read(4)
    except OSError as error:
        raise CheckpointError(f"checkpoint {path}: cannot be read ({error.strerror or type(error).__name__})") from None
    if start != b"PK\x03\x04":          # every zip (and so every .npz) begins with these 4 bytes
        what = "an empty file" if not start else "not a zip file, as every .npz is"
        raise CheckpointError(f"checkpoint {path}: not a minigan checkpoint ({what})")
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
        run = json.loads(str(arrays["run"])) if "run" in arrays else {}
        return Saved(path=path, step=int(arrays["step"]), config=json.loads(str(arrays["config"])),
                     rng_state=json.loads(str(arrays["rng"])), states=states, run=run)
    except (KeyError, ValueError, TypeError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"checkpoint {path}: damaged minigan checkpoint ({type(error).__name__}: {error})") from None


def _check_fits(saved: Saved, gan, groups) -> None:
    """Every array the GAN needs (in ``groups``) is there with its shape, and the configs agree."""
    if saved.config is not None and gan.config is not None:
        own = gan.config.to_dict()
        for name in MUST_MATCH + (("optimizer",) if "opt_G" in groups else ()):
            if name in saved.config and saved.config[name] != own[name]:
                raise CheckpointError(
                    f"checkpoint {saved.path}: written for {name}={saved.config[name]!r}, "
                    f"this GAN has {name}={own[name]!r}"
                )
    for group, state in _states(gan, groups).items():
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


def _states(gan, groups=GROUPS) -> dict:
    modules = {"G": gan.G, "D": gan.D, "opt_G": gan.opt_G, "opt_D": gan.opt_D}
    return {group: modules[group].state_dict() for group in groups}


def _load_states(gan, states: dict) -> None:
    modules = {"G": gan.G, "D": gan.D, "opt_G": gan.opt_G, "opt_D": gan.opt_D}
    for group, state in states.items():
        modules[group].load_state_dict(state)


def restore(saved: Saved, gan, optimizer_state: bool = True) -> None:
    """Load a ``read()`` checkpoint into ``gan`` (any backend); nothing changes if it does not fit.

    ``optimizer_state=False`` loads the networks and the generator only, leaving the
    optimizers as they are: for a resume that switches to another optimizer.
    """
    groups = GROUPS if optimizer_state else ("G", "D")
    _check_fits(saved, gan, groups)
    before, rng_before = _states(gan, groups), gan.rng.state()
    try:
        gan.rng.set_state(saved.rng_state)
        _load_states(gan, {group: saved.states[group] for group in groups})
    except (KeyError, TypeError, ValueError) as error:  # a bad generator state, a hyperparameter out of range
        gan.rng.set_state(rng_before)
        _load_states(gan, before)
        raise CheckpointError(f"checkpoint {saved.path}: does not fit this GAN: {type(error).__name__}: {error}") from None
    gan.step = saved.step
    gan.last_checkpoint = saved.path
    if saved.run:                      # version 2: the run's id and configs (version 1: build's stand in)
        gan.run_id, gan.configs, gan.start_norm = saved.run["run_id"], saved.run["configs"], saved.run["start_norm"]


def load(path, gan) -> None:
    """Restore ``gan`` (built with the same config) from the checkpoint at ``path``."""
    restore(read(path), gan)
