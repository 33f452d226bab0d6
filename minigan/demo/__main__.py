"""``python -m minigan.demo``: train a GAN from the command line and see what happened.

    python -m minigan.demo                          # the 8-mode ring, under a minute on 2 cores
    python -m minigan.demo --dataset gaussian1d     # the paper's Figure 1 picture
    python -m minigan.demo --dataset digits --backend cupy
    python -m minigan.demo --resume minigan-out/latest/checkpoint.npz --steps 8000

It builds the run from the trainer's tested recipe for the dataset (``minigan.gan.recipe``),
with any options given on the command line on top, and trains it with Algorithm 1. Every
run gets a folder of its own, ``--out/run-NNN`` (``minigan.runs.folders``: the lock, the run id,
what is saved when), holding run.json, history.csv, checkpoint.npz, metrics.json,
losses.png, discriminator.png, samples.png and training.gif; ``--out/latest`` points to
the newest. A second run never touches the first one's files.

history.csv and checkpoint.npz are saved every --checkpoint-every steps and whenever the
run stops: Ctrl-C (SIGINT) or SIGTERM lets the current step finish, saves, prints how to
resume and exits 130 or 143 (``minigan.runs.interrupts``). ``--resume`` with the same command
then gives the same files, bit for bit, as a run that never stopped. What a resume may
change is in ``minigan.runs.resume``.

A mistake on the command line gets one line on stderr and exit status 2; a problem found
while running (no GPU, an unreadable checkpoint, a folder we cannot write to or that another
run is using, a diverged run, too little memory) one line and exit status 1. No
tracebacks: the line says what is wrong and what to do.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time

import numpy as np

from minigan import gan, losses

from minigan.gan import callbacks

from minigan.gan import checkpoint

from minigan.demo import digits

from minigan.runs import interrupts

from minigan.judging import metrics

from minigan.runs import resume

from minigan.judging import results

from minigan.runs import folders
from minigan.backend import BackendUnavailable, get_backend
from minigan.demo.prepare import CHECKPOINT_EVERY, DEFAULT_OUT, RunError, UsageError, prepare, resume_command

DATASETS = ("gaussian1d", "ring", "grid", "digits", "faces", "categorical")
FILES = ("run.json", "metrics.json", "history.csv", "checkpoint.npz", "losses.png", "discriminator.png",
         "samples.png", "training.gif")


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


def thread_count(text: str):
    """--threads: "auto" or a positive number of BLAS threads."""
    return "auto" if text == "auto" else _number(int, 1, "'auto' or a positive number of threads")(text)


def program_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "minigan-demo" if name.startswith("minigan-demo") else "python -m minigan.demo"


def build_parser() -> Parser:
    p = Parser(prog=program_name(), allow_abbrev=False,
               description="Train a GAN (Goodfellow et al. 2014, Algorithm 1) and write its metrics, "
                           "history, checkpoint and pictures to a new folder under --out. Unset options take "
                           "the tested recipe for the dataset and the --loss/--penalty pair (minigan.gan.recipe). "
                           "Ctrl-C saves the run and "
                           "prints the command that resumes it.")
    p.add_argument("--backend", choices=("auto", "numpy", "cupy"), default="numpy",
                   help="where arrays live: numpy (CPU, default), cupy (NVIDIA GPU), auto (cupy if a GPU works)")
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="p_data: gaussian1d (Figure 1), ring (8 modes, default), grid (25 modes), digits (8x8 images), "
                        "faces (32x32 cartoon faces, a DCGAN), categorical (one of 8 symbols, a Gumbel-softmax generator)")
    p.add_argument("--arch", choices=("mlp", "dcgan"),
                   help="the networks: mlp, or dcgan (convolutions; faces only, and their default)")
    p.add_argument("--steps", type=positive_int, help="training iterations in all (with --resume: the step to reach)")
    p.add_argument("--k", type=positive_int, help="discriminator steps per generator step")
    p.add_argument("--batch-size", type=positive_int, metavar="M", help="minibatch size m")
    p.add_argument("--loss", choices=losses.GENERATOR_FORMS,
                   help="the loss pair: non_saturating or minimax (G's form against the 2014 D), lsgan, wgan, hinge")
    p.add_argument("--penalty", choices=("r1", "r2", "gp"),
                   help="a penalty on D's input gradient: r1 (at real samples), r2 (at fakes), gp (WGAN-GP)")
    p.add_argument("--gamma", type=positive_float, help="the penalty's weight (gamma/2 for r1 and r2, lambda for gp)")
    p.add_argument("--clip", type=positive_float, metavar="C", help="WGAN weight clipping: D's weights kept in [-C, C]")
    p.add_argument("--optimizer", choices=("adam", "sgd"), help="adam or sgd (with momentum)")
    p.add_argument("--lr", type=positive_float, help="learning rate (decayed as the recipe says)")
    p.add_argument("--seed", type=non_negative_int, help="seed of the weights and every minibatch (default 0)")
    p.add_argument("--out", metavar="DIR",
                   help=f"the folder of runs: each new run writes into a new DIR/run-NNN, DIR/latest points to "
                        f"it (default ./{DEFAULT_OUT}; with --resume: where the checkpoint's run is)")
    p.add_argument("--checkpoint-every", type=positive_int, default=CHECKPOINT_EVERY, metavar="N",
                   help=f"save history.csv and checkpoint.npz every N steps (default {CHECKPOINT_EVERY}), "
                        f"and whenever the run stops")
    p.add_argument("--resume", metavar="FILE",
                   help="continue the run saved in this checkpoint.npz; may change --steps, --lr, --k, --loss, "
                        "--penalty, --gamma, --clip, --optimizer")
    p.add_argument("--threads", type=thread_count, metavar="N|auto",
                   help="BLAS threads: auto (default: minigan times 1 and all, keeps the faster, and checks "
                        "again as the machine's load changes) or N; OPENBLAS_NUM_THREADS/OMP_NUM_THREADS "
                        "in the environment are respected under auto")
    p.add_argument("--labels", type=positive_int, metavar="N",
                   help="with --dataset digits: a semi-supervised GAN's classifier from N labelled digits (N/10 per "
                        "class) and the unlabelled rest, against the same network on the N labels alone")
    p.add_argument("--conditional", action="store_true",
                   help="with --dataset digits or faces: a conditional GAN, G(z, y) draws the digit y (a 10x10 "
                        "grid, a row per class) or the face of classes y (a DCGAN; a 5x10 grid, a row per mouth)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p



def main(argv=None) -> int:
    """Run the demo with ``argv`` (default: the command line); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    with interrupts.StopOnSignal() as stop:
        try:
            args = parser.parse_args(argv)
            return run(args, argv, stop)
        except SystemExit as exit:              # argparse: --help (0) or a usage error (2), already printed
            return exit.code
        except (UsageError, resume.ResumeRefused) as error:
            print(f"{parser.prog}: error: {error} (see {parser.prog} --help)", file=sys.stderr)
            return 2
        except Stopped as stopped:
            print(f"{parser.prog}: {stopped}", file=sys.stderr)
            return stopped.status
        except BackendUnavailable as error:
            print(f"{parser.prog}: error: {error} (here: --backend numpy)", file=sys.stderr)
            return 1
        except MemoryError as error:
            print(f"{parser.prog}: error: out of memory ({type(error).__name__}: {error}); pass a smaller "
                  f"--batch-size", file=sys.stderr)
            return 1
        except (RunError, folders.FolderInUse, checkpoint.CheckpointError, ImportError, OSError) as error:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:               # only where StopOnSignal could not listen (not the main thread)
            print(f"{parser.prog}: interrupted", file=sys.stderr)
            return 130


class Stopped(Exception):
    """The run stopped early (a signal, a divergence) with its files saved: one line, an exit status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


# ---- the run ---------------------------------------------------------------------------------
def run(args, argv: list, stop: interrupts.StopOnSignal) -> int:
    say = (lambda *a: None) if args.quiet else print
    run_started = time.perf_counter()
    if args.labels is not None or args.conditional:      # the digits runs that use labels (minigan.demo.digits)
        digits.check(args)
        return digits.run(args, argv, program_name(), say, get_backend(args.backend).name)
    backend = get_backend(args.backend)                  # BackendUnavailable says how to fix it
    model, path, earlier, lines = prepare(args, backend.name)
    first_step, config = model.step, model.config
    out_of = os.path.dirname(path) or "."
    with folders.RunFolder(path, model.run_id, shlex.join([*program_name().split(), *argv])) as folder:
        try:                                             # a full disk: say what, and how to go on
            for line in lines:
                say(line)
            history = callbacks.History()

            def columns():                                   # every row of history.csv so far
                now = history.as_columns()
                return now if earlier is None else {name: earlier[name] + now[name] for name in callbacks.FIELDS}

            if os.path.exists(folder.checkpoint):           # going on in the run's own folder
                now = checkpoint.read(folder.checkpoint).step
                if now != first_step:                        # another process moved it on before we locked it
                    raise RunError(f"--resume: {folder.checkpoint} is at step {now} now, not {first_step}: another "
                                   f"process trained this run meanwhile; run the command again")
                folder.resumed(model)
            else:
                folder.save(model, columns())                # a new folder starts with a checkpoint to go back to
            others = [n for n in folders.run_folders(out_of) if n != os.path.basename(path)]
            say(f"run {model.run_id} in {path}{os.sep}" + (f" (earlier runs stay as they were in "
                f"{out_of}{os.sep}: {', '.join(others[-3:])}{', ...' if len(others) > 3 else ''})" if others else ""))
            frames = results.Snapshots((config.steps - first_step) // results.SNAPSHOTS,
                                       results.SNAPSHOT_SAMPLES.get(model.p_data.dim, 64), config.seed)
            steps = [history, frames, *gan.schedules(config, model),
                     folders.SaveEvery(folder, args.checkpoint_every, columns),
                     callbacks.ProgressBar(disable=True if (args.quiet or args.no_progress) else None), stop]
            resumed = f", resumed at step {first_step}" if first_step else ""
            say(f"training a GAN on {config.dataset} ({backend.name}{resumed}) to step {config.steps}: "
                f"k={config.k}, m={config.m}, {config.loss} loss{penalty_words(config)}, "
                f"{config.optimizer} lr={config.lr:g}")
            started, signal = time.perf_counter(), None
            try:
                stop.check()
                with np.errstate(over="ignore", invalid="ignore"):   # a diverged run is reported by the trainer
                    model.train(config.steps - first_step, callbacks=steps)
            except interrupts.Interrupted as received:
                signal = received                            # training stopped at a step boundary
            except gan.TrainingDiverged as error:
                raise Stopped(diverged(error, folder, columns(), argv), 1) from None
            try:
                folder.save(model, columns())                # at the last step, or the step the signal found
            except gan.TrainingDiverged as error:
                raise Stopped(diverged(error, folder, columns(), argv), 1) from None
            if signal is not None:
                folder.finish("interrupted", signal=signal.name)
                raise Stopped(f"stopped by {signal.name} at step {model.step}; saved {folder.checkpoint} and "
                              f"history.csv; resume with: {resume_command(program_name(), argv, folder.checkpoint)}",
                              signal.exit_status)
            seconds = time.perf_counter() - started
            try:
                with stop.immediately():                     # nothing left that a stop could spoil
                    scores = finish(model, folder, columns(), frames, seconds, first_step, args, say)
            except interrupts.Interrupted as signal:
                folder.finish("interrupted", signal=signal.name)
                raise Stopped(f"stopped by {signal.name} after training ended; {folder.checkpoint} and history.csv "
                              f"hold step {model.step}, but metrics.json and the figures may be missing: "
                              f"{resume_command(program_name(), argv, folder.checkpoint)} writes them",
                              signal.exit_status) from None
        except OSError as error:
            raise Stopped(could_not_write(error, folder, argv), 1) from None
    say(f"done: step {model.step}, {seconds:.1f} s training ({time.perf_counter() - run_started:.1f} s in all); "
        f"{scores}")
    say(f"wrote to {path}{os.sep}: {', '.join(FILES)}")
    return 0


def penalty_words(config) -> str:
    """", r1 penalty gamma=1, clip 0.01" for a config that has them, else ""."""
    words = f", {config.penalty} penalty gamma={config.gamma:g}" if config.penalty else ""
    return words + (f", clip {config.clip:g}" if config.clip is not None else "")


def diverged(error, folder, columns: dict, argv: list) -> str:
    """Keep the history up to the blow-up (to look at) and say, in one line, what diverged,
    the last good checkpoint, and the command that resumes it with a smaller lr."""
    folder.write_history(columns)
    folder.finish("diverged", error=str(error))
    line = f"error: training diverged: {error.args[0].split('; last good')[0]}"
    if folder.last_good is None:
        return f"{line}; no checkpoint before it was kept; start again with a smaller --lr or another --seed"
    path, step = folder.last_good
    lr = checkpoint.read(path).config["lr"]
    return (f"{line}; last good checkpoint: {path} (step {step}); resume it with a smaller --lr: "
            f"{resume_command(program_name(), argv, path, lr=lr / 10)}")


def could_not_write(error: OSError, folder, argv: list) -> str:
    """A write failed (a full disk, a folder made read-only): mark the run stopped, and say in
    one line which file, the last good checkpoint and the command that resumes from it."""
    what = error.filename or "a file of the run"
    why = error.strerror or str(error)
    try:
        folder.finish("stopped", error=f"{why}: {what}")
        marked = ""
    except OSError:
        marked = f"; {folders.RUN_FILE} could not be marked stopped either"
    line = f"error: could not write {what} ({why}){marked}"
    if folder.last_good is None:
        return f"{line}; no checkpoint was kept; free some space and start the run again"
    path, step = folder.last_good
    return (f"{line}; the last good checkpoint is {path} (step {step}); free some space, then resume with: "
            f"{resume_command(program_name(), argv, path)}")


def finish(model, folder, columns: dict, frames, seconds: float, first_step: int, args, say) -> str:
    """metrics.json and the figures, at the end of a run; returns the scores as one line."""
    config = model.config
    samples = model.generate(metrics.N_SAMPLES, seed=config.seed)
    if config.dataset == "digits" and not args.quiet:
        say("scoring the digits with a small classifier (trained once, then cached)")
    scores = results.measure(model, samples)
    summary = {"run_id": model.run_id, "dataset": config.dataset, "backend": model.backend.name, "steps": model.step,
               "seconds": round(seconds, 2), "seed": config.seed, **scores, "resumed_from": first_step or None,
               "config": config.to_dict()}
    with checkpoint.atomic_file(os.path.join(folder.path, "metrics.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    results.write_figures(model, columns, frames.frames, samples, folder.path)
    folder.finish("finished", files=list(FILES))      # every file here is this run's
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items())


if __name__ == "__main__":
    sys.exit(main())
