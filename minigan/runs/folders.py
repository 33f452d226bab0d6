"""Run folders: one run, one folder, and nothing lost when a run stops early.

The demo writes every run into a folder of its own under ``--out``:

    minigan-out/                 --out: a folder of runs
        latest -> run-002        the run started last (a symbolic link)
        run-001/                 one run's files, and only that run's
            run.json             its run id, its state, who writes here (pid, host, command)
            history.csv          one row per step, rewritten (atomically) at every checkpoint
            checkpoint.npz       the whole run at its last checkpoint (it holds the run id too)
            last-good.npz        only once the parameters have blown up: the last checkpoint before
            metrics.json, losses.png, discriminator.png, samples.png, training.gif   (at the end)
            .lock                locked while a process writes here
        run-002/ ...

Three rules make such a folder trustworthy:

- A new run always makes a new folder. ``os.mkdir`` either creates it or fails, so two
  runs started at the same moment cannot share one, and no run touches another's files.
- A process writes into a run folder only while it holds the folder's lock (``filelock``:
  the operating system's lock, released even when the process is killed). A second
  process, such as a ``--resume`` of a run that is still going, is refused with a line
  naming the process that holds it.
- At every checkpoint history.csv is written first, then checkpoint.npz, each atomically,
  so the history always reaches at least the checkpoint's step. A resume keeps the rows
  up to the checkpoint's step and writes the rest again: bit for bit what an
  uninterrupted run writes.

A killed process can leave a temporary file (``.checkpoint.npz.*.tmp``) behind; the next
process to lock the folder removes it, and a new run removes those of every run folder
beside it that no one is using (``tidy``).
"""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import socket
import time

import filelock

from minigan.gan import callbacks

from minigan.gan import checkpoint

RUN_PREFIX = "run-"       # run-001, run-002, ...
LATEST = "latest"         # the link to the run started last
LOCK = ".lock"
LOCK_WAIT = 0.5           # seconds to wait for a run folder's lock before calling it in use
CHECKPOINT, LAST_GOOD, HISTORY, RUN_FILE = "checkpoint.npz", "last-good.npz", "history.csv", "run.json"
OUT_FILES = (CHECKPOINT, LAST_GOOD, HISTORY, RUN_FILE, "metrics.json", "losses.png", "discriminator.png",
             "samples.png", "training.gif")   # every name minigan writes, as atomic files with temporaries
# A checkpoint counts as "good" (worth resuming with a smaller lr) while its parameters look
# sane: finite, their norm within GOOD_NORM_GROWTH times the norm at step 0, and grown by at
# most GOOD_GROWTH_PER_STEP per step since the checkpoint before. Measured on healthy runs of
# every recipe: the norm grows 1.6 to 3 times over a run, by at most 1.6% in any one step. A run
# blowing up grows it 9% to 150% per step for a few steps before a loss turns NaN (ring, SGD at
# lr 1 and 50), and a checkpoint taken then diverges again even at a tenth of the lr.
GOOD_NORM_GROWTH = 10.0
GOOD_GROWTH_PER_STEP = 1.05


class FolderInUse(Exception):
    """Another process holds the run folder's lock."""


# ---- the folder of runs ------------------------------------------------------------------------
def run_folders(out) -> list:
    """The names of the run folders in ``out`` (run-001, ...), oldest first."""
    if not os.path.isdir(out):
        return []
    names = [n for n in os.listdir(out) if n.startswith(RUN_PREFIX) and n[len(RUN_PREFIX):].isdigit()]
    return sorted(names, key=lambda n: int(n[len(RUN_PREFIX):]))


def new_run_folder(out) -> str:
    """Make the next run folder in ``out`` (made if needed), point ``latest`` to it, return its path."""
    os.makedirs(out, exist_ok=True)
    existing = run_folders(out)
    number = int(existing[-1][len(RUN_PREFIX):]) + 1 if existing else 1
    while True:
        path = os.path.join(out, f"{RUN_PREFIX}{number:03d}")
        try:
            os.mkdir(path)                 # fails if another run made it first: then take the next
            break
        except FileExistsError:
            number += 1
    point_latest(out, os.path.basename(path))
    return path


def tidy(out) -> list:
    """Remove the temporary files killed processes left in ``out`` and in its run folders that
    no one holds now (a folder in use is skipped: its temporary files may be half-written).
    Returns the paths removed."""
    # --out itself: only the names minigan's runs write (older versions wrote into it directly),
    # since the folder may hold anything of the user's; not ".latest.PID.tmp", which another
    # run starting now may be about to rename
    removed = [os.path.join(out, n) for n in remove_temporary_files(out, of=OUT_FILES)]
    for name in run_folders(out):
        folder = os.path.join(out, name)
        if not is_run_folder(folder):      # just made by a run that is about to lock it: nothing to tidy
            continue
        lock = filelock.FileLock(os.path.join(folder, LOCK), timeout=0)
        try:
            with lock:
                removed += [os.path.join(folder, n) for n in remove_temporary_files(folder)]
        except (filelock.Timeout, OSError):
            continue
    return removed


def point_latest(out, name: str) -> bool:
    """Make ``out/latest`` a link to ``name``, atomically; False where links cannot be made."""
    latest = os.path.join(out, LATEST)
    if os.path.lexists(latest) and not os.path.islink(latest):
        return False                       # a real file or folder named "latest": leave it alone
    temporary = os.path.join(out, f".{LATEST}.{os.getpid()}.tmp")
    try:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(name, temporary)
        os.replace(temporary, latest)      # the link changes in one step
    except (OSError, NotImplementedError):  # e.g. Windows without the right to make links
        return False
    return True


def is_run_folder(path) -> bool:
    return os.path.isfile(os.path.join(path, RUN_FILE))


def is_temporary(name: str, of=None) -> bool:
    """Whether ``name`` is a temporary file of an atomic write: ``.NAME.XXXX.tmp`` (checkpoint,
    history, JSON) or ``.NAME.PID.tmp.png`` (figures); ``of``: only for these NAMEs."""
    if not name.startswith(".") or not (name.endswith(".tmp") or ".tmp." in name):
        return False
    return of is None or any(name.startswith(f".{target}.") for target in of)


def remove_temporary_files(folder, of=None) -> list:
    """Remove the temporary files a killed process left in ``folder`` (only those of the
    files named in ``of``, if given); return their names."""
    removed = []
    for name in sorted(os.listdir(folder)):
        if is_temporary(name, of):
            os.unlink(os.path.join(folder, name))
            removed.append(name)
    return removed


# ---- one run's folder ----------------------------------------------------------------------------
class RunFolder:
    """A run folder, locked while the ``with`` block runs; it saves the run as training goes.

        with RunFolder(path, model.run_id, command) as folder:
            folder.save(model, columns)          # history.csv, then checkpoint.npz
    """

    def __init__(self, path, run_id: str, command: str):
        self.path, self.run_id, self.command = os.fspath(path), run_id, command
        self.checkpoint = os.path.join(self.path, CHECKPOINT)
        self.last_good = None              # (path, step) of the newest checkpoint whose parameters look sane
        self._norm = None                  # (parameter norm, step) at the last save
        # a short wait rides over another process's tidy(); a run holding the lock holds it for long
        self._lock = filelock.FileLock(os.path.join(self.path, LOCK), timeout=LOCK_WAIT)
        self._info = {}

    def __enter__(self) -> "RunFolder":
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise FolderInUse(f"{self.path} is in use by another run: {self.holder()}; wait for it to end "
                              f"or stop it, or resume into another folder with --out DIR") from None
        try:
            remove_temporary_files(self.path)       # a killed writer's: we hold the lock now
            self._info = self.read_info()
            self._info.update({"run_id": self.run_id, "state": "running", "writer": {
                "pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}})
            self._write_info()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()

    def holder(self) -> str:
        """Who holds the lock, as run.json tells: "process 1234 on HOST (COMMAND), since TIME"."""
        writer = self.read_info().get("writer") or {}
        if "pid" not in writer:
            return "another process"
        return f"process {writer['pid']} on {writer.get('host')} ({writer.get('command')}), since {writer.get('started')}"

    def read_info(self) -> dict:
        """run.json's content ({} if there is none, or it is unreadable)."""
        try:
            with open(os.path.join(self.path, RUN_FILE)) as f:
                info = json.load(f)
            return info if isinstance(info, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_info(self) -> None:
        with checkpoint.atomic_file(os.path.join(self.path, RUN_FILE), "w") as f:
            json.dump(self._info, f, indent=2)
            f.write("\n")

    def finish(self, state: str, **facts) -> None:
        """Record the run's state in run.json: "finished", "interrupted" or "diverged"."""
        self._info.update(state=state, **facts)
        self._write_info()

    # ---- saving as training goes -------------------------------------------------------------
    def looks_good(self, gan) -> bool:
        """Whether ``gan``'s parameters look sane (see GOOD_NORM_GROWTH); remembers their norm."""
        norm, before = gan.parameter_norm(), self._norm
        self._norm = (norm, gan.step)
        if not math.isfinite(norm) or (gan.start_norm is not None and norm > GOOD_NORM_GROWTH * gan.start_norm):
            return False
        if before is None or before[0] == 0 or norm <= before[0]:
            return True
        steps = max(gan.step - before[1], 1)      # compared as logs: 1.05 ** steps overflows for long gaps
        return math.log(norm / before[0]) <= steps * math.log(GOOD_GROWTH_PER_STEP)

    def resumed(self, gan) -> None:
        """Note which checkpoint in this folder is the last good one, for a run resumed here."""
        if self.looks_good(gan):
            self.last_good = (self.checkpoint, gan.step)
        elif os.path.isfile(os.path.join(self.path, LAST_GOOD)):
            self.last_good = (os.path.join(self.path, LAST_GOOD), checkpoint.read(os.path.join(self.path, LAST_GOOD)).step)
        gan.last_checkpoint = self.last_good and self.last_good[0]

    def write_history(self, columns: dict) -> None:
        callbacks.write_csv(os.path.join(self.path, HISTORY), columns)

    def save(self, gan, columns: dict) -> None:
        """history.csv up to now, then checkpoint.npz (TrainingDiverged if the state is not finite).

        Before a checkpoint that does not look good (``looks_good``) replaces the last good
        one, that one is kept as last-good.npz; the divergence message names it.
        """
        gan.check_finite(parameters=True)      # raises TrainingDiverged naming the step
        self.write_history(columns)
        good = self.looks_good(gan)
        last_good = os.path.join(self.path, LAST_GOOD)
        if not good and self.last_good is not None and self.last_good[0] == self.checkpoint:
            with open(self.checkpoint, "rb") as source, checkpoint.atomic_file(last_good, "wb") as copy:
                shutil.copyfileobj(source, copy)
            self.last_good = (last_good, self.last_good[1])
        checkpoint.save(self.checkpoint, gan)
        if good:
            self.last_good = (self.checkpoint, gan.step)
            if os.path.exists(last_good):      # an older state of this same run, now superseded
                os.unlink(last_good)
        gan.last_checkpoint = self.last_good and self.last_good[0]
        self._info["step"] = gan.step
        self._write_info()


class SaveEvery(callbacks.Callback):
    """Save the run into a RunFolder every ``every`` steps; ``columns()`` gives the history so far."""

    def __init__(self, folder: RunFolder, every: int, columns):
        self.folder, self.every, self.columns = folder, every, columns

    def on_step(self, gan, record) -> None:
        if record.step % self.every == 0:
            self.folder.save(gan, self.columns())


# ---- reading a history back ----------------------------------------------------------------------
def read_history(path, upto: int) -> dict | None:
    """The columns of history.csv at ``path``, rows up to step ``upto``; None if there is no file.

    The numbers were written with ``repr``, so they read back as the very same floats. A
    file from before the lr column gets NaN there. ValueError names what is wrong.
    """
    if not os.path.exists(path):
        return None
    columns = {name: [] for name in callbacks.FIELDS}
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if int(row["step"]) > upto:
                    break
                for name in callbacks.FIELDS:
                    text = row.get(name, "nan") if name == "lr" else row[name]
                    columns[name].append(int(text) if name == "step" else float(text))
    except (OSError, KeyError, TypeError, ValueError, csv.Error) as error:
        raise ValueError(f"{path} is unreadable ({type(error).__name__}: {error})") from None
    return columns
