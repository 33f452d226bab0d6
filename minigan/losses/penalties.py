"""Gradient penalties: losses on D's gradient with respect to its input, grad_x D(x).

    r1_penalty(D, x)                      mean_i ||grad_x D(x_i)||^2            (Mescheder et al. 2018)
    gradient_penalty(D, real, fake, eps)  mean_i (||grad_x D(x^_i)||_2 - 1)^2   (Gulrajani et al. 2017)
                                          x^_i = eps_i real_i + (1 - eps_i) fake_i

R1 pushes D's slope to zero at the data: D cannot sharpen its verdict on real samples
for ever, and the game settles at its equilibrium instead of circling it (the Dirac-GAN
tutorial shows this). The trainer adds gamma/2 R1 to L_D; R2 is the same penalty on the
fakes. The gradient penalty keeps a WGAN critic close to 1-Lipschitz along the lines
between real and fake samples, where the optimal critic has slope 1; the trainer adds
gamma * GP (the paper's lambda = 10).

Both are losses on a gradient, so D's parameters get their gradient through a backward
pass: ``minigan.grad(..., create_graph=True)`` records that pass, and the optimizer's
backward then differentiates it (docs/math/losses.md#gradient-penalties).

One gradient for the whole batch: grad_x of sum_j D(x_j) has row i equal to
grad_x D(x_i), because D(x_j) does not depend on x_i for j != i. That holds for any D
that treats samples one at a time: not for batch normalisation in training mode, whose
batch statistics make every D(x_j) depend on every x_i, so a D holding one is refused
(docs/math/convolution.md#batch-normalisation-and-gradient-penalties).
The minibatch standard deviation (nn.MinibatchStd, in the faces recipe) mixes the samples
too, through one feature, the batch's mean standard deviation s: row i then also holds
(sum_j dD(x_j)/ds) ds/dx_i. It is allowed: the penalty is then on the rows of the summed
scores' gradient, as StyleGAN2's R1 is with the same layer, not on each sample's alone.
"""
from __future__ import annotations

from minigan.autograd import Tensor
from minigan.backprop import grad
from minigan.nn.batchnorm import BatchNorm1d, BatchNorm2d


def _check_points(name: str, x) -> Tensor:
    """Samples (m, dim), or images (m, C, H, W), as rows (m, dim): each sample's gradient is one row."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: got {type(x).__name__}, wanted a Tensor of samples (m, dim)")
    if x.ndim < 2 or x.shape[0] < 1 or not x.backend.is_float(x.data):
        raise ValueError(f"{name}: got shape {x.shape} and dtype {x.dtype}, wanted floating samples (m, dim)")
    return x if x.ndim == 2 else x.detach().reshape(x.shape[0], -1)


def _scores(D, x: Tensor, shape=None) -> Tensor:
    """D(x) for the leaf x (given to D in ``shape``, for images), checked to be one score per sample (m, 1)."""
    if not callable(D):
        raise TypeError(f"D: got {type(D).__name__}, wanted the discriminator (a callable nn.Module)")
    for module in D.modules() if hasattr(D, "modules") else ():
        if isinstance(module, (BatchNorm1d, BatchNorm2d)) and module.training:
            raise ValueError(f"D: got a {type(module).__name__} in training mode, whose batch statistics mix the "
                             "samples and make one gradient of the summed scores wrong; wanted a D without batch "
                             "normalisation (or in eval() mode)")
    scores = D(x if shape is None or len(shape) == 2 else x.reshape(shape))
    if not isinstance(scores, Tensor) or scores.shape[0] != x.shape[0] or scores.size != x.shape[0]:
        got = scores.shape if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"D: got outputs {got} for {x.shape[0]} samples, wanted one score per sample (m, 1)")
    return scores


def r1_penalty(D, x: Tensor) -> Tensor:
    """R1 = mean over the batch of ||grad_x D(x_i)||^2, differentiable in D's parameters.

    The caller weighs it (the trainer adds gamma / 2 * R1 to D's loss). For a linear
    D(x) = x w + b it is ||w||^2 exactly, at every x.
    """
    shape = x.shape if isinstance(x, Tensor) else None
    x = _check_points("x", x).detach().requires_grad_()   # a leaf of its own: we want d D / d x
    scores = _scores(D, x, shape)                           # (m, 1)
    # BEGIN SOLUTION A5.1
    (grad_x,) = grad(scores.sum(), x, create_graph=True)    # row i: grad_x D(x_i), recorded   (m, dim)
    return (grad_x * grad_x).sum(axis=1).mean()             # the mean of the squared norms
    # END SOLUTION


# ||g|| = sqrt(||g||^2 + TINY): sqrt's derivative 1 / (2 sqrt(s)) is infinite at s = 0 (a D flat at x^,
# e.g. every ReLU off), which would turn D's gradient into NaN; TINY moves the norm by at most 1e-6.
TINY = 1e-12


def gradient_penalty(D, real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """GP = mean over the batch of (||grad_x D(x^_i)||_2 - 1)^2, x^ = eps * real + (1 - eps) * fake.

    eps: a Tensor (m, 1) of numbers in [0, 1], one per pair, drawn by the caller (the
    trainer draws it from its own generator, so a run stays reproducible). Gradients
    reach D's parameters only: real, fake and eps are taken as constants.
    """
    shape = real.shape if isinstance(real, Tensor) else None
    if isinstance(real, Tensor) and isinstance(fake, Tensor) and fake.shape != shape:   # (else: real's own error)
        raise ValueError(f"fake: got shape {fake.shape}, wanted real's shape {shape}")
    real, fake = _check_points("real", real), _check_points("fake", fake)
    if not isinstance(eps, Tensor) or eps.shape != (real.shape[0], 1):
        got = eps.shape if isinstance(eps, Tensor) else type(eps).__name__
        raise ValueError(f"eps: got {got}, wanted a Tensor of shape {(real.shape[0], 1)}: one number in [0, 1] per pair")
    eps, real, fake = eps.detach(), real.detach(), fake.detach()
    x_hat = (eps * real + (1.0 - eps) * fake).requires_grad_()    # on the line from fake to real   (m, dim)
    (grad_x,) = grad(_scores(D, x_hat, shape).sum(), x_hat, create_graph=True)
    norms = ((grad_x * grad_x).sum(axis=1) + TINY) ** 0.5          # ||grad_x D(x^_i)||   (m,)
    return ((norms - 1.0) ** 2).mean()
