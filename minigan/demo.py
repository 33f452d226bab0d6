"""``python -m minigan.demo``: train a GAN from the command line and see what happened.

    python -m minigan.demo                          # the 8-mode ring, under a minute on 2 cores
    python -m minigan.demo --dataset gaussian1d     # the paper's Figure 1 picture
    python -m minigan.demo --dataset digits --backend cupy
    python -m minigan.demo --resume minigan-out/checkpoint.npz --steps 8000

It builds the run from the trainer's tested recipe for the dataset (``minigan.gan.recipe``),
with any options given on the command line on top, trains it with Algorithm 1, and writes
into ``--out``: metrics.json, history.csv, checkpoint.npz, losses.png, discriminator.png,
samples.png and training.gif. Every file is written atomically (a temporary file, then a
rename), so a run that fails never leaves a half-written file or destroys an earlier one.

A mistake on the command line gets one line on stderr and exit status 2; a problem found
while running (no GPU, an unreadable checkpoint, a folder we cannot write to, a diverged
run) one line and exit status 1. No tracebacks: the line says what is wrong and what to do.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
import time

import numpy as np

from minigan import callbacks, checkpoint, gan, metrics
from minigan.backend import BackendUnavailable, get_backend

DATASETS = ("gaussian1d", "ring", "grid", "digits")
RUN_OPTIONS = {"dataset": "dataset", "k": "k", "batch_size": "m", "loss": "loss", "optimizer": "optimizer",
               "lr": "lr", "seed": "seed"}   # command-line option -> GANConfig field
SNAPSHOTS = 20                 # frames of training.gif
SNAPSHOT_SAMPLES = {1: 1000, 2: 500}        # generated samples per frame, by data dimension (images: 64)
FILES = ("metrics.json", "history.csv", "checkpoint.npz", "losses.png", "discriminator.png", "samples.png",
         "training.gif")


class UsageError(Exception):
    """The command line asks for something impossible (exit status 2)."""


class RunError(Exception):
    """Something went wrong while running (exit status 1)."""


# ---- the command line ------------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) that points to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind, minimum: float, wanted: str):
    """An argparse ``type`` converting to ``kind`` and refusing values below ``minimum``."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}, wanted {wanted}") from None
        if not math.isfinite(value) or value < minimum or (minimum == 0 and kind is float and value == 0):
            raise argparse.ArgumentTypeError(f"got {text!r}, wanted {wanted}")
        return value
    return convert


positive_int = _number(int, 1, "a positive integer")
non_negative_int = _number(int, 0, "an integer >= 0")
positive_float = _number(float, 0, "a positive number")


def program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "minigan-demo" if name.startswith("minigan-demo") else "python -m minigan.demo"


def build_parser() -> Parser:
    p = Parser(prog=program_name(), allow_abbrev=False,
               description="Train a GAN (Goodfellow et al. 2014, Algorithm 1) and write its metrics, "
                           "history, checkpoint and pictures to --out. Unset options take the tested "
                           "recipe for the dataset (minigan.gan.recipe).")
    p.add_argument("--backend", choices=("auto", "numpy", "cupy"), default="numpy",
                   help="where arrays live: numpy (CPU, default), cupy (NVIDIA GPU), auto (cupy if a GPU works)")
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="p_data: gaussian1d (Figure 1), ring (8 modes, default), grid (25 modes), digits (8x8 images)")
    p.add_argument("--steps", type=positive_int, help="training iterations in all (with --resume: the step to reach)")
    p.add_argument("--k", type=positive_int, help="discriminator steps per generator step")
    p.add_argument("--batch-size", type=positive_int, metavar="M", help="minibatch size m")
    p.add_argument("--loss", choices=("non_saturating", "minimax"), help="the generator's loss")
    p.add_argument("--optimizer", choices=("adam", "sgd"), help="adam or sgd (with momentum)")
    p.add_argument("--lr", type=positive_float, help="learning rate (decayed as the recipe says)")
    p.add_argument("--seed", type=non_negative_int, help="seed of the weights and every minibatch (default 0)")
    p.add_argument("--out", default="minigan-out", metavar="DIR", help="folder for the results (default ./minigan-out)")
    p.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                   help="also save checkpoint.npz every N steps (default: at the end only)")
    p.add_argument("--resume", metavar="FILE", help="continue the run saved in this checkpoint.npz")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv=None) -> int:
    """Run the demo with ``argv`` (default: the command line); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return run(args)
    except SystemExit as exit:              # argparse: --help (0) or a usage error (2), already printed
        return exit.code
    except UsageError as error:
        print(f"{parser.prog}: error: {error} (see {parser.prog} --help)", file=sys.stderr)
        return 2
    except gan.TrainingDiverged as error:
        print(f"{parser.prog}: error: training diverged: {error}; try a smaller --lr or another --seed",
              file=sys.stderr)
        return 1
    except BackendUnavailable as error:
        print(f"{parser.prog}: error: {error} (here: --backend numpy)", file=sys.stderr)
        return 1
    except (RunError, checkpoint.CheckpointError, ImportError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; files in --out are from the last finished run or checkpoint",
              file=sys.stderr)
        return 130


# ---- the run ---------------------------------------------------------------------------------
def prepare_out(folder: str) -> str:
    """Make ``folder`` if needed and check that files can be written there."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RunError(f"--out {folder}: cannot write there ({reason}); choose another folder with --out DIR") from None
    return folder


def start(args, backend_name: str):
    """(the GAN, the history rows before it) for a new run or a resumed one."""
    if args.resume is None:
        changes = {RUN_OPTIONS[o]: getattr(args, o) for o in RUN_OPTIONS if getattr(args, o) is not None}
        changes["dataset"] = args.dataset or "ring"
        if args.steps is not None:
            changes["steps"] = args.steps
        return gan.build(gan.recipe(backend=backend_name, **changes)), None

    try:
        model = gan.resume(args.resume, backend=backend_name)
    except checkpoint.CheckpointError as error:
        raise RunError(f"--resume: {error}; pass a checkpoint.npz written by an earlier run") from None
    saved = model.config.to_dict()
    for option, field in RUN_OPTIONS.items():
        given = getattr(args, option)
        if given is not None and given != saved[field]:
            raise UsageError(f"--{option.replace('_', '-')} {given} conflicts with the checkpoint's {field}="
                             f"{saved[field]!r}; leave it out when resuming with --resume")
    steps = args.steps if args.steps is not None else model.config.steps
    if steps <= model.step:
        raise UsageError(f"--steps: the checkpoint is already at step {model.step}; pass --steps larger than "
                         f"{model.step} to train on")
    model.config = model.config.replace(steps=steps)    # the schedules run to the new last step
    return model, read_history(os.path.join(os.path.dirname(args.resume), "history.csv"), model.step)


def read_history(path: str, upto: int):
    """The columns of an earlier history.csv, rows up to step ``upto``; None if there is none."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, newline="") as f:
            rows = [row for row in csv.DictReader(f)]
        columns = {name: [] for name in callbacks.FIELDS}
        for row in rows:
            if int(row["step"]) <= upto:
                for name in callbacks.FIELDS:
                    columns[name].append(int(row[name]) if name == "step" else float(row[name]))
    except (OSError, KeyError, TypeError, ValueError, csv.Error) as error:
        raise RunError(f"--resume: the earlier history {path} is unreadable ({type(error).__name__}); "
                       f"move it away to resume without the earlier history") from None
    return columns


class Snapshots(callbacks.Callback):
    """Generated samples every ``every`` steps, for training.gif.

    The noise is the same for every frame (``gan.generate`` with a fixed seed, a generator
    of its own), so the frames show G changing, not z, and training is not disturbed.
    """

    def __init__(self, every: int, n: int, seed: int):
        self.every, self.n, self.seed = max(1, every), n, seed
        self.frames = []

    def take(self, model) -> None:
        if not self.frames or self.frames[-1][0] != model.step:
            self.frames.append((model.step, model.generate(self.n, seed=self.seed)))

    def on_train_begin(self, model, steps):
        self.take(model)

    def on_step(self, model, record):
        if record.step % self.every == 0:
            self.take(model)

    def on_train_end(self, model, finished):
        if finished:
            self.take(model)


def measure(model, samples) -> dict:
    """The dataset's quality numbers for ``samples`` (metrics.N_SAMPLES generated ones)."""
    p_data = model.p_data
    if model.config.dataset in ("ring", "grid"):
        found = metrics.mode_coverage(samples, p_data.centres, p_data.std)
        return {"modes_covered": found.modes_covered, "modes_total": found.modes_total,
                "high_quality_fraction": found.high_quality_fraction}
    if model.config.dataset == "gaussian1d":
        return {"js_divergence": metrics.js_divergence_1d(samples, p_data.density, *p_data.interval())}
    from minigan import digits_features  # trains (once, then cached) a small classifier of real digits
    classifier = digits_features.digits_classifier()
    return {**classifier.score(samples), "classifier_accuracy": classifier.accuracy}


def write_figures(model, history: dict, snapshots: list, samples, out: str) -> None:
    """losses.png, discriminator.png, samples.png and training.gif (matplotlib loads here)."""
    from minigan import plot

    p_data, seed = model.p_data, model.config.seed
    plot.plot_losses(history, os.path.join(out, "losses.png"))
    plot.plot_discriminator(history, os.path.join(out, "discriminator.png"))
    title = f"{model.config.dataset}, step {model.step}"
    figure, gif = os.path.join(out, "samples.png"), os.path.join(out, "training.gif")
    if model.config.dataset == "digits":
        plot.plot_digits(samples[:100], figure, real=p_data.images[:100], title=title)
        plot.save_training_gif(snapshots, gif)
        return
    real = model.backend.to_host(p_data.sample(len(samples), model.backend.random(seed + 1)))
    if p_data.dim == 1:
        plot.plot_samples_1d(real, samples, figure, density=p_data.density, discriminator=model.discriminate,
                             title=title)
        plot.save_training_gif(snapshots, gif, real=real, density=p_data.density)
    else:
        plot.plot_samples_2d(real, samples, figure, discriminator=model.discriminate, centres=p_data.centres,
                             title=title)
        plot.save_training_gif(snapshots, gif, real=real)


def run(args) -> int:
    say = (lambda *a: None) if args.quiet else print
    run_started = time.perf_counter()
    backend = get_backend(args.backend)                  # BackendUnavailable says how to fix it
    if args.resume is not None and not os.path.isfile(args.resume):
        raise RunError(f"--resume {args.resume}: no such file; pass the checkpoint.npz an earlier run wrote "
                       f"(e.g. minigan-out/checkpoint.npz)")
    out = prepare_out(args.out)
    model, earlier = start(args, backend.name)
    first_step, config = model.step, model.config
    if first_step and earlier is None:
        say(f"note: no history.csv beside {args.resume}; history.csv starts at step {first_step + 1}")

    history = callbacks.History()
    frames = Snapshots((config.steps - first_step) // SNAPSHOTS, SNAPSHOT_SAMPLES.get(model.p_data.dim, 64),
                       config.seed)
    checkpoint_path = os.path.join(out, "checkpoint.npz")
    steps = [history, frames, *gan.schedules(config, model),
             callbacks.Checkpoint(checkpoint_path, every=args.checkpoint_every),
             callbacks.ProgressBar(disable=True if (args.quiet or args.no_progress) else None)]
    resumed = f", resumed at step {first_step}" if first_step else ""
    say(f"training a GAN on {config.dataset} ({backend.name}{resumed}) to step {config.steps}: "
        f"k={config.k}, m={config.m}, {config.loss} loss, {config.optimizer} lr={config.lr:g}")
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):   # a diverged run is reported by the trainer
        model.train(config.steps - first_step, callbacks=steps)
    seconds = time.perf_counter() - started

    columns = history.as_columns()
    if earlier is not None:
        columns = {name: earlier[name] + columns[name] for name in callbacks.FIELDS}
    callbacks.write_csv(os.path.join(out, "history.csv"), columns)
    samples = model.generate(metrics.N_SAMPLES, seed=config.seed)
    if config.dataset == "digits" and not args.quiet:
        say("scoring the digits with a small classifier (trained once, then cached)")
    results = {"dataset": config.dataset, "backend": backend.name, "steps": model.step, "seconds": round(seconds, 2),
               "seed": config.seed, **measure(model, samples), "resumed_from": first_step or None,
               "config": config.to_dict()}
    with checkpoint.atomic_file(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    write_figures(model, columns, frames.frames, samples, out)

    scores = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in results.items() if k not in ("dataset", "backend", "steps", "seconds", "seed",
                                                                "resumed_from", "config"))
    say(f"done: step {model.step}, {seconds:.1f} s training ({time.perf_counter() - run_started:.1f} s in all); "
        f"{scores}")
    say(f"wrote to {out}{os.sep}: {', '.join(FILES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
