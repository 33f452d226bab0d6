"""The GAN losses, on logits, each a fused op with its closed-form gradient.

The discriminator outputs a logit a(x); its verdict is D(x) = sigmoid(a(x)), the
probability that x is real. Over a minibatch of m_r real logits a_r = a(x) and m_f fake
logits a_f = a(G(z)), the minimax value of Goodfellow et al. (2014) is

    V(D, G) = mean log D(x) + mean log(1 - D(G(z)))
            = -mean softplus(-a_r) - mean softplus(a_f)      (log sigmoid(a) = -softplus(-a))

- the discriminator ascends V, which we implement as descending L_D = -V;
- the generator descends mean log(1 - D(G(z))) (the "minimax" form), or, as the paper
  recommends in practice, descends -mean log D(G(z)) (the "non-saturating" form).

Why logits: log(sigmoid(a)) computed as written gives log(0) = -inf once sigmoid(a)
rounds to 0 (a below about -104 in float32); softplus(x) = logaddexp(x, 0) is finite for
every x, and so is every gradient below (each is a sigmoid, bounded by 1).

Why fused: each loss is one Op whose backward is the closed-form gradient derived in
docs/math/losses.md, instead of autograd through log, sigmoid and mean. The same numbers,
one node in the graph, and the formula a student derives is the code that runs.
tests/test_losses.py checks each closed form against autograd through the primitive ops
and against finite differences.

Inputs: logits of shape (m,) or (m, 1), any floating dtype. real and fake batches may
differ in size (each mean uses its own m). The functions cannot tell logits from
probabilities (both are just floats): pass the discriminator's output *before* any sigmoid.
"""
from __future__ import annotations

import numbers

from minigan.autograd import Op, Tensor, apply
from minigan.ops import sigmoid_and_complement

GENERATOR_FORMS = ("non_saturating", "minimax")


def _sigmoid(xp, a):
    # sigmoid(a) in the exp(-|a|) form, the same helper as ops.Sigmoid: no overflow for any a,
    # and full float32 precision at both ends (the tanh form 0.5 * (tanh(a / 2) + 1) gives
    # exactly 0 from a = -20 in float32, where the true value is still 2e-9)
    sigmoid_a, _ = sigmoid_and_complement(xp, a)
    return sigmoid_a


def _softplus(xp, a):
    return xp.logaddexp(a, 0.0)  # log(1 + exp(a)), finite for any a


class ValueFunction(Op):
    """V = -mean softplus(-a_r) - mean softplus(a_f)  (= mean log D(x) + mean log(1 - D(G(z)))).

    VJP: V = -L_D, so each gradient is DiscriminatorLoss's with the sign flipped.
    """

    @staticmethod
    def forward(ctx, a_real, a_fake):
        xp = ctx.xp
        ctx.save(a_real, a_fake)
        return -xp.mean(_softplus(xp, -a_real)) - xp.mean(_softplus(xp, a_fake))

    @staticmethod
    def backward(ctx, grad_v):
        grad_real, grad_fake = DiscriminatorLoss.backward(ctx, grad_v)  # ctx saved (a_real, a_fake) alike
        return -grad_real, -grad_fake


class DiscriminatorLoss(Op):
    """L_D = -V = mean softplus(-a_r) + mean softplus(a_f).

    VJP: grad_a_r = grad_L * (sigmoid(a_r) - 1) / m_r   (push real logits up)
         grad_a_f = grad_L * sigmoid(a_f) / m_f         (push fake logits down)
    """

    @staticmethod
    def forward(ctx, a_real, a_fake):
        xp = ctx.xp
        ctx.save(a_real, a_fake)
        return xp.mean(_softplus(xp, -a_real)) + xp.mean(_softplus(xp, a_fake))

    @staticmethod
    def backward(ctx, grad_loss):
        a_real, a_fake = ctx.saved
        xp = ctx.xp
        # BEGIN SOLUTION A2.2
        # sigmoid(a) - 1 = -sigmoid(-a): the same number, without cancellation when a is large
        grad_real = grad_loss * -_sigmoid(xp, -a_real) / a_real.size
        grad_fake = grad_loss * _sigmoid(xp, a_fake) / a_fake.size
        return grad_real, grad_fake
        # END SOLUTION


class MinimaxGeneratorLoss(Op):
    """L_G = mean log(1 - D(G(z))) = -mean softplus(a_f)   (the paper's minimax form).

    VJP: grad_a_f = -grad_L * sigmoid(a_f) / m = -grad_L * D(G(z)) / m:
         vanishes when D confidently rejects the fakes (D(G(z)) near 0): it saturates.
    """

    @staticmethod
    def forward(ctx, a_fake):
        xp = ctx.xp
        ctx.save(a_fake)
        return -xp.mean(_softplus(xp, a_fake))

    @staticmethod
    def backward(ctx, grad_loss):
        (a_fake,) = ctx.saved
        xp = ctx.xp
        # BEGIN SOLUTION A2.3
        return -grad_loss * _sigmoid(xp, a_fake) / a_fake.size
        # END SOLUTION


class NonSaturatingGeneratorLoss(Op):
    """L_G = -mean log D(G(z)) = mean softplus(-a_f)   (the paper's practical form).

    VJP: grad_a_f = grad_L * (sigmoid(a_f) - 1) / m = -grad_L * (1 - D(G(z))) / m:
         near -1/m exactly where the minimax gradient vanishes.
    """

    @staticmethod
    def forward(ctx, a_fake):
        xp = ctx.xp
        ctx.save(a_fake)
        return xp.mean(_softplus(xp, -a_fake))

    @staticmethod
    def backward(ctx, grad_loss):
        (a_fake,) = ctx.saved
        xp = ctx.xp
        # BEGIN SOLUTION A2.4
        # sigmoid(a) - 1 = -sigmoid(-a), computed without cancellation
        return grad_loss * -_sigmoid(xp, -a_fake) / a_fake.size
        # END SOLUTION


class BCEWithLogits(Op):
    """L = mean[softplus(a) - t * a]  (= mean of -t log sigmoid(a) - (1 - t) log(1 - sigmoid(a))).

    VJP: grad_a = grad_L * (sigmoid(a) - t) / n,  grad_t = -grad_L * a / n   (n elements)
    """

    @staticmethod
    def forward(ctx, logits, targets):
        xp = ctx.xp
        ctx.save(logits, targets)
        return xp.mean(_softplus(xp, logits) - targets * logits)

    @staticmethod
    def backward(ctx, grad_loss):
        logits, targets = ctx.saved
        xp = ctx.xp
        n = logits.size
        return grad_loss * (_sigmoid(xp, logits) - targets) / n, -grad_loss * logits / n


# ---- the functions users call ------------------------------------------------------------------
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


def value_function(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """V(D, G) = mean log D(x) + mean log(1 - D(G(z))), from logits (docs/math/losses.md)."""
    _check_pair(real_logits, fake_logits)
    return apply(ValueFunction, real_logits, fake_logits)


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """L_D = -V(D, G): descending it ascends V (docs/math/losses.md).

    Pass ``D(G(z).detach())`` as fake logits so the discriminator's step leaves G alone.
    """
    _check_pair(real_logits, fake_logits)
    return apply(DiscriminatorLoss, real_logits, fake_logits)


def generator_loss(fake_logits: Tensor, form: str = "non_saturating") -> Tensor:
    """The generator's loss on D's logits for its samples (docs/math/losses.md).

    form "non_saturating": -mean log D(G(z))   (strong gradient while D rejects the fakes)
    form "minimax":         mean log(1 - D(G(z)))  (the game's own loss; saturates early)
    """
    _check_logits("fake_logits", fake_logits)
    if form == "non_saturating":
        return apply(NonSaturatingGeneratorLoss, fake_logits)
    if form == "minimax":
        return apply(MinimaxGeneratorLoss, fake_logits)
    raise ValueError(f"form: got {form!r}, wanted one of {', '.join(GENERATOR_FORMS)}")


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
