"""What defines a run: ``GANConfig`` and the tested recipes for each dataset.

A ``GANConfig`` holds everything a run is made from, as JSON-friendly values: the dataset,
the networks, Algorithm 1's k and m, the generator's loss, the optimizer and its
schedules, the seed. Every checkpoint keeps it, with the list of configs a resumed run has
had; ``run_id`` names a run by a fingerprint of its first config. ``recipe(dataset)`` gives
the settings measured to train each dataset (docs/math/algorithm1.md, benchmarks/quality.py).

    from minigan import gan
    config = gan.recipe("grid", seed=3)     # also minigan.gan.config.recipe: gan re-exports all of it
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from dataclasses import dataclass

from minigan import losses
from minigan.threads import check_threads


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, or ValueError naming ``name`` unless it is an integer >= ``minimum``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name}: got {value!r}, wanted {wanted}")
    return int(value)


@dataclass(frozen=True)
class GANConfig:
    """Everything that defines a run, as JSON-friendly values (kept in every checkpoint).

    The defaults are the ring recipe (docs/math/algorithm1.md, benchmarks/quality.py):
    8 of 8 modes on every seed tried, in well under a minute on two CPU cores.
    """

    dataset: str = "ring"             # gaussian1d | ring | grid | digits | mnist | faces | categorical | points
    dataset_path: str | None = None   # the MNIST files (mnist only)
    points: tuple | None = None       # dataset "points": the (x, y) points p_data puts a Gaussian on (the lab's drawn data)
    backend: str = "numpy"            # numpy | cupy | strict | auto
    seed: int = 0                     # weights and every minibatch come from backend.random(seed)
    steps: int = 3000                 # iterations of Algorithm 1
    k: int = 1                        # discriminator steps per generator step
    m: int = 256                      # minibatch size
    loss: str = "non_saturating"      # the generator's loss form; D's goes with it (losses.DISCRIMINATOR_FORM)
    penalty: str | None = None        # None | "r1" (gamma/2 R1 on real x) | "r2" (on fakes) | "gp" (gamma GP)
    gamma: float = 10.0               # the penalty's weight (WGAN-GP's lambda)
    clip: float | None = None         # WGAN weight clipping: D's parameters kept in [-clip, clip] (None: off)
    noise: str = "normal"             # p_z: normal | uniform (on [-sqrt 3, sqrt 3])
    noise_dim: int = 2
    arch: str = "mlp"                 # mlp | dcgan (images: minigan.nn.dcgan)
    g_hidden: tuple = (128, 128)      # G: noise_dim -> g_hidden... -> dim (dcgan: channels at 4, 8, ... pixels)
    d_hidden: tuple = (128, 128)      # D: dim -> d_hidden... -> 1 logit (dcgan: channels as the side halves)
    minibatch_std: bool = False       # dcgan: D sees the batch's std as one more channel (minigan.nn.minibatch_std)
    g_activation: str = "relu"
    d_activation: str = "leaky_relu"
    g_output: str | None = None       # e.g. "tanh" for images in [-1, 1]
    optimizer: str = "adam"           # adam | sgd
    lr: float = 1.5e-3
    lr_decay_to: float = 0.1          # lr falls linearly to lr * lr_decay_to at the last step (1 = constant)
    betas: tuple = (0.5, 0.999)       # Adam
    momentum: float = 0.5             # SGD: momentum rises linearly ...
    momentum_final: float = 0.7       # ... to this by the last step (the paper's code)
    # Where the schedules start and end. None means ``steps``; a resumed run pins them (resume.py),
    # so asking for more steps continues at the final lr instead of stretching the schedule.
    lr_since: int = 0                 # the step at which the lr is ``lr`` (a new --lr on resume: that step)
    lr_until: int | None = None       # the step at which the lr reaches lr * lr_decay_to
    momentum_until: int | None = None  # the step at which SGD's momentum reaches momentum_final
    # How the run is computed, not what it computes (the numbers are the same for any count):
    threads: object = "auto"          # BLAS threads: "auto" (minigan.threads measures), n, or None

    def __post_init__(self):
        object.__setattr__(self, "g_hidden", tuple(self.g_hidden))
        object.__setattr__(self, "d_hidden", tuple(self.d_hidden))
        object.__setattr__(self, "betas", tuple(self.betas))
        if isinstance(self.points, (list, tuple)):  # JSON gives lists of lists: keep one form, tuples
            object.__setattr__(self, "points", tuple(tuple(p) if isinstance(p, (list, tuple)) else p
                                                     for p in self.points))
        self.check()

    def check(self) -> None:
        """Raise ValueError naming the first field that is wrong."""
        choices = {"dataset": DATASETS, "arch": ARCHS, "loss": losses.GENERATOR_FORMS, "noise": ("normal", "uniform"),
                   "optimizer": ("adam", "sgd"), "backend": ("numpy", "cupy", "strict", "auto")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}: got {getattr(self, name)!r}, wanted one of {', '.join(allowed)}")
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty: got {self.penalty!r}, wanted None or one of {', '.join(PENALTIES[1:])}")
        for name in ("gamma", "clip"):
            value = getattr(self, name)
            if name == "clip" and value is None:
                continue
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < value < math.inf:
                raise ValueError(f"{name}: got {value!r}, wanted a positive number")
        check_int("seed", self.seed, 0)
        check_threads(self.threads)
        check_int("lr_since", self.lr_since, 0)
        for name in ("lr_until", "momentum_until"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1)
        if self.lr_since >= self.lr_end:
            raise ValueError(f"lr_since: got {self.lr_since}, wanted a step before the lr schedule's end {self.lr_end}")
        for name in ("steps", "k", "m", "noise_dim"):
            check_int(name, getattr(self, name), 1)
        for name in ("g_hidden", "d_hidden"):
            for i, width in enumerate(getattr(self, name)):
                check_int(f"{name}[{i}]", width, 1)
        for name in ("lr", "lr_decay_to"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < value < math.inf:
                raise ValueError(f"{name}: got {value!r}, wanted a positive number")
        for name in ("momentum", "momentum_final"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
                raise ValueError(f"{name}: got {value!r}, wanted a number in [0, 1)")
        if len(self.betas) != 2 or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas: got {self.betas!r}, wanted a pair of numbers in [0, 1)")
        if self.dataset == "mnist" and not self.dataset_path:
            raise ValueError("dataset_path: got None, wanted the folder holding the MNIST files for dataset 'mnist'")
        if not isinstance(self.minibatch_std, bool):
            raise ValueError(f"minibatch_std: got {self.minibatch_std!r}, wanted True or False")
        if self.minibatch_std and self.arch != "dcgan":
            raise ValueError(f"minibatch_std: got True for arch {self.arch!r}, wanted False (a DCGAN's D has the layer)")
        if self.arch == "dcgan" and self.dataset not in IMAGE_DATASETS:
            raise ValueError(f"arch: got 'dcgan' for dataset {self.dataset!r}, wanted 'mlp' "
                             f"(a DCGAN draws square images: dataset {' or '.join(IMAGE_DATASETS)})")
        self.check_points()

    def check_points(self) -> None:
        """``points``: (x, y) pairs of finite numbers for dataset "points", None for any other."""
        if self.dataset != "points":
            if self.points is not None:
                raise ValueError(f"points: got {len(self.points)} points for dataset {self.dataset!r}, "
                                 "wanted None (points go with dataset 'points')")
            return
        if not isinstance(self.points, tuple) or not 1 <= len(self.points) <= MAX_POINTS:
            got = f"{len(self.points)} points" if isinstance(self.points, tuple) else repr(self.points)
            raise ValueError(f"points: got {got}, wanted 1 to {MAX_POINTS} (x, y) pairs for dataset 'points'")
        for i, p in enumerate(self.points):
            if not (isinstance(p, tuple) and len(p) == 2 and all(
                    isinstance(c, numbers.Real) and not isinstance(c, bool) and math.isfinite(c) for c in p)):
                raise ValueError(f"points[{i}]: got {p!r}, wanted a pair (x, y) of finite numbers")

    @property
    def lr_end(self) -> int:
        """The step at which the lr decay ends (``lr_until``, else ``steps``)."""
        return self.steps if self.lr_until is None else self.lr_until

    @property
    def momentum_end(self) -> int:
        """The step at which SGD's momentum ramp ends (``momentum_until``, else ``steps``)."""
        return self.steps if self.momentum_until is None else self.momentum_until

    def replace(self, **changes) -> "GANConfig":
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The fields as JSON-friendly values (tuples become lists)."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> "GANConfig":
        """The config ``to_dict`` described; an unknown field is a ValueError."""
        if not isinstance(values, dict):
            raise TypeError(f"values: got {type(values).__name__}, wanted a dict from GANConfig.to_dict()")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"values: got unknown config fields {unknown}, wanted only {sorted(known)}")
        return cls(**values)


DATASETS = ("gaussian1d", "ring", "grid", "digits", "mnist", "faces", "categorical", "points")
ARCHS = ("mlp", "dcgan")
IMAGE_DATASETS = ("faces",)        # square images whose side is 4 doubled: what arch 'dcgan' draws
MAX_POINTS = 2000  # dataset "points": at most this many (the lab's page sends no more)
PENALTIES = (None, "r1", "r2", "gp")
# Fields added after runs were named: at their defaults they stay out of the run id, so a
# run named before they existed keeps its id (and an old checkpoint its run).
ADDED_LATER = {"penalty": None, "gamma": 10.0, "clip": None, "points": None, "arch": "mlp", "minibatch_std": False}

# What differs from the ring recipe (GANConfig's defaults) for each dataset.
RECIPES = {
    "ring": {},
    # 25 modes of std 0.05 need sharper G: wider nets, 4 times the steps, lr decayed 100-fold
    "grid": {"g_hidden": (256, 256), "d_hidden": (256, 256), "steps": 12000, "lr": 1.5e-3, "lr_decay_to": 0.01},
    # G linear (G(z) = a z + b): p_g is then Gaussian and can equal p_data exactly
    "gaussian1d": {"noise_dim": 1, "g_hidden": (), "d_hidden": (32, 32), "m": 128, "steps": 600, "lr": 2e-2,
                   "lr_decay_to": 0.01},
    "digits": {"noise_dim": 16, "g_hidden": (256, 256), "d_hidden": (256, 256), "g_output": "tanh", "m": 64,
               "steps": 5000, "lr": 2e-4, "lr_decay_to": 1.0},
    "mnist": {"noise_dim": 100, "g_hidden": (256, 512), "d_hidden": (512, 256), "g_activation": "leaky_relu",
              "g_output": "tanh", "m": 128, "steps": 20000, "lr": 2e-4, "lr_decay_to": 1.0},
    # one symbol of 8 (minigan.nn.discrete): G is 8 logits fed Gumbel noise (p_z is Gumbel whatever
    # ``noise`` says), g_output its mode, at temperature 1; g_hidden is unused. JS < 0.002 by step 300.
    # points drawn in the lab: the ring's settings (give them with recipe("points", points=...))
    "points": {},
    # 32x32 cartoon faces (minigan.data.faces): a DCGAN at a width two CPU cores train, with the
    # optimizer and D of later GANs. DCGAN's published settings (Adam 2e-4, betas (0.5, 0.999);
    # Radford et al. 2016) collapsed here: 1 combination of 100 at step 250 and 2 at 500 (seed 0).
    # Adam at 1e-3 with betas (0, 0.99) and R1 (gamma 1, Mescheder et al. 2018), as StyleGAN
    # trains, covered 60 at step 250 and 57 at 500; adding ProGAN's minibatch-std channel in D
    # (Karras et al. 2018), 49 and 68 (seed 0, 5,000 samples judged, one run each). This recipe as
    # built: 94 at step 500 and 98 at 1,000 on seed 0 (79 at 500 on seed 1), and in
    # benchmarks/quality.py's 600 s (2,000 steps at load 2-3) 100/100, recognizable 0.62: the
    # collapse is gone, the quality target (0.8) not met. A step took 1.5 to 1.7 times the old
    # recipe's CPU time (R1's second backward; 20 steps each, one thread, load 11), so 3,000 steps
    # overrun 10 minutes unless quiet cores are faster than those. benchmarks/quality.py has the
    # probes and commands; docs/limits.md, claim 5, the table.
    "faces": {"arch": "dcgan", "noise_dim": 64, "g_hidden": (128, 64, 32), "d_hidden": (32, 64, 128),
              "minibatch_std": True, "penalty": "r1", "gamma": 1.0, "g_output": "tanh", "m": 64, "steps": 3000,
              "lr": 1e-3, "betas": (0.0, 0.99), "lr_decay_to": 1.0},
    "categorical": {"noise_dim": 8, "g_hidden": (), "d_hidden": (32,), "g_output": "straight_through", "m": 128,
                    "steps": 600, "lr": 1e-2},
}


# What each loss pair (loss, penalty) changes on top of the dataset's recipe, measured on the
# ring (benchmarks/quality.py has the numbers and the commands). A pair not listed keeps
# the dataset's settings.
LOSS_RECIPES = {
    ("lsgan", None): {},
    ("hinge", None): {},
    # WGAN-GP (Gulrajani et al. 2017) with Adam's beta2 = 0.9 and 2 critic steps per G step. The
    # paper's lambda = 10 covered 8/8 modes at a high-quality fraction of 0.30 here; a softer
    # penalty suits the ring's sharp modes (lambda 1: 0.88, 0.1: 0.90; their own toy code used 0.1)
    ("wgan", "gp"): {"gamma": 1.0, "k": 2, "betas": (0.5, 0.9)},
    # the non-saturating loss with R1 (Mescheder et al. 2018): gamma = 1 at the ring's scale
    ("non_saturating", "r1"): {"gamma": 1.0},
}


# What an architecture changes on top of a dataset's recipe: the MLP on the faces, for the
# comparison that shows why convolutions (as wide as the MNIST recipe's).
ARCH_RECIPES = {
    ("faces", "mlp"): {"g_hidden": (256, 512), "d_hidden": (512, 256), "g_activation": "leaky_relu",
                       "minibatch_std": False},   # the rest (Adam 1e-3, betas (0, 0.99), R1) as the DCGAN's
}


def recipe(dataset: str = "ring", **changes) -> GANConfig:
    """The tested settings for ``dataset`` and the loss pair asked for, with ``changes`` on top.

    ``recipe("ring", loss="wgan", penalty="gp")`` is the ring's recipe with WGAN-GP's
    settings from LOSS_RECIPES (k, betas, gamma, ...); ``recipe("faces", arch="mlp")`` adds
    ARCH_RECIPES' widths for an MLP; any field in ``changes`` wins.
    """
    if dataset not in RECIPES:
        raise ValueError(f"dataset: got {dataset!r}, wanted one of {', '.join(RECIPES)}")
    base = RECIPES[dataset]
    pair = (changes.get("loss", base.get("loss", "non_saturating")), changes.get("penalty", base.get("penalty")))
    arch = (dataset, changes.get("arch", base.get("arch", "mlp")))
    return GANConfig(dataset=dataset, **{**base, **ARCH_RECIPES.get(arch, {}), **LOSS_RECIPES.get(pair, {}), **changes})


def run_id(config: GANConfig) -> str:
    """A run's id: its dataset, seed and a fingerprint of its whole config, e.g. "ring-seed0-3f2a9c1b".

    It names what was run, not when: training is deterministic, so the same config gives
    the same id and the same numbers (two runs of one command are told apart by their folders).
    """
    identity = {name: value for name, value in config.to_dict().items()
                if name != "threads" and not (name in ADDED_LATER and value == ADDED_LATER[name])}
    text = json.dumps(identity, sort_keys=True)
    return f"{config.dataset}-seed{config.seed}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
