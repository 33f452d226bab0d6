"""The demo's two digits runs that use the labels: ``--labels N`` and ``--conditional``.

    python -m minigan.demo --dataset digits --labels 100 --seed 3    # semi-supervised classifier
    python -m minigan.demo --dataset digits --conditional            # one row of digits per class

Both train on the training part of the fixed digits split (``minigan.data.splits``) and
write, into a new run folder of their own (``--out/run-NNN``, locked while it writes):

- ``--labels N``: metrics.json with ``classifier_accuracy`` (the semi-supervised GAN's
  classifier on the 300 held-out test digits) and ``supervised_only_accuracy`` (the same
  network from the same seed, trained on the same N labels alone for as many steps);
  learning_curves.png and curves.csv (test accuracy of both as training goes); samples.png.
- ``--conditional``: metrics.json with ``class_agreement`` (the fraction of 1,000
  generated digits, 100 asked for each class, that the digits classifier puts in the class
  asked for); samples.png, a 10x10 grid, row r asked for digit r.

These runs are short (about a minute) and have no checkpoint: --resume, --checkpoint-every,
--k, --loss, --penalty, --gamma, --clip, --optimizer and --threads do not apply, and are
refused in one line (``check``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shlex
import time

from minigan.gan import checkpoint

from minigan.runs import folders
from minigan.demo.prepare import CHECKPOINT_EVERY, DEFAULT_OUT, UsageError, check_writable

# options of the GAN demo these runs do not have (refused, not ignored: a flag that is accepted
# must do what it says)
NOT_HERE = ("k", "loss", "penalty", "gamma", "clip", "optimizer", "resume", "threads")


def check(args) -> None:
    """Refuse, in one line, what --labels and --conditional cannot be combined with."""
    mode = "--labels" if args.labels is not None else "--conditional"
    if args.labels is not None and args.conditional:
        raise UsageError("--labels and --conditional: got both, wanted one (a semi-supervised or a conditional run)")
    if args.dataset != "digits":
        raise UsageError(f"{mode}: got --dataset {args.dataset or 'ring (the default)'}, wanted --dataset digits "
                         f"(the only labelled dataset)")
    for name in NOT_HERE:
        if getattr(args, name, None) is not None:
            raise UsageError(f"--{name}: not available with {mode} (a short run without checkpoints); leave it out")
    if args.checkpoint_every != CHECKPOINT_EVERY:
        raise UsageError(f"--checkpoint-every: not available with {mode} (a short run without checkpoints); "
                         "leave it out")
    if args.labels is not None and (args.labels % 10 or not 10 <= args.labels <= 1000):
        raise UsageError(f"--labels: got {args.labels}, wanted a multiple of 10 from 10 to 1000 "
                         f"(the same number of labelled digits of each of the 10 classes)")


def run(args, argv: list, program: str, say, backend: str) -> int:
    """Train, measure, and write the run folder; returns the exit status (0)."""
    from minigan.variants import conditional
    from minigan.judging import digits_features
    from minigan.variants import semi_supervised
    from minigan.data.splits import digits_split

    check(args)
    seed = 0 if args.seed is None else args.seed
    settings = dict(semi_supervised.RECIPE if args.labels is not None else conditional.RECIPE)
    for option, field in (("steps", "steps"), ("batch_size", "m"), ("lr", "lr")):
        if getattr(args, option) is not None:
            settings[field] = getattr(args, option)
    kind = f"labels{args.labels}" if args.labels is not None else "conditional"
    fingerprint = hashlib.sha256(json.dumps({"kind": kind, "seed": seed, **settings}, sort_keys=True,
                                            default=list).encode()).hexdigest()[:8]
    run_id = f"digits-{kind}-seed{seed}-{fingerprint}"
    out = args.out or DEFAULT_OUT
    if folders.is_run_folder(out):
        raise UsageError(f"--out {out}: that is one run's folder; pass the folder that holds the runs")
    check_writable(out)
    path = folders.new_run_folder(out)
    with folders.RunFolder(path, run_id, shlex.join([*program.split(), *argv])) as folder:
        say(f"run {run_id} in {path}{os.sep}")
        started = time.perf_counter()
        if args.labels is not None:
            say(f"training a semi-supervised GAN on digits with {args.labels} labels ({settings['steps']} steps), "
                f"then the same classifier on the labels alone")
            result = semi_supervised.compare(seed=seed, labels=args.labels, backend=backend, **settings)
            scores = {"classifier_accuracy": result["classifier_accuracy"],
                      "supervised_only_accuracy": result["supervised_only_accuracy"],
                      "gain": result["classifier_accuracy"] - result["supervised_only_accuracy"],
                      "labels": args.labels, "test_digits": len(digits_split().test)}
            files = _write_semi_supervised(result, folder.path, seed)
        else:
            say(f"training a conditional GAN on digits ({settings['steps']} steps)")
            split = digits_split()
            model = conditional.ConditionalGAN(split.train.images, split.train.labels, seed=seed,
                                               backend=backend, **settings)
            model.train(settings["steps"])
            say("scoring the digits with a small classifier (trained once, then cached)")
            judge = digits_features.digits_classifier()
            scores = {"class_agreement": conditional.class_agreement(model, judge, n=1000, seed=seed),
                      "judge_accuracy": judge.accuracy}
            files = _write_conditional(model, folder.path, seed)
        seconds = time.perf_counter() - started
        summary = {"run_id": run_id, "dataset": "digits", "mode": "semi_supervised" if args.labels is not None
                   else "conditional", "backend": backend, "steps": settings["steps"],
                   "seconds": round(seconds, 2), "seed": seed, **scores,
                   "config": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
        with checkpoint.atomic_file(os.path.join(folder.path, "metrics.json"), "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        folder.finish("finished", files=["run.json", "metrics.json", *files])
    say(f"done: {seconds:.1f} s; " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                               for k, v in scores.items()))
    say(f"wrote to {path}{os.sep}: run.json, metrics.json, {', '.join(files)}")
    return 0


def _write_semi_supervised(result: dict, folder: str, seed: int) -> list:
    from minigan.judging import plot

    with checkpoint.atomic_file(os.path.join(folder, "curves.csv"), "w") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "classifier_accuracy", "supervised_only_accuracy"])
        for (step, gan), (_, alone) in zip(result["gan_curve"], result["supervised_only_curve"]):
            writer.writerow([step, f"{gan:.6g}", f"{alone:.6g}"])
    plot_learning_curves(result, os.path.join(folder, "learning_curves.png"))
    samples = result["model"].G.backend.to_host(_generate(result["model"], 100, seed))
    plot.plot_digits(samples, os.path.join(folder, "samples.png"), title="the semi-supervised GAN's G(z)")
    return ["curves.csv", "learning_curves.png", "samples.png"]


def _generate(model, n: int, seed: int):
    from minigan.autograd import Tensor, no_grad

    backend = model.G.backend
    z = Tensor(model.p_z.sample(n, backend.random(seed)), backend)
    with no_grad():
        return model.G(z).data


def plot_learning_curves(result: dict, path: str, ax=None) -> None:
    """Test accuracy against step for the GAN's classifier and the supervised-only one."""
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for curve, label in ((result["gan_curve"], "semi-supervised GAN"),
                         (result["supervised_only_curve"], "supervised only")):
        steps, accuracies = zip(*curve)
        ax.plot(steps, accuracies, "o-", ms=3, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("test accuracy (300 held-out digits)")
    ax.legend(fontsize=8)
    if own:
        fig.tight_layout()
        with checkpoint.atomic_file(path, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        plt.close(fig)


def _write_conditional(model, folder: str, seed: int) -> list:
    from minigan.variants import conditional
    from minigan.judging import plot

    asked = conditional.requested_classes(100)                # row r: ten digits asked to be r
    samples = model.generate(asked, seed=seed)
    plot.plot_digits(samples, os.path.join(folder, "samples.png"), title="conditional G(z, y): row r asked for digit r")
    return ["samples.png"]
