"""The losses of Goodfellow et al. (2014), on logits, each a fused op with its closed-form gradient.

The discriminator outputs a logit a(x); its verdict is D(x) = sigmoid(a(x)), the
probability that x is real. Over a minibatch of m_r real logits a_r = a(x) and m_f fake
logits a_f = a(G(z)), the minimax value is

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
and against finite differences. Call them through ``minigan.losses`` (its functions check
their inputs); the later forms (LSGAN, WGAN, hinge) are in forms.py.
"""
from __future__ import annotations

from minigan.autograd import Op
from minigan.ops import sigmoid_and_complement


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
