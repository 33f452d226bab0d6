"""A hand-written NumPy GAN step: the baseline minigan's speed is measured against.

No autograd and no framework. Each layer's backward is written out by hand (the same
vector-Jacobian products as minigan/ops/), the loss gradients are the closed forms of
docs (dL_D/da_real = (sigmoid(a_real) - 1)/m, dL_D/da_fake = sigmoid(a_fake)/m, and the
non-saturating dL_G/da = (sigmoid(a) - 1)/m), and Adam updates its state in place. It is
what a careful NumPy programmer writes for one Algorithm 1 iteration with k = 1, so
"minigan / reference" measures what autograd and the framework cost.

What a hand-written step skips, and minigan's autograd (as of this file) does not: the
gradient with respect to the data fed to D's first layer, and D's parameter gradients
during the generator's step (only dL/dG(z) is needed there).

Its array expressions are minigan's own (the activations' ``np.where`` of
minigan/ops/, ``x @ W + b``, the tanh-form sigmoid), so that "minigan / reference"
measures the framework (graph, autograd, optimizer, trainer), not a choice of formula.
When an op's formula changes in minigan/ops/, change it here too.

Layout as in minigan: weight (n_in, n_out), y = x @ weight + bias; parameters listed
[W0, b0, W1, b1, ...], the order of minigan's ``parameters()``.
tests/test_benchmarks.py checks these gradients against minigan's autograd in float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SLOPE = 0.2  # LeakyReLU's slope for x < 0


# ---- the two benchmark configurations (shared by train_step.py, torch_step.py, the tests) ----
@dataclass(frozen=True)
class Config:
    name: str
    data: str            # "ring" (8 Gaussians on a circle) or "images" (a fixed random set in [-1, 1])
    noise_dim: int
    g_sizes: tuple
    g_activation: str    # "relu" | "leaky_relu"
    g_output: str | None  # None | "tanh"
    d_sizes: tuple
    d_activation: str
    m: int               # minibatch size


TOY = Config("toy", "ring", 2, (2, 128, 128, 2), "relu", None, (2, 128, 128, 1), "leaky_relu", 256)
IMAGE = Config("image", "images", 100, (100, 256, 512, 784), "leaky_relu", "tanh",
               (784, 512, 256, 1), "leaky_relu", 128)
CONFIGS = {"toy": TOY, "image": IMAGE}

RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.02  # minigan.data.ring()'s defaults
N_IMAGES = 4096  # size of the fixed random "dataset" the image config samples from


def ring_centres() -> np.ndarray:
    """(8, 2) float64 centres of the ring, as in minigan.data.ring()."""
    angles = 2.0 * np.pi * np.arange(RING_MODES) / RING_MODES
    return RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def random_images(dim: int, seed: int = 1234) -> np.ndarray:
    """(N_IMAGES, dim) float32 in [-1, 1]: stands in for MNIST (timing needs no real digits)."""
    images = np.random.default_rng(seed).random((N_IMAGES, dim), dtype=np.float32)  # [0, 1), no float64 copy
    images *= 2.0
    images -= 1.0
    return images


# ---- the network, forward and backward --------------------------------------------------------
def sigmoid(a):
    return 0.5 * (np.tanh(0.5 * a) + 1.0)  # tanh form: no overflow for any a


class MLP:
    """Linear layers with ``activation`` ("relu" | "leaky_relu") between them, ``output``
    (None | "tanh") after the last one; Glorot-uniform weights, zero biases."""

    def __init__(self, sizes, activation, output=None, *, rng, dtype=np.float32):
        self.activation, self.output = activation, output
        self.params = []  # [W0, b0, W1, b1, ...]
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            limit = math.sqrt(6.0 / (n_in + n_out))
            self.params += [rng.uniform(-limit, limit, (n_in, n_out)).astype(dtype), np.zeros(n_out, dtype)]

    def forward(self, x):
        """y = the network at x, and the cache backward needs (layer inputs, activation masks)."""
        inputs, masks = [], []
        n_layers = len(self.params) // 2
        h = x
        for i in range(n_layers):
            weight, bias = self.params[2 * i], self.params[2 * i + 1]
            inputs.append(h)
            a = h @ weight + bias                       # (m, n_in) @ (n_in, n_out) -> (m, n_out)
            if i < n_layers - 1:
                positive = a > 0
                masks.append(positive)
                h = np.where(positive, a, 0.0 if self.activation == "relu" else SLOPE * a)
            elif self.output == "tanh":
                h = np.tanh(a)
                masks.append(h)                         # tanh's backward reuses its output
            else:
                h = a
        return h, (inputs, masks)

    def backward(self, grad_y, cache, param_grads=True, input_grad=False):
        """From grad_y = dL/dy: the parameter gradients (None where not asked) and dL/dx."""
        inputs, masks = cache
        n_layers = len(inputs)
        grads = [None] * len(self.params)
        g = grad_y
        if self.output == "tanh":
            g = g * (1.0 - masks[-1] * masks[-1])       # tanh' = 1 - y^2
        for i in reversed(range(n_layers)):
            if i < n_layers - 1:                        # through the activation after layer i
                g = np.where(masks[i], g, 0.0 if self.activation == "relu" else SLOPE * g)
            if param_grads:
                grads[2 * i] = inputs[i].T @ g          # (n_in, m) @ (m, n_out) -> (n_in, n_out)
                grads[2 * i + 1] = np.sum(g, axis=0)    # (n_out,)
            if i > 0 or input_grad:
                g = g @ self.params[2 * i].T            # (m, n_out) @ (n_out, n_in) -> (m, n_in)
        return grads, (g if input_grad else None)


# ---- Adam, in place ----------------------------------------------------------------------------
class Adam:
    """Adam (Kingma and Ba, 2015) as PyTorch writes it, with no new arrays per step:

        m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
        p = p - lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, params, lr=2e-4, betas=(0.5, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.scratch = [np.empty_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t     # bias corrections
        for p, g, m, v, s in zip(self.params, grads, self.m, self.v, self.scratch):
            np.multiply(g, 1.0 - b1, out=s); m *= b1; m += s             # m = b1 m + (1 - b1) g
            np.multiply(g, g, out=s); s *= 1.0 - b2; v *= b2; v += s     # v = b2 v + (1 - b2) g^2
            np.sqrt(v, out=s); s *= 1.0 / math.sqrt(c2); s += self.eps   # s = sqrt(v_hat) + eps
            np.divide(m, s, out=s); s *= self.lr / c1; p -= s            # p -= lr m_hat / s


# ---- one Algorithm 1 iteration -----------------------------------------------------------------
class GANStep:
    """G, D, their Adams and the samplers of one config; ``step()`` runs one iteration."""

    def __init__(self, config: Config, seed: int = 0, dtype=np.float32):
        self.config, self.dtype = config, dtype
        self.rng = np.random.default_rng(seed)
        self.G = MLP(config.g_sizes, config.g_activation, config.g_output, rng=self.rng, dtype=dtype)
        self.D = MLP(config.d_sizes, config.d_activation, None, rng=self.rng, dtype=dtype)
        self.opt_G, self.opt_D = Adam(self.G.params), Adam(self.D.params)
        self.centres = ring_centres()
        self.images = random_images(config.d_sizes[0]) if config.data == "images" else None

    # samplers: float64 draws on the host cast to the training dtype, as minigan's data does
    def sample_z(self, m):
        return self.rng.normal(0.0, 1.0, (m, self.config.noise_dim)).astype(self.dtype)

    def sample_x(self, m):
        if self.images is not None:
            return self.images[self.rng.integers(0, len(self.images), (m,))].astype(self.dtype, copy=False)
        which = self.rng.integers(0, RING_MODES, (m,))
        return (self.centres[which] + self.rng.normal(0.0, RING_STD, (m, 2))).astype(self.dtype)

    def discriminator_gradients(self, x, z):
        """L_D = mean softplus(-a_real) + mean softplus(a_fake) = -V(D, G), and dL_D/dtheta_d."""
        m = x.shape[0]
        fake, _ = self.G.forward(z)                     # G(z), no gradient back into G
        a_real, cache_real = self.D.forward(x)          # (m, 1) logits
        a_fake, cache_fake = self.D.forward(fake)
        loss = np.mean(np.logaddexp(-a_real, 0.0)) + np.mean(np.logaddexp(a_fake, 0.0))
        grads_real, _ = self.D.backward((sigmoid(a_real) - 1.0) / m, cache_real)
        grads_fake, _ = self.D.backward(sigmoid(a_fake) / m, cache_fake)
        return loss, [gr + gf for gr, gf in zip(grads_real, grads_fake)]

    def generator_gradients(self, z):
        """Non-saturating L_G = mean softplus(-D's logit at G(z)) = -mean log D(G(z)), and dL_G/dtheta_g."""
        m = z.shape[0]
        fake, cache_G = self.G.forward(z)
        a_fake, cache_D = self.D.forward(fake)
        loss = np.mean(np.logaddexp(-a_fake, 0.0))
        _, grad_fake = self.D.backward((sigmoid(a_fake) - 1.0) / m, cache_D, param_grads=False, input_grad=True)
        grads, _ = self.G.backward(grad_fake, cache_G)
        return loss, grads

    def step(self):
        """One iteration: one discriminator step (k = 1), then one generator step."""
        m = self.config.m
        x, z = self.sample_x(m), self.sample_z(m)
        loss_D, grads = self.discriminator_gradients(x, z)
        self.opt_D.step(grads)                          # descending -V ascends V
        loss_G, grads = self.generator_gradients(self.sample_z(m))
        self.opt_G.step(grads)
        return loss_D, loss_G
