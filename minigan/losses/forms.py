"""The loss forms after 2014: least squares, Wasserstein and hinge, on D's raw outputs.

Each pair changes what D is asked to output and what G is rewarded for. Here a_r = D(x)
and a_f = D(G(z)) are D's raw outputs (no sigmoid), m_r and m_f the batch sizes:

    form     L_D (D descends it)                          L_G (G descends it)
    lsgan    1/2 mean (a_r - 1)^2 + 1/2 mean a_f^2        1/2 mean (a_f - 1)^2
    wgan     mean a_f - mean a_r                          -mean a_f
    hinge    mean relu(1 - a_r) + mean relu(1 + a_f)      -mean a_f

- lsgan (Mao et al. 2017): D regresses real samples to 1 and fakes to 0; G pulls its fakes
  to 1. The gradient grows with the distance from the target, so it does not vanish
  while D rejects the fakes.
- wgan (Arjovsky et al. 2017): D is a critic whose mean gap between real and fake scores
  estimates the Wasserstein-1 distance, provided D is kept 1-Lipschitz (weight clipping,
  or the gradient penalty of penalties.py).
- hinge (Lim & Ye 2017; Miyato et al. 2018): a margin of 1. A real score above 1 or a fake
  one below -1 costs nothing and sends no gradient.

Each is one fused Op whose backward is the closed form derived in docs/math/losses.md.
The backwards use Python operators and ``ctx.xp`` only, and save only inputs or constant
masks, so ``backward(create_graph=True)`` differentiates through them as well.
"""
from __future__ import annotations

from minigan.autograd import Op


class LSGANDiscriminatorLoss(Op):
    """L_D = 1/2 mean (a_r - 1)^2 + 1/2 mean a_f^2   (real to 1, fake to 0).

    VJP: grad_a_r = grad_L * (a_r - 1) / m_r
         grad_a_f = grad_L * a_f / m_f
    """

    @staticmethod
    def forward(ctx, a_real, a_fake):
        xp = ctx.xp
        ctx.save(a_real, a_fake)
        return 0.5 * xp.mean((a_real - 1.0) ** 2) + 0.5 * xp.mean(a_fake**2)

    @staticmethod
    def backward(ctx, grad_loss):
        a_real, a_fake = ctx.saved
        return grad_loss * (a_real - 1.0) / a_real.size, grad_loss * a_fake / a_fake.size


class LSGANGeneratorLoss(Op):
    """L_G = 1/2 mean (a_f - 1)^2   (G pulls D's verdict on its samples to the real label).

    VJP: grad_a_f = grad_L * (a_f - 1) / m
    """

    @staticmethod
    def forward(ctx, a_fake):
        ctx.save(a_fake)
        return 0.5 * ctx.xp.mean((a_fake - 1.0) ** 2)

    @staticmethod
    def backward(ctx, grad_loss):
        (a_fake,) = ctx.saved
        return grad_loss * (a_fake - 1.0) / a_fake.size


class WassersteinCriticLoss(Op):
    """L_D = mean a_f - mean a_r   (= minus the critic's estimate of W_1).

    VJP: grad_a_r = -grad_L / m_r   for every real score
         grad_a_f =  grad_L / m_f   for every fake score
    (the loss is linear in the scores: its gradient does not depend on them)
    """

    @staticmethod
    def forward(ctx, a_real, a_fake):
        xp = ctx.xp
        ctx.save(a_real, a_fake)   # for their shapes and sizes
        return xp.mean(a_fake) - xp.mean(a_real)

    @staticmethod
    def backward(ctx, grad_loss):
        a_real, a_fake = ctx.saved
        xp = ctx.xp
        return (xp.broadcast_to(-grad_loss / a_real.size, a_real.shape),
                xp.broadcast_to(grad_loss / a_fake.size, a_fake.shape))


class CriticGeneratorLoss(Op):
    """L_G = -mean a_f   (G raises the critic's score of its samples: the wgan and hinge forms).

    VJP: grad_a_f = -grad_L / m   for every fake score
    """

    @staticmethod
    def forward(ctx, a_fake):
        ctx.save(a_fake)           # for its shape and size
        return -ctx.xp.mean(a_fake)

    @staticmethod
    def backward(ctx, grad_loss):
        (a_fake,) = ctx.saved
        return ctx.xp.broadcast_to(-grad_loss / a_fake.size, a_fake.shape)


class HingeDiscriminatorLoss(Op):
    """L_D = mean relu(1 - a_r) + mean relu(1 + a_f)   (a margin of 1 on each side).

    VJP: grad_a_r = -grad_L / m_r where a_r < 1,  0 where the real score clears the margin
         grad_a_f =  grad_L / m_f where a_f > -1, 0 where the fake score clears it
    """

    @staticmethod
    def forward(ctx, a_real, a_fake):
        xp = ctx.xp
        short_real = xp.astype(a_real < 1.0, a_real.dtype)     # 1 inside the margin, 0 past it: constant masks
        short_fake = xp.astype(a_fake > -1.0, a_fake.dtype)
        ctx.save(short_real, short_fake)
        return xp.mean(xp.maximum(1.0 - a_real, 0.0)) + xp.mean(xp.maximum(1.0 + a_fake, 0.0))

    @staticmethod
    def backward(ctx, grad_loss):
        short_real, short_fake = ctx.saved
        return -grad_loss * short_real / short_real.size, grad_loss * short_fake / short_fake.size

