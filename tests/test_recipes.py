"""Every recipe value, pinned with the measurement that chose it (issue 26).

A recipe is a finding: a setting measured to train its dataset (benchmarks/quality.py,
docs/math/algorithm1.md's table, the comments in minigan/gan/config.py). Changing one is a
decision that needs a new measurement, so each value is asserted here beside the reason
it has; a change made by accident (a penalty weight 10 times off, a beta dropped) fails.
To change a recipe on purpose: measure it (the command in the reason), then update the
comment in config.py, the docs' table and the line here together.
"""
import pytest

from minigan import gan
from minigan.gan import config as cfg


def test_the_ring_recipe_is_ganconfigs_defaults():
    """ring: 8/8 modes on 5 of 5 seeds, high-quality fraction 0.86 to 0.93, in 3,000 steps at
    lr 1.5e-3 decayed to a tenth (docs/math/algorithm1.md; `python benchmarks/quality.py`).
    The published lr 3e-4 would need 16,000 steps (about two minutes on two cores)."""
    ring = gan.recipe("ring")
    assert cfg.RECIPES["ring"] == {} and ring == cfg.GANConfig()
    expected = {"steps": 3000, "k": 1, "m": 256, "loss": "non_saturating", "penalty": None, "gamma": 10.0,
                "clip": None, "noise": "normal", "noise_dim": 2, "g_hidden": (128, 128), "d_hidden": (128, 128),
                "g_activation": "relu", "d_activation": "leaky_relu", "g_output": None, "optimizer": "adam",
                "lr": 1.5e-3, "lr_decay_to": 0.1, "betas": (0.5, 0.999), "momentum": 0.5, "momentum_final": 0.7,
                "lr_since": 0, "lr_until": None, "momentum_until": None, "seed": 0, "backend": "numpy"}
    assert {name: getattr(ring, name) for name in expected} == expected


def test_the_grid_recipe():
    """grid: 25 modes of std 0.05; the ring's networks reached 18/25 at a high-quality fraction
    of 0.12 after 8,000 steps; 256-wide nets, 12,000 steps and the lr decayed to a hundredth:
    median 25/25 over 5 seeds, HQ 0.91 to 0.95 (`python benchmarks/quality.py --dataset grid`)."""
    assert cfg.RECIPES["grid"] == {"g_hidden": (256, 256), "d_hidden": (256, 256), "steps": 12000, "lr": 1.5e-3,
                                   "lr_decay_to": 0.01}


def test_the_gaussian1d_recipe():
    """gaussian1d: G linear (g_hidden ()), so p_g is Gaussian and can equal p_data exactly
    (Theorem 1's case); a ReLU G missed the std by 0.2 or more. Mean and std within 0.03 in
    600 steps at lr 2e-2 decayed to a hundredth (tests/test_gan.py trains it)."""
    assert cfg.RECIPES["gaussian1d"] == {"noise_dim": 1, "g_hidden": (), "d_hidden": (32, 32), "m": 128, "steps": 600,
                                         "lr": 2e-2, "lr_decay_to": 0.01}


def test_the_image_recipes():
    """digits and mnist: the DCGAN optimizer (Adam 2e-4, betas (0.5, 0.999), constant lr) on
    MLPs, tanh output for images in [-1, 1]; digits: 10 of 10 classes in 5,000 steps. faces:
    a DCGAN at a width two cores train, with R1, a minibatch-std channel in D and Adam at 1e-3,
    betas (0, 0.99): DCGAN's published optimizer collapsed there (issue 29)."""
    assert cfg.RECIPES["digits"] == {"noise_dim": 16, "g_hidden": (256, 256), "d_hidden": (256, 256),
                                     "g_output": "tanh", "m": 64, "steps": 5000, "lr": 2e-4, "lr_decay_to": 1.0}
    assert cfg.RECIPES["mnist"] == {"noise_dim": 100, "g_hidden": (256, 512), "d_hidden": (512, 256),
                                    "g_activation": "leaky_relu", "g_output": "tanh", "m": 128, "steps": 20000,
                                    "lr": 2e-4, "lr_decay_to": 1.0}
    assert cfg.RECIPES["faces"] == {"arch": "dcgan", "noise_dim": 64, "g_hidden": (128, 64, 32),
                                    "d_hidden": (32, 64, 128), "minibatch_std": True, "penalty": "r1", "gamma": 1.0,
                                    "g_output": "tanh", "m": 64, "steps": 3000, "lr": 1e-3, "betas": (0.0, 0.99),
                                    "lr_decay_to": 1.0}
    assert cfg.ARCH_RECIPES == {("faces", "mlp"): {"g_hidden": (256, 512), "d_hidden": (512, 256),
                                                   "g_activation": "leaky_relu", "minibatch_std": False}}
    for name in ("digits", "mnist"):
        assert gan.recipe(name, dataset_path="x").betas == (0.5, 0.999)
    faces = gan.recipe("faces")
    assert (faces.betas, faces.penalty, faces.gamma, faces.minibatch_std) == ((0.0, 0.99), "r1", 1.0, True)


def test_the_categorical_and_points_recipes():
    """categorical: 8 logits fed Gumbel noise, straight-through at temperature 1, JS < 0.002
    by step 300 (tests/test_discrete.py trains a quarter of it to below 0.05). points: the
    lab's drawn data, trained with the ring's settings."""
    assert cfg.RECIPES["categorical"] == {"noise_dim": 8, "g_hidden": (), "d_hidden": (32,),
                                          "g_output": "straight_through", "m": 128, "steps": 600, "lr": 1e-2}
    assert cfg.RECIPES["points"] == {}
    assert set(cfg.RECIPES) == {"ring", "grid", "gaussian1d", "digits", "mnist", "points", "faces", "categorical"}


def test_the_loss_pair_recipes():
    """Measured on the ring, seeds 0-2 (benchmarks/quality.py's docstring has the commands):
    - WGAN-GP: lambda 10 (the paper's) covered 8/8 at a high-quality fraction of 0.30; lambda 1
      gave 0.88 (0.1: 0.90), with Adam's beta2 0.9 and k = 2 as in the paper; with lambda 10,
      k = 1 covered 0/8. So gamma 1.0, k 2, betas (0.5, 0.9).
    - non-saturating + R1: gamma 1 at the ring's scale (8/8 on seeds 0-2, HQ 0.79 to 0.84).
    - LSGAN and hinge train with the ring's own settings (8/8, HQ 0.83 to 0.89)."""
    assert cfg.LOSS_RECIPES == {
        ("lsgan", None): {},
        ("hinge", None): {},
        ("wgan", "gp"): {"gamma": 1.0, "k": 2, "betas": (0.5, 0.9)},
        ("non_saturating", "r1"): {"gamma": 1.0},
    }


# ---- recipe(): how the tables combine -----------------------------------------------------------
def test_recipe_adds_the_loss_pairs_settings_and_explicit_changes_win():
    wgan = gan.recipe("ring", loss="wgan", penalty="gp")
    assert (wgan.gamma, wgan.k, wgan.betas, wgan.loss, wgan.penalty) == (1.0, 2, (0.5, 0.9), "wgan", "gp")
    assert gan.recipe("ring", loss="wgan", penalty="gp", gamma=10.0, k=5).gamma == 10.0
    assert gan.recipe("ring", loss="wgan", penalty="gp", k=5).k == 5
    assert gan.recipe("grid", penalty="r1").gamma == 1.0                  # the default loss is non-saturating
    assert gan.recipe("grid", penalty="r1").steps == 12000                # on top of the dataset's recipe
    assert gan.recipe("ring", loss="wgan", penalty="r1").gamma == 10.0    # a pair not listed: the defaults
    assert gan.recipe("ring", loss="wgan").k == 1 and gan.recipe("ring", penalty="gp").gamma == 10.0
    assert gan.recipe("grid", seed=4).seed == 4 and gan.recipe().dataset == "ring"


def test_recipe_adds_the_architectures_settings():
    mlp = gan.recipe("faces", arch="mlp")
    assert (mlp.arch, mlp.g_hidden, mlp.d_hidden, mlp.g_activation) == ("mlp", (256, 512), (512, 256), "leaky_relu")
    assert mlp.lr == 1e-3 and mlp.noise_dim == 64 and mlp.penalty == "r1"   # the rest is the faces' recipe
    assert not mlp.minibatch_std                                            # a DCGAN's layer: the MLP's D has none
    assert gan.recipe("faces").g_hidden == (128, 64, 32)
    assert gan.recipe("faces", arch="mlp", g_hidden=(64,)).g_hidden == (64,)
    assert gan.recipe("ring", arch="mlp").g_hidden == (128, 128)         # only the faces have an MLP entry


def test_recipe_refuses_an_unknown_dataset():
    with pytest.raises(ValueError, match="dataset: got 'rings', wanted one of ring, grid"):
        gan.recipe("rings")
