"""Before a demo run trains: its GAN, its folder, and the memory it will need.

``prepare(args, backend)`` turns the command line into a GAN ready to train and the run
folder it writes into: a new ``--out/run-NNN`` for a new run; for ``--resume``, the run's
own folder when the checkpoint is that run's latest one (the same run goes on), else a new
folder (a branch: the earlier run stays as it was). It refuses, in one line, what cannot
work: options a resume cannot change, a --batch-size or --steps too large for this
machine's memory, a folder it cannot write to. ``resume_command`` writes the command line
that continues a run, for the messages that end one early.
"""
from __future__ import annotations

import os
import shlex
import tempfile

from minigan import gan

from minigan.gan import checkpoint

from minigan.runs import resume

from minigan.runs import folders

DEFAULT_OUT = "minigan-out"
CHECKPOINT_EVERY = 500   # steps between the demo's checkpoints (--checkpoint-every)
RUN_OPTIONS = {"dataset": "dataset", "arch": "arch", "k": "k", "batch_size": "m", "loss": "loss", "optimizer": "optimizer",
               "lr": "lr", "seed": "seed", "penalty": "penalty", "gamma": "gamma",
               "clip": "clip"}   # command-line option -> GANConfig field
# Rough sizes for the memory check made before anything is allocated
DATA_DIM = {"gaussian1d": 1, "ring": 2, "grid": 2, "digits": 64, "mnist": 784, "faces": 3 * 32 * 32, "categorical": 8}
BYTES_PER_UNIT = 4 * 8          # float32; each activation is kept for backward with its gradient, for
                                # the real and the fake minibatch, about 8 copies of every layer's output
HISTORY_BYTES_PER_STEP = 1000   # a step's row of history: 8 Python numbers in lists (about 260 bytes),
                                # up to three copies of them while history.csv is written


class UsageError(Exception):
    """The command line asks for something impossible (exit status 2)."""


class RunError(Exception):
    """Something went wrong while running (exit status 1)."""


def check_writable(folder: str) -> None:
    """Make ``folder`` if needed and check that files can be written there."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RunError(f"--out {folder}: cannot write there ({reason}); choose another folder with --out DIR") from None


def physical_memory() -> int | None:
    """This machine's memory in bytes, where the OS says (None elsewhere)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def activation_units(config, dim: int) -> int:
    """The numbers one example leaves in G's and D's layers: what a minibatch costs per example."""
    if config.arch == "dcgan":   # each width lives on a side that doubles from 4 pixels (G) or halves to 4 (D)
        g = sum(w * (4 * 2 ** i) ** 2 for i, w in enumerate(config.g_hidden))
        d = sum(w * (4 * 2 ** i) ** 2 for i, w in enumerate(reversed(config.d_hidden)))
        return config.noise_dim + g + 2 * dim + d + 1
    return sum([config.noise_dim, *config.g_hidden, dim]) + sum([dim, *config.d_hidden, 1])


def check_memory(config, first_step: int) -> None:
    """Refuse, before allocating anything, a --batch-size or --steps that cannot fit in memory."""
    total = physical_memory()
    if total is None:
        return
    units = activation_units(config, DATA_DIM[config.dataset])
    needs = {"--batch-size": (config.m, config.m * units * BYTES_PER_UNIT, "a minibatch that large"),
             "--steps": (config.steps, (config.steps - first_step) * HISTORY_BYTES_PER_STEP, "the history of so many steps")}
    for option, (value, needed, what) in needs.items():
        if needed > total:
            raise UsageError(f"{option} {value}: {what} needs about {_size(needed)} of memory and this machine has "
                             f"{_size(total)}; pass a smaller {option}")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return ""  # not reached


def without(argv: list, option: str) -> list:
    """``argv`` less ``option`` and its value (given as ``--option VALUE`` or ``--option=VALUE``)."""
    kept, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == option:
            skip = True
        elif not word.startswith(option + "="):
            kept.append(word)
    return kept


def resume_command(program: str, argv: list, checkpoint_path: str, **options) -> str:
    """The command line that resumes this run: ``program argv`` with --resume ``checkpoint_path``
    (and ``options``, such as lr=0.01, replacing any given)."""
    words = without(argv, "--resume")
    for name, value in options.items():
        words = [*without(words, f"--{name}"), f"--{name}", f"{value:g}"]
    return shlex.join([*program.split(), *words, "--resume", checkpoint_path])


def prepare(args, backend_name: str):
    """(the GAN, its run folder's path, history rows before it, lines to print) for a new or resumed run."""
    if args.resume is None:
        changes = {RUN_OPTIONS[o]: getattr(args, o) for o in RUN_OPTIONS if getattr(args, o) is not None}
        changes["dataset"] = args.dataset or "ring"
        if args.steps is not None:
            changes["steps"] = args.steps
        if getattr(args, "threads", None) is not None:
            changes["threads"] = args.threads
        if args.gamma is not None and args.penalty is None:
            raise UsageError(f"--gamma {args.gamma:g}: there is no penalty to weigh; add --penalty r1, r2 or gp")
        try:
            config = gan.recipe(backend=backend_name, **changes)
        except ValueError as error:     # options the config refuses together, e.g. --arch dcgan on the ring
            raise UsageError(str(error)) from None
        check_memory(config, 0)
        out = args.out or DEFAULT_OUT
        if folders.is_run_folder(out):
            raise UsageError(f"--out {out}: that is one run's folder; pass the folder that holds the runs "
                             f"({os.path.dirname(os.path.abspath(out))}) or a new one")
        check_writable(out)
        model = gan.build(config)
        folders.tidy(out)
        return model, folders.new_run_folder(out), None, []

    if os.path.isdir(args.resume):
        raise RunError(f"--resume {args.resume}: that is a folder; pass the checkpoint.npz in it "
                       f"(e.g. {os.path.join(args.resume, folders.CHECKPOINT)})")
    if not os.path.isfile(args.resume):
        raise RunError(f"--resume {args.resume}: no such file; pass the checkpoint.npz an earlier run wrote "
                       f"(e.g. {DEFAULT_OUT}/latest/checkpoint.npz)")
    try:
        saved = checkpoint.read(args.resume)
        if saved.config is None:
            raise checkpoint.CheckpointError(f"checkpoint {args.resume}: holds no config")
        plan = resume.plan(saved.config, saved.step, {o: getattr(args, o) for o in (*resume.CHANGEABLE, *resume.FIXED)})
        check_memory(gan.GANConfig.from_dict(saved.config).replace(**plan.changes), saved.step)
        model = gan.resume(args.resume, backend=backend_name, changes=plan.changes,
                           threads=getattr(args, "threads", None))
    except resume.ResumeRefused:
        raise
    except checkpoint.CheckpointError as error:
        raise RunError(f"--resume: {error}; pass a checkpoint.npz written by an earlier run") from None
    except (TypeError, ValueError) as error:       # a config this minigan cannot read
        raise RunError(f"--resume: checkpoint {args.resume}: its config is not valid here ({error})") from None
    source = os.path.dirname(os.path.realpath(args.resume))
    parent = os.path.dirname(source) if folders.is_run_folder(source) else source
    try:                                             # checked before any folder is made
        earlier = folders.read_history(os.path.join(source, folders.HISTORY), model.step)
    except ValueError as error:
        raise RunError(f"--resume: the earlier history {error}; move it away to resume without it") from None
    if earlier is not None and earlier["step"] != list(range(1, model.step + 1)):
        steps = earlier["step"]
        raise RunError(f"--resume: {os.path.join(source, folders.HISTORY)} has {len(steps)} rows up to step "
                       f"{model.step} (steps {steps[:1]}...{steps[-1:]}), but the checkpoint is at step {model.step}: "
                       f"they are not of one run; move history.csv away to resume without it")
    latest = folders.is_run_folder(source) and os.path.basename(os.path.realpath(args.resume)) == folders.CHECKPOINT
    out = parent if args.out is None else args.out
    if latest and os.path.realpath(out) in (source, parent):
        # the run's own latest checkpoint: go on in its folder (named as the user did, if the user's
        # path leads there: "out/latest/checkpoint.npz" -> "out/run-002")
        spelled = os.path.join(os.path.dirname(os.path.dirname(args.resume)), os.path.basename(source))
        folder = spelled if os.path.realpath(spelled) == source else source
    else:                                            # another checkpoint, or elsewhere: a new folder
        if folders.is_run_folder(out):
            raise UsageError(f"--out {out}: that is one run's folder; pass the folder that holds the runs")
        check_writable(out)
        folder = folders.new_run_folder(out)
    lines = list(plan.lines)
    if earlier is None:
        lines.append(f"note: the history beside {args.resume} does not reach step {model.step}; history.csv "
                     f"has the rows it has, then steps from {model.step + 1} on")
    return model, folder, earlier, lines
