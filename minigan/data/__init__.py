"""Noise priors p_z and data distributions p_data: what Algorithm 1 samples m of at each step.

Every distribution has the same shape (see ``minigan.data.base``)::

    from minigan import data, get_backend

    rng = get_backend("numpy").random(0)
    p_z, p_data = data.normal_noise(2), data.ring()
    z = p_z.sample(256, rng)          # (256, 2) float32, on rng's backend
    x = p_data.sample(256, rng)       # (256, 2): a fresh minibatch on every call

Noise priors (``noise.py``): ``normal_noise(dim)``, ``uniform_noise(dim)``.
Toy data (``toy.py``): ``gaussian_1d(mean, std)`` with its ``density``; ``ring(...)`` and
``grid(...)`` Gaussian mixtures with their ``centres`` and ``std``.
Images (``images.py``): ``digits()`` (scikit-learn's 8x8 digits), ``mnist(path)``.
Faces (``cartoon.py``): ``faces(n, size, seed)``, cartoon faces drawn by code, with their
factors (colour, eyes, mouth) as labels.
Discrete (``categorical.py``): ``categorical(probabilities)``, one-hot rows of K symbols, and
``gumbel_noise(dim)``, the p_z of a generator of symbols (minigan.nn.discrete).
"""
from minigan.data.base import Distribution
from minigan.data.categorical import Categorical, GumbelNoise, categorical, gumbel_noise
from minigan.data.cartoon import faces
from minigan.data.images import ImageDataset, digits, mnist, read_idx
from minigan.data.noise import NormalNoise, UniformNoise, normal_noise, uniform_noise
from minigan.data.toy import POINTS_STD, Gaussian1D, GaussianMixture, gaussian_1d, grid, points, ring

__all__ = [
    "Categorical", "GumbelNoise", "categorical", "gumbel_noise",
    "Distribution", "Gaussian1D", "GaussianMixture", "ImageDataset", "NormalNoise", "UniformNoise",
    "digits", "faces", "gaussian_1d", "grid", "mnist", "normal_noise", "points", "read_idx", "ring", "uniform_noise",
]
