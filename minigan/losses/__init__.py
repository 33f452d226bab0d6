"""The GAN losses: what D and G each descend, as fused ops with closed-form gradients.

    discriminator_loss(real, fake, form)   L_D, on D's outputs for real samples and for fakes
    generator_loss(fake, form)             L_G, on D's outputs for G's samples
    value_function(real, fake)             V(D, G) of the 2014 paper (= -L_D of form "gan")
    bce_with_logits(logits, targets)       binary cross-entropy on logits
    r1_penalty(D, x)                       mean ||grad_x D(x)||^2            (penalties.py)
    gradient_penalty(D, real, fake, eps)   mean (||grad_x D(x^)||_2 - 1)^2  (penalties.py)

The forms, by file (docs/math/losses.md derives every gradient):

    D form   G forms                     outputs    file
    gan      non_saturating, minimax     logits     minimax.py  (Goodfellow et al. 2014)
    lsgan    lsgan                       raw        forms.py    (least squares)
    wgan     wgan                        raw        forms.py    (Wasserstein critic)
    hinge    hinge                       raw        forms.py    (a margin of 1)

A trainer names one loss per run, the generator's form; ``DISCRIMINATOR_FORM[loss]`` is
the discriminator's form that goes with it.

Inputs: D's outputs of shape (m,) or (m, 1), any floating dtype. real and fake batches
may differ in size (each mean uses its own m). The functions cannot tell logits from
probabilities (both are just floats): pass D's output *before* any sigmoid.
"""
from __future__ import annotations

import numbers

from minigan.autograd import Tensor, apply
from minigan.losses.forms import (  # noqa: F401  (every op importable from minigan.losses)
    CriticGeneratorLoss, HingeDiscriminatorLoss, LSGANDiscriminatorLoss, LSGANGeneratorLoss, WassersteinCriticLoss,
)
from minigan.losses.minimax import (  # noqa: F401
    BCEWithLogits, DiscriminatorLoss, MinimaxGeneratorLoss, NonSaturatingGeneratorLoss, ValueFunction,
    _sigmoid, _softplus,
)
from minigan.losses.penalties import gradient_penalty, r1_penalty  # noqa: F401

DISCRIMINATOR_FORMS = ("gan", "lsgan", "wgan", "hinge")
GENERATOR_FORMS = ("non_saturating", "minimax", "lsgan", "wgan", "hinge")
DISCRIMINATOR_FORM = {"non_saturating": "gan", "minimax": "gan", "lsgan": "lsgan", "wgan": "wgan", "hinge": "hinge"}

_DISCRIMINATOR_OPS = {"gan": DiscriminatorLoss, "lsgan": LSGANDiscriminatorLoss, "wgan": WassersteinCriticLoss,
                      "hinge": HingeDiscriminatorLoss}
_GENERATOR_OPS = {"non_saturating": NonSaturatingGeneratorLoss, "minimax": MinimaxGeneratorLoss,
                  "lsgan": LSGANGeneratorLoss, "wgan": CriticGeneratorLoss, "hinge": CriticGeneratorLoss}


# ---- input checks ------------------------------------------------------------------------------
def _check_logits(name: str, a) -> Tensor:
    if not isinstance(a, Tensor):
        raise TypeError(f"{name}: got {type(a).__name__}, wanted a Tensor of discriminator logits")
    if not a.backend.is_float(a.data):
        raise TypeError(f"{name}: got dtype {a.dtype}, wanted a floating dtype (logits, not labels)")
    if not (a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1)) or a.shape[0] < 1:
        raise ValueError(f"{name}: got shape {a.shape}, wanted (m,) or (m, 1) logits with m >= 1")
    return a


def _check_pair(a_real, a_fake):
    _check_logits("real_logits", a_real)
    _check_logits("fake_logits", a_fake)
    if a_real.backend is not a_fake.backend:
        raise ValueError(
            f"fake_logits: got backend {a_fake.backend.name!r}, wanted real_logits' backend {a_real.backend.name!r}"
        )
    if a_real.dtype != a_fake.dtype:
        raise TypeError(f"fake_logits: got dtype {a_fake.dtype}, wanted real_logits' dtype {a_real.dtype}")


def _check_form(form, forms) -> str:
    if not isinstance(form, str) or form not in forms:
        raise ValueError(f"form: got {form!r}, wanted one of {', '.join(forms)}")
    return form


# ---- the functions users call ------------------------------------------------------------------
def value_function(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))), from logits (docs/math/losses.md)."""
    _check_pair(real_logits, fake_logits)
    return apply(ValueFunction, real_logits, fake_logits)


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor, form: str = "gan") -> Tensor:
    """The discriminator's loss L_D on its outputs for real samples and for fakes (docs/math/losses.md).

    form "gan":   -V = mean softplus(-a_r) + mean softplus(a_f)   (on logits; the 2014 loss)
    form "lsgan": 1/2 mean (a_r - 1)^2 + 1/2 mean a_f^2
    form "wgan":  mean a_f - mean a_r                  (keep D 1-Lipschitz: clip or penalise)
    form "hinge": mean relu(1 - a_r) + mean relu(1 + a_f)

    Pass ``D(G(z).detach())`` as fake outputs so the discriminator's step leaves G alone.
    """
    _check_form(form, DISCRIMINATOR_FORMS)
    _check_pair(real_logits, fake_logits)
    return apply(_DISCRIMINATOR_OPS[form], real_logits, fake_logits)


def generator_loss(fake_logits: Tensor, form: str = "non_saturating") -> Tensor:
    """The generator's loss on D's outputs for its samples (docs/math/losses.md).

    form "non_saturating": -mean log D(G(z))       (with the "gan" D: strong while D rejects the fakes)
    form "minimax":         mean log(1 - D(G(z)))  (with the "gan" D: the game's own; saturates early)
    form "lsgan":           1/2 mean (a_f - 1)^2
    form "wgan", "hinge":   -mean a_f              (raise the critic's score of the fakes)
    """
    _check_form(form, GENERATOR_FORMS)
    _check_logits("fake_logits", fake_logits)
    return apply(_GENERATOR_OPS[form], fake_logits)


def bce_with_logits(logits: Tensor, targets) -> Tensor:
    """Binary cross-entropy mean[-t log sigmoid(a) - (1 - t) log(1 - sigmoid(a))] on logits.

    targets: a Tensor of the logits' shape and dtype, or one number for every element
    (e.g. 0.9 for one-sided label smoothing). Any logit shape.
    """
    if not isinstance(logits, Tensor) or not logits.backend.is_float(logits.data):
        got = f"dtype {logits.dtype}" if isinstance(logits, Tensor) else type(logits).__name__
        raise TypeError(f"logits: got {got}, wanted a floating Tensor of logits")
    if isinstance(targets, numbers.Real) and not isinstance(targets, bool):
        if not 0 <= targets <= 1:
            raise ValueError(f"targets: got {targets!r}, wanted a probability in [0, 1]")
        xp = logits.xp
        targets = Tensor(xp.full(logits.data.shape, float(targets), dtype=logits.dtype), logits.backend)
    if not isinstance(targets, Tensor):
        raise TypeError(f"targets: got {type(targets).__name__}, wanted a Tensor or a number in [0, 1]")
    if targets.backend is not logits.backend:
        raise ValueError(f"targets: got backend {targets.backend.name!r}, wanted the logits' {logits.backend.name!r}")
    if targets.shape != logits.shape or targets.dtype != logits.dtype:
        raise ValueError(
            f"targets: got shape {targets.shape} and dtype {targets.dtype}, "
            f"wanted the logits' shape {logits.shape} and dtype {logits.dtype}"
        )
    return apply(BCEWithLogits, logits, targets)
