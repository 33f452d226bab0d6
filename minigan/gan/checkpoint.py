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

A file that is truncated, not a minigan checkpoint, made for another network, or crafted
(a negative step, arrays larger than their headers say, values that are not finite)
raises ``CheckpointError`` (a ValueError) with one line saying which, before anything is
loaded: ``read`` looks at the headers only (``minigan.gan.npz``), ``restore`` reads the
arrays once their shapes and dtypes match the GAN's.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as np

from minigan.gan import npz
from minigan.gan.config import GANConfig

FORMAT = "minigan-checkpoint"
VERSION = 2                       # 2 added "run"; version 1 files still load
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no clock in the file
GROUPS = ("G", "D", "opt_G", "opt_D")
# Config fields that fix the arrays' shapes and meaning: a checkpoint only loads where they agree.
# (The optimizer may change on resume: its state is then left out, see restore.)
TEXTS = ("config", "run", "rng")  # the JSON members
MAX_TEXT_BYTES = 64 << 20         # one JSON member (drawn points and every config included) is far less
MAX_BYTES = 4 << 30               # all the arrays of one checkpoint (an MNIST run with Adam: about 60 MB)
MUST_MATCH = ("dataset", "noise_dim", "g_hidden", "d_hidden", "g_activation", "d_activation", "g_output")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the GAN it is loaded into."""


@contextlib.contextmanager
def atomic_file(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step.

        with atomic_file("history.csv", "w") as f:
            f.write(...)

    If the block raises (or the process dies), ``path`` keeps its old content and the
    temporary file is removed (or, after a kill, left as an ignorable ``.*.tmp``). An
    OSError (a full disk) names ``path``, the file being written.
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
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError) and error.errno is not None and error.filename in (None, temporary):
            # name the file being written, not the temporary one (a full disk: "[Errno 28] ...: 'path'")
            raise OSError(error.errno, error.strerror, path) from None
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
    headers: dict  # group ("G", "D", "opt_G", "opt_D") -> {key: (shape, dtype)}; restore reads the data
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
    """Read and check a checkpoint file without loading it into anything.

    Every field is checked against its meaning before anything is used: the format tag and
    version, a step >= 0, a config GANConfig accepts, the run's configs at steps from 0 to
    the step, a generator state. Of the arrays only the headers are read here (shape and
    dtype, a few hundred bytes each): ``restore`` compares them with the GAN's own before
    reading their data, so a crafted file (a zip bomb) costs no memory.
    """
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
        with npz.NpzReader(path, limit=MAX_TEXT_BYTES * len(TEXTS)) as archive:
            if "format" not in archive.members or archive.header("format")[0] != () \
                    or str(archive.array("format")) != FORMAT:
                raise CheckpointError(f"checkpoint {path}: not a minigan checkpoint (no {FORMAT!r} format tag)")
            version = _integer(archive, "version", path)
            if version > VERSION:
                raise CheckpointError(f"checkpoint {path}: format version {version} is newer than this minigan "
                                      f"reads ({VERSION}); upgrade minigan")
            step = _integer(archive, "step", path)
            if version < 1 or step < 0:
                raise CheckpointError(f"checkpoint {path}: version {version}, step {step}: wanted a version from 1 "
                                      f"and an iteration count >= 0")
            texts = {name: json.loads(_text_member(archive, name, path)) for name in TEXTS
                     if name in archive.members or name != "run"}   # "run" is absent from version 1 files
            headers = {group: {} for group in GROUPS}
            for name in archive.names():
                group, _, key = name.partition("/")
                if group in headers and key:
                    headers[group][key] = archive.header(name)
    except CheckpointError:
        raise
    except (KeyError, ValueError, TypeError, RecursionError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise CheckpointError(f"checkpoint {path}: not a readable .npz file (truncated or corrupt?): "
                              f"{type(error).__name__}: {str(error)[:200]}") from None
    config, run, rng = texts["config"], texts.get("run", {}), texts["rng"]
    _check_meaning(path, step, config, run, rng)
    return Saved(path=path, step=step, config=config, rng_state=rng, headers=headers, run=run)


def _integer(archive, name: str, path) -> int:
    shape, dtype = archive.header(name)
    if shape != () or dtype.kind not in "iu":
        raise CheckpointError(f"checkpoint {path}: {name} is {shape} {dtype}, wanted one integer")
    return int(archive.array(name))


def _text_member(archive, name: str, path) -> str:
    shape, dtype = archive.header(name)
    if shape != () or dtype.kind != "U" or archive.members[name].file_size > MAX_TEXT_BYTES:
        raise CheckpointError(f"checkpoint {path}: {name} is {shape} {dtype} of "
                              f"{archive.members[name].file_size} bytes, wanted one text of at most {MAX_TEXT_BYTES}")
    return str(archive.array(name))


def _check_meaning(path, step: int, config, run, rng) -> None:
    """The JSON fields say what they must: a config GANConfig takes, a run whose configs begin
    at steps 0 to ``step``, a finite start norm, a generator state."""
    if config is not None:
        try:
            GANConfig.from_dict(config)
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"checkpoint {path}: its config is not valid: {error}") from None
    if not isinstance(rng, dict):
        raise CheckpointError(f"checkpoint {path}: rng is {type(rng).__name__}, wanted a generator state (an object)")
    if run == {}:
        return                                       # version 1: build's run id stands in
    if not isinstance(run, dict) or not isinstance(run.get("run_id"), (str, type(None))) \
            or not isinstance(run.get("configs"), list):   # run_id None: a GAN built by hand, not by build()
        raise CheckpointError(f"checkpoint {path}: run is not an object with a run_id and a list of configs")
    for entry in run["configs"]:
        at = entry.get("step") if isinstance(entry, dict) else None
        if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= step or not isinstance(entry.get("config"), dict):
            raise CheckpointError(f"checkpoint {path}: run.configs has {str(entry)[:80]}, wanted "
                                  f"{{'step': 0 to {step}, 'config': {{...}}}}")
    norm = run.get("start_norm")
    if norm is not None and (not isinstance(norm, (int, float)) or not math.isfinite(norm) or norm < 0):
        raise CheckpointError(f"checkpoint {path}: run.start_norm is {norm!r}, wanted a finite norm >= 0")


def _check_fits(saved: Saved, gan, groups) -> None:
    """Every array the GAN needs (in ``groups``) is there with its shape and dtype (from the
    headers: no data read yet), and the configs agree."""
    if saved.config is not None and gan.config is not None:
        own = gan.config.to_dict()
        for name in MUST_MATCH + (("optimizer",) if "opt_G" in groups else ()):
            if name in saved.config and saved.config[name] != own[name]:
                raise CheckpointError(
                    f"checkpoint {saved.path}: written for {name}={saved.config[name]!r}, "
                    f"this GAN has {name}={own[name]!r}"
                )
    for group, state in _states(gan, groups).items():
        found = saved.headers[group]
        if set(found) != set(state):
            missing, extra = sorted(set(state) - set(found)), sorted(set(found) - set(state))
            raise CheckpointError(
                f"checkpoint {saved.path}: {group} does not match this GAN (missing {missing[:3]}, unexpected {extra[:3]})"
            )
        for key, array in state.items():
            shape, dtype = found[key]
            if shape != array.shape or dtype != array.dtype:
                raise CheckpointError(f"checkpoint {saved.path}: {group} {key} has shape {shape} ({dtype}), "
                                      f"this GAN's has {array.shape} ({array.dtype})")


def read_states(saved: Saved, groups) -> dict:
    """The arrays of ``groups``, read now (their headers were checked by ``_check_fits``); every
    float finite, every integer >= 0, the total at most MAX_BYTES."""
    states = {group: {} for group in groups}
    try:
        with npz.NpzReader(saved.path, limit=MAX_BYTES) as archive:
            for group in groups:
                for key, (shape, dtype) in saved.headers[group].items():
                    if archive.header(f"{group}/{key}") != (shape, dtype):
                        raise CheckpointError(f"checkpoint {saved.path}: {group}/{key} changed since it was read")
                    array = archive.array(f"{group}/{key}")
                    if (array.dtype.kind == "f" and not np.all(np.isfinite(array))) or \
                            (array.dtype.kind == "i" and np.any(array < 0)):
                        raise CheckpointError(f"checkpoint {saved.path}: {group} {key} holds "
                                              f"{'values that are not finite' if array.dtype.kind == 'f' else 'a negative count'}")
                    states[group][key] = array
    except CheckpointError:
        raise
    except (KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise CheckpointError(f"checkpoint {saved.path}: not a readable .npz file (truncated or corrupt?): "
                              f"{type(error).__name__}: {str(error)[:200]}") from None
    return states


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
    states = read_states(saved, groups)          # only now is any array's data read
    before, rng_before = _states(gan, groups), gan.rng.state()
    try:
        gan.rng.set_state(saved.rng_state)
        _load_states(gan, states)
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
