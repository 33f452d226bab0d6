"""The demo's two digits runs that use the labels: ``--labels N`` and ``--conditional``.

    python -m minigan.demo --dataset digits --labels 100 --seed 3    # semi-supervised classifier
    python -m minigan.demo --dataset digits --conditional            # one row of digits per class
    python -m minigan.demo --dataset faces --conditional             # one row of faces per mouth (a DCGAN)
    python -m minigan.demo --dataset digits --conditional --resume minigan-out/run-001/checkpoint.npz

Both train on the training part of the fixed digits split (``minigan.data.splits``) and
write, into a new run folder of their own (``--out/run-NNN``, locked while it writes), what
every run folder holds: run.json, history.csv (D's and G's loss at every step; the columns
this mode does not measure, D(x), D(G(z)) and G's gradient norm, are nan), checkpoint.npz
(every --checkpoint-every steps and at the end), losses.png, metrics.json and samples.png;
and besides:

- ``--labels N``: metrics.json with ``classifier_accuracy`` (the semi-supervised GAN's
  classifier on the 300 held-out test digits) and ``supervised_only_accuracy`` (the same
  network from the same seed, trained on the same N labels alone for as many steps, after
  the GAN); learning_curves.png and curves.csv (test accuracy of both as training goes).
- ``--conditional``: metrics.json with ``class_agreement`` (the fraction of 1,000
  generated digits, 100 asked for each class, that the digits classifier puts in the class
  asked for); samples.png is a 10x10 grid, row r asked for digit r. With --dataset faces:
  ``factor_agreement`` per factor (colour, eyes, mouth; 1,000 faces, every combination
  asked for in turn, judged by ``minigan.judging.faces_judge``) and the judge's three
  numbers; samples.png is a 5x10 grid, row r asked for mouth r (colour and eyes vary).

``--resume FILE`` (with the same --labels N or --conditional) goes on from the checkpoint
in its own folder; the run then ends as the run that never stopped would have. The options
of the GAN demo these runs do not have (--k, --loss, --penalty, --gamma, --clip,
--optimizer, --threads) are refused in one line (``check``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shlex
import time

import numpy as np

from minigan import threads
from minigan.gan import checkpoint

from minigan.runs import folders
from minigan.demo.prepare import DEFAULT_OUT, RunError, UsageError, check_writable, resume_command

# options of the GAN demo these runs do not have (refused, not ignored: a flag that is accepted
# must do what it says)
NOT_HERE = ("k", "loss", "penalty", "gamma", "clip", "optimizer", "threads")
EVAL_EVERY = 100       # --labels: the classifiers' test accuracy every this many steps (learning curves)


def check(args) -> None:
    """Refuse, in one line, what --labels and --conditional cannot be combined with."""
    mode = "--labels" if args.labels is not None else "--conditional"
    if args.labels is not None and args.conditional:
        raise UsageError("--labels and --conditional: got both, wanted one (a semi-supervised or a conditional run)")
    if args.dataset != "digits" and not (args.conditional and args.dataset == "faces"):
        wanted = "digits or faces" if args.conditional else "digits"
        raise UsageError(f"{mode}: got --dataset {args.dataset or 'ring (the default)'}, wanted --dataset {wanted} "
                         f"(the labelled datasets)")
    for name in NOT_HERE + (("arch",) if args.conditional and args.dataset == "faces" else ()):
        if getattr(args, name, None) is not None:
            raise UsageError(f"--{name}: not available with {mode} (its recipe is fixed); leave it out")
    if args.labels is not None and (args.labels % 10 or not 10 <= args.labels <= 1000):
        raise UsageError(f"--labels: got {args.labels}, wanted a multiple of 10 from 10 to 1000 "
                         f"(the same number of labelled digits of each of the 10 classes)")


def run(args, argv: list, program: str, say, backend: str) -> int:
    """Train (or go on), measure, and write the run folder; returns the exit status (0)."""
    check(args)
    seed = 0 if args.seed is None else args.seed
    kind, settings, run_id, saved = plan(args, seed)
    if saved is None:
        out = args.out or DEFAULT_OUT
        if folders.is_run_folder(out):
            raise UsageError(f"--out {out}: that is one run's folder; pass the folder that holds the runs")
        check_writable(out)
        path = folders.new_run_folder(out)
    else:
        path = os.path.dirname(os.path.abspath(args.resume))
    with folders.RunFolder(path, run_id, shlex.join([*program.split(), *argv])) as folder:
        trainer = Trainer(kind, settings, seed, backend, run_id, args.dataset)
        try:
            trainer.start(folder, saved)
            say(f"run {run_id} in {path}{os.sep}" + (f", resumed at step {trainer.model.step}" if saved else ""))
            say(f"training a {'semi-supervised' if args.labels is not None else 'conditional'} GAN on {args.dataset} "
                f"to step {settings['steps']}")
            started = time.perf_counter()
            trainer.train(folder, args.checkpoint_every)
            scores, files = trainer.finish(folder, say)
            seconds = time.perf_counter() - started
            summary = {"run_id": run_id, "dataset": args.dataset, "mode": trainer.mode, "backend": backend,
                       "steps": settings["steps"], "seconds": round(seconds, 2), "seed": seed, **scores,
                       "resumed_from": saved.step if saved else None,
                       "config": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
            with checkpoint.atomic_file(os.path.join(folder.path, "metrics.json"), "w") as f:
                json.dump(summary, f, indent=2)
                f.write("\n")
        except OSError as error:          # a full disk: which file, and how to go on
            with_hint = (f"; the last good checkpoint is {folder.checkpoint} (step {folder.last_good[1]}); free some "
                         f"space, then resume with: {resume_command(program, argv, folder.checkpoint)}"
                         if folder.last_good else "")
            try:
                folder.finish("stopped", error=f"{error.strerror}: {error.filename}")
            except OSError:
                pass
            what = error.filename or "a file of the run"
            raise RunError(f"could not write {what} ({error.strerror}){with_hint}") from None
        files = ["run.json", "metrics.json", folders.HISTORY, folders.CHECKPOINT, "losses.png", *files]
        folder.finish("finished", files=files)
    say(f"done: {seconds:.1f} s; " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                               for k, v in scores.items()))
    say(f"wrote to {path}{os.sep}: {', '.join(files)}")
    return 0


def plan(args, seed: int):
    """(kind, settings, run id, the checkpoint read or None) of the run asked for."""
    from minigan.variants import conditional, semi_supervised

    settings = dict(semi_supervised.RECIPE if args.labels is not None else
                    conditional.FACES_RECIPE if args.dataset == "faces" else conditional.RECIPE)
    for option, field in (("steps", "steps"), ("batch_size", "m"), ("lr", "lr")):
        if getattr(args, option) is not None:
            settings[field] = getattr(args, option)
    kind = f"labels{args.labels}" if args.labels is not None else "conditional"
    what = {"kind": kind, "seed": seed, **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
    fingerprint = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:8]
    if args.resume is None:
        return kind, settings, f"{args.dataset}-{kind}-seed{seed}-{fingerprint}", None
    if not os.path.isfile(args.resume):
        raise RunError(f"--resume {args.resume}: no such file; pass the checkpoint.npz of an earlier {kind} run")
    try:
        saved = checkpoint.read(args.resume)
    except checkpoint.CheckpointError as error:
        raise RunError(f"--resume: {error}; pass a checkpoint.npz written by an earlier run") from None
    first = (saved.run.get("configs") or [{}])[0].get("config", {})
    if saved.config is not None or {k: v for k, v in first.items() if k != "steps"} != \
            {k: v for k, v in what.items() if k != "steps"}:
        was = first.get("kind", saved.config and saved.config.get("dataset"))
        raise UsageError(f"--resume {args.resume}: a run of {was!r} (seed {first.get('seed')}), not of this "
                         f"command's {kind!r} (seed {seed}); give the options of the run it was, or start a new "
                         f"run without --resume")
    if not folders.is_run_folder(os.path.dirname(os.path.abspath(args.resume))):
        raise RunError(f"--resume {args.resume}: not in a run folder (no run.json beside it)")
    if settings["steps"] < saved.step:
        raise UsageError(f"--steps {settings['steps']}: the checkpoint is already at step {saved.step}")
    return kind, settings, saved.run["run_id"], saved


class Trainer:
    """One --labels or --conditional run as the checkpoint sees it: ``model`` has G, D, opt_G,
    opt_D, rng and step (what checkpoint.save writes); ``columns`` are history.csv's rows."""

    def __init__(self, kind: str, settings: dict, seed: int, backend: str, run_id: str, dataset: str = "digits"):
        from minigan.gan import callbacks
        from minigan.variants import conditional
        from minigan.data.splits import digits_split

        self.kind, self.settings, self.seed, self.backend, self.dataset = kind, settings, seed, backend, dataset
        self.mode = "conditional" if kind == "conditional" else "semi_supervised"
        self.split = digits_split()
        self.columns = {name: [] for name in callbacks.FIELDS}
        self.curve = []                                   # --labels: (step, test accuracy of D)
        if self.mode == "conditional" and dataset == "faces":
            self.model = conditional.faces_gan(seed=seed, backend=backend, **settings)
        elif self.mode == "conditional":
            self.model = conditional.ConditionalGAN(self.split.train.images, self.split.train.labels, seed=seed,
                                                    backend=backend, **settings)
        else:
            self.model = semi_supervised_gan(self.split, int(kind[len("labels"):]), seed, backend, settings)
        what = {"kind": kind, "seed": seed, **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
        self.model.run_id, self.model.config, self.model.start_norm = run_id, None, None
        self.model.configs = [{"step": 0, "config": what}]

    def start(self, folder, saved) -> None:
        """A new run: its first checkpoint. A resumed one: the checkpoint loaded, the history up to it."""
        if saved is None:
            self.save(folder)
            return
        checkpoint.restore(saved, self.model)             # shapes checked against this model first
        rows = folders.read_history(os.path.join(folder.path, folders.HISTORY), saved.step)
        if rows is None or rows["step"] != list(range(1, saved.step + 1)):
            raise RunError(f"--resume: {folder.path}{os.sep}{folders.HISTORY} does not hold steps 1 to {saved.step}, "
                           f"as the checkpoint does: they are not of one run")
        self.columns = rows
        if self.mode == "semi_supervised":
            # the points every EVAL_EVERY steps; not the one at the end of a shorter run, which this one passes
            self.curve = [(step, gan) for step, gan in read_curve(folder.path)
                          if step <= saved.step and (step % EVAL_EVERY == 0 or step == self.settings["steps"])]
        folder.last_good = (folder.checkpoint, saved.step)

    @threads.trained  # BLAS threads chosen by timing these steps (minigan.threads)
    def train(self, folder, every: int) -> None:
        """The remaining steps, a checkpoint every ``every`` and at the end."""
        from minigan.variants import semi_supervised

        model = self.model
        while model.step < self.settings["steps"]:
            losses = model.train_step()
            d_loss = float(losses["d_loss"].data) if "d_loss" in losses else \
                float(losses["supervised"].data) + float(losses["unsupervised"].data)
            g_loss = float(losses["g_loss" if "g_loss" in losses else "generator"].data)
            row = {"step": model.step, "d_loss": d_loss, "g_loss": g_loss, "value": -d_loss, "d_real": math.nan,
                   "d_fake": math.nan, "g_grad_norm": math.nan, "lr": float(model.opt_G.lr)}
            for name, value in row.items():
                self.columns[name].append(value)
            if self.mode == "semi_supervised" and (model.step % EVAL_EVERY == 0 or model.step == self.settings["steps"]):
                test = self.split.test
                self.curve.append((model.step, semi_supervised.accuracy(model.D, test.images, test.labels)))
            if model.step % every == 0:
                self.save(folder)
        self.save(folder)

    def save(self, folder) -> None:
        """history.csv (and curves.csv), then checkpoint.npz, each atomically: a kill loses at most the steps since."""
        folder.write_history(self.columns)
        if self.mode == "semi_supervised":
            write_curve(folder.path, self.curve, [])
        checkpoint.save(folder.checkpoint, self.model)
        folder.last_good = (folder.checkpoint, self.model.step)
        folder.finish("running", step=self.model.step)

    def finish(self, folder, say) -> tuple:
        """(scores, the files written besides the common ones)."""
        from minigan.judging import plot

        plot.plot_losses(self.columns, os.path.join(folder.path, "losses.png"))
        if self.mode == "conditional" and self.dataset == "faces":
            return conditional_faces(self.model, self.seed, folder.path, say)
        if self.mode == "conditional":
            from minigan.judging import digits_features
            from minigan.variants import conditional

            say("scoring the digits with a small classifier (trained once, then cached)")
            judge = digits_features.digits_classifier()
            scores = {"class_agreement": conditional.class_agreement(self.model, judge, n=1000, seed=self.seed),
                      "judge_accuracy": judge.accuracy}
            samples = self.model.generate(conditional.requested_classes(100), seed=self.seed)
            plot.plot_digits(samples, os.path.join(folder.path, "samples.png"),
                             title="conditional G(z, y): row r asked for digit r")
            return scores, ["samples.png"]
        say("training the same classifier on the labels alone, for comparison")
        alone = supervised_only(self.split, int(self.kind[len("labels"):]), self.seed, self.backend, self.settings)
        result = {"gan_curve": self.curve, "supervised_only_curve": alone}
        gain = self.curve[-1][1] - alone[-1][1]
        scores = {"classifier_accuracy": self.curve[-1][1], "supervised_only_accuracy": alone[-1][1], "gain": gain,
                  "labels": int(self.kind[len("labels"):]), "test_digits": len(self.split.test)}
        write_curve(folder.path, self.curve, alone)
        plot_learning_curves(result, os.path.join(folder.path, "learning_curves.png"))
        samples = self.model.G.backend.to_host(_generate(self.model, 100, self.seed))
        plot.plot_digits(samples, os.path.join(folder.path, "samples.png"), title="the semi-supervised GAN's G(z)")
        return scores, ["curves.csv", "learning_curves.png", "samples.png"]


def conditional_faces(model, seed: int, folder: str, say) -> tuple:
    """--dataset faces --conditional: (scores, files) as ``Trainer.finish`` returns them."""
    from minigan.judging import faces_judge, plot_faces
    from minigan.variants import conditional

    say("scoring the faces with a small convolutional judge (trained once, then cached)")
    judge = faces_judge.faces_judge()
    agreement = conditional.factor_agreement(model, judge, n=1000, seed=seed)
    scores = {**{f"{factor}_agreement": value for factor, value in agreement.items()},
              **judge.score(model.generate(conditional.requested_combinations(1000, model.counts), seed=seed)),
              "judge_accuracy": judge.accuracy}
    mouths = list(faces_judge.FACTORS).index("mouth")
    samples = model.generate(conditional.requested_rows(model.counts, mouths), seed=seed)
    plot_faces.plot_faces(samples, os.path.join(folder, "samples.png"), (3, judge.size, judge.size), columns=10,
                          label="G(z, y): row r asked for mouth r",
                          title="rows: smile, frown, open, flat, tongue")
    return scores, ["samples.png"]


# ---- the semi-supervised run's pieces (as semi_supervised.compare makes them, step by step) ------------
def semi_supervised_gan(split, labels: int, seed: int, backend: str, settings: dict):
    """The semi-supervised GAN of ``semi_supervised.compare``: G and D from one generator."""
    from minigan import data, nn
    from minigan.backend import get_backend
    from minigan.data.splits import labelled_indices
    from minigan.variants import semi_supervised as ss

    backend = get_backend(backend)
    chosen = labelled_indices(split.train.labels, labels // 10, seed)
    unlabelled = np.setdiff1d(np.arange(len(split.train)), chosen)
    rng = backend.random(seed)
    G = nn.MLP([settings["noise_dim"], *settings["g_hidden"], 64], "relu", "tanh", rng=rng, backend=backend)
    D = ss.Classifier([64, *settings["d_hidden"], 10], input_noise=settings["input_noise"],
                      dropout=settings["dropout"], rng=rng, backend=backend)
    return ss.SemiSupervisedGAN(G, D, data.normal_noise(settings["noise_dim"]), split.train.images[chosen],
                                split.train.labels[chosen], split.train.images[unlabelled],
                                ss.make_optimizer(G.parameters(), settings["lr"]),
                                ss.make_optimizer(D.parameters(), settings["lr"]), m=settings["m"], rng=rng,
                                generator_loss=settings["generator_loss"])


def supervised_only(split, labels: int, seed: int, backend: str, settings: dict) -> list:
    """The baseline's learning curve: the same network from the same seed, on the labels alone."""
    from minigan import nn
    from minigan.backend import get_backend
    from minigan.data.splits import labelled_indices
    from minigan.variants import semi_supervised as ss

    backend = get_backend(backend)
    chosen = labelled_indices(split.train.labels, labels // 10, seed)
    rng = backend.random(seed)
    # draw (and drop) a G first, as the GAN did, so that this classifier starts from D's very weights
    nn.MLP([settings["noise_dim"], *settings["g_hidden"], 64], "relu", "tanh", rng=rng, backend=backend)
    alone = ss.Classifier([64, *settings["d_hidden"], 10], input_noise=settings["input_noise"],
                          dropout=settings["dropout"], rng=rng, backend=backend)
    curve = []

    def point(step):
        if step % EVAL_EVERY == 0 or step == settings["steps"]:
            curve.append((step, ss.accuracy(alone, split.test.images, split.test.labels)))

    ss.train_supervised(alone, split.train.images[chosen], split.train.labels[chosen], settings["steps"],
                        settings["m"], ss.make_optimizer(alone.parameters(), settings["lr"]), rng, callback=point)
    return curve


def write_curve(folder: str, gan_curve: list, alone_curve: list) -> None:
    """curves.csv: step, the GAN's classifier's test accuracy, the baseline's (empty until it has run)."""
    alone = dict(alone_curve)
    with checkpoint.atomic_file(os.path.join(folder, "curves.csv"), "w") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "classifier_accuracy", "supervised_only_accuracy"])
        for step, gan in gan_curve:
            writer.writerow([step, repr(gan), repr(alone[step]) if step in alone else ""])


def read_curve(folder: str) -> list:
    with open(os.path.join(folder, "curves.csv"), newline="") as f:
        return [(int(row["step"]), float(row["classifier_accuracy"])) for row in csv.DictReader(f)]


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
