"""A conditional GAN (Mirza and Osindero, 2014): ask G for an image of a given class.

Both networks are told the class y, as a one-hot vector:

    G(z, y) = G([z, onehot(y)])        noise (m, noise_dim) and y (m, K) -> an image (m, dim)
    D(x, y)                            an image and the class it claims to be -> one logit

and otherwise it is Algorithm 1 with the usual losses (``minigan.losses``): real pairs
(x, y) come from the labelled training images; each fake pair is (G(z, y), y) for a class y
drawn uniformly. D learns to reject an image that does not look like the class it is paired
with, so G can only fool it by drawing what it was asked for.

Two architectures (``arch``):

- "mlp" (the digits): D(x, y) = D([x, onehot(y)]), the one-hot joined to D's input.
- "dcgan" (the faces, ``image_shape`` (C, S, S)): G is ``nn.dcgan_generator`` fed
  [z, onehot(y)], and D is a *projection discriminator* (Miyato and Koyama, 2018):

      phi(x) = D's convolutions, flattened              (m, F)
      D(x, y) = w . phi(x) + b  +  (onehot(y) V) . phi(x)      V: (K, F), one row per class

  Why not join onehot(y) to phi(x) before D's last Linear? That Linear would give
  w . phi(x) + v . onehot(y) + b: the class only shifts the logit by a constant and never
  meets the image, so D could not tell a frown asked for a smile from a smile. The
  projection's product lets each class weigh the image's features its own way, at the cost
  of one (K, F) matrix; joining y to the image as K constant channels would also work, but
  makes the first convolution K / C times wider.

A label may have several factors (the faces: colour, eyes, mouth): ``classes`` is then a
tuple of class counts, labels are rows (n, factors), and onehot(y) is the factors'
one-hots side by side (5 + 4 + 5 = 14 columns for the faces).

``class_agreement`` measures whether G draws what it is asked for: the fraction of generated
images that an independent classifier puts in the class asked for (the digits classifier
``minigan.judging.digits_features``); ``factor_agreement`` does so per factor with the faces
judge (``minigan.judging.faces_judge``).
"""
from __future__ import annotations

import itertools

import numpy as np

from minigan import data, losses, nn, ops, threads
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_backend
from minigan.data import cartoon
from minigan.gan import update
from minigan.nn.init import weight as init_weight
from minigan.nn.module import Module, Parameter
from minigan.variants.semi_supervised import make_optimizer

CLASSES = 10
# class_agreement 0.982 0.951 0.970 0.983 0.971 on seeds 0..4 (demo --conditional --seed S, under 25 s
# each on two busy cores); lr 5e-4 needed 3,000 steps for 0.99 on seed 0 (0.94 at step 1,000)
RECIPE = {"steps": 2000, "m": 64, "lr": 1e-3, "noise_dim": 16, "g_hidden": (256, 256), "d_hidden": (256, 256)}
# the faces (faces_gan): the unconditional faces recipe's networks and Adam (minigan.gan.config, "faces");
# not tuned for the conditional run (issue 29's report has what one run reached)
FACES_RECIPE = {"arch": "dcgan", "steps": 1500, "m": 64, "lr": 2e-4, "noise_dim": 64, "g_hidden": (128, 64, 32),
                "d_hidden": (32, 64, 128)}


class ProjectionDiscriminator(Module):
    """D(x, y) = w . phi(x) + b + (onehot(y) V) . phi(x), phi a DCGAN discriminator's convolutions.

    x (m, C*S*S), y (m, K) one-hot rows -> (m, 1) logits. The convolutions and w, b are
    ``nn.dcgan_discriminator``'s own layers (its last Linear is w, b); V is drawn after them."""

    def __init__(self, widths, image_shape, classes: int, *, rng, backend):
        super().__init__(backend)
        unconditional = nn.dcgan_discriminator(widths, image_shape, rng=rng, backend=backend)
        self.features = nn.Sequential(*unconditional.layers[:-1])      # ... Flatten: (m, F)
        self.head = unconditional.layers[-1]                           # Linear F -> 1: w, b
        dtype = self.head.weight.dtype
        self.embed = Parameter(init_weight("normal", rng, classes, self.head.n_in, dtype), backend)   # V (K, F)

    def forward(self, x, y):
        phi = self.features(x)                                         # (m, F)
        projection = ((y @ self.embed) * phi).sum(axis=1, keepdims=True)   # (m, K) @ (K, F), times phi, summed: (m, 1)
        return self.head(phi) + projection


class ConditionalGAN:
    """G(z, y) and D(x, y), MLPs or a DCGAN, trained on labelled images.

    images, labels   host arrays (n, dim) in [-1, 1] and (n,) classes 0..K-1; with ``classes``
                     a tuple (one count per factor), labels are rows (n, factors)
    arch             "mlp" (the default, ``RECIPE``) or "dcgan" (``image_shape`` (C, S, S) needed)
    """

    def __init__(self, images, labels, *, seed=0, backend=None, classes=CLASSES, image_shape=None, **changes):
        settings = {**RECIPE, **changes}
        self.settings, self.classes = settings, classes
        self.counts = (classes,) if isinstance(classes, int) else tuple(classes)    # classes of each factor
        self.arch = arch = settings.get("arch", "mlp")
        if arch not in ("mlp", "dcgan") or (arch == "dcgan" and image_shape is None):
            raise ValueError(f"arch: got {arch!r} (image_shape {image_shape}), wanted 'mlp', or 'dcgan' with "
                             "image_shape (C, S, S)")
        self.backend = backend = get_backend(backend)
        self.rng = rng = backend.random(seed)
        self.images = backend.asarray(images, dtype=backend.default_float)     # (n, dim), on the backend
        labels = np.asarray(labels, dtype=np.int64)                            # (n,) or (n, factors)
        if labels.shape[1:] != (() if isinstance(classes, int) else (len(self.counts),)):
            raise ValueError(f"labels: got shape {labels.shape}, wanted (n,) classes or (n, {len(self.counts)}) rows "
                             f"(one column per factor of classes={classes})")
        self.labels = backend.asarray(labels)
        self.eyes = [backend.asarray(np.eye(k), dtype=backend.default_float) for k in self.counts]  # row c = onehot(c)
        dim, k, noise_dim = self.images.shape[1], sum(self.counts), settings["noise_dim"]
        self.p_z = data.normal_noise(noise_dim)
        self.m = settings["m"]
        if arch == "mlp":
            self.G = nn.MLP([noise_dim + k, *settings["g_hidden"], dim], "relu", "tanh", rng=rng, backend=backend)
            self.D = nn.MLP([dim + k, *settings["d_hidden"], 1], "leaky_relu", rng=rng, backend=backend)
        else:
            self.G = nn.dcgan_generator(noise_dim + k, settings["g_hidden"], image_shape, "tanh", rng=rng,
                                        backend=backend)
            self.D = ProjectionDiscriminator(settings["d_hidden"], image_shape, k, rng=rng, backend=backend)
        self.opt_G = make_optimizer(self.G.parameters(), settings["lr"])
        self.opt_D = make_optimizer(self.D.parameters(), settings["lr"])
        self.step = 0

    def generator(self, z: Tensor, y: Tensor) -> Tensor:
        return self.G(ops.concat([z, y], axis=1))       # [(m, noise_dim), (m, K)] -> (m, noise_dim + K) -> (m, dim)

    def discriminator(self, x: Tensor, y: Tensor) -> Tensor:
        if self.arch == "dcgan":
            return self.D(x, y)                         # the projection: (m, dim), (m, K) -> (m, 1)
        return self.D(ops.concat([x, y], axis=1))       # [(m, dim), (m, K)] -> (m, dim + K) -> (m, 1)

    def one_hot(self, labels) -> Tensor:
        """(m,) integer classes, or (m, factors) rows, on the backend -> (m, K) one-hot rows
        (each factor's one-hot side by side; no gradient), on the device."""
        xp = self.backend.xp
        labels = xp.reshape(labels, (labels.shape[0], len(self.counts)))
        blocks = [xp.take(eye, labels[:, f], axis=0) for f, eye in enumerate(self.eyes)]
        return Tensor(blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=1), self.backend)

    def fake_classes(self, m: int) -> Tensor:
        """m classes drawn uniformly (each factor in turn), one-hot: what G is asked to draw."""
        drawn = [self.rng.integers(0, k, (m,)) for k in self.counts]
        return self.one_hot(drawn[0] if len(drawn) == 1 else self.backend.xp.stack(drawn, axis=1))

    def train_step(self) -> dict:
        """One iteration of Algorithm 1 (k = 1) on (x, y) pairs."""
        xp, m = self.backend.xp, self.m
        rows = self.rng.integers(0, self.images.shape[0], (m,))
        x = Tensor(xp.take(self.images, rows, axis=0), self.backend)           # m examples x ~ p_data  (m, dim)
        y = self.one_hot(xp.take(self.labels, rows, axis=0))                  # and their classes (m, K)
        z, y_fake = Tensor(self.p_z.sample(m, self.rng), self.backend), self.fake_classes(m)
        real = self.discriminator(x, y)
        fake = self.discriminator(self.generator(z, y_fake).detach(), y_fake)  # detach: no gradient to G
        loss_D = losses.discriminator_loss(real, fake)                         # = -V(D, G)
        update(self.opt_D, loss_D)
        z, y_fake = Tensor(self.p_z.sample(m, self.rng), self.backend), self.fake_classes(m)
        loss_G = losses.generator_loss(self.discriminator(self.generator(z, y_fake), y_fake))  # -log D(G(z, y), y)
        update(self.opt_G, loss_G)
        self.step += 1
        return {"d_loss": loss_D, "g_loss": loss_G}

    @threads.trained  # BLAS threads chosen by timing these steps (minigan.threads)
    def train(self, steps: int, callback=None) -> "ConditionalGAN":
        for _ in range(steps):
            self.train_step()
            if callback is not None:
                callback(self)
        return self

    def generate(self, labels, seed: int = 0) -> np.ndarray:
        """One image per entry of ``labels`` (host ints: (n,) classes, or (n, factors) rows),
        as a NumPy array (n, dim); the noise comes from ``backend.random(seed)``, not the
        training generator, and G's batch normalisation (a DCGAN's) uses its running statistics."""
        labels = np.asarray(labels, dtype=np.int64)
        single = isinstance(self.classes, int)
        fits = labels.ndim == (1 if single else 2) and labels.size >= 1 and (single or labels.shape[1] == len(self.counts))
        rows = labels.reshape(len(labels), len(self.counts)) if fits else None
        if not fits or (rows < 0).any() or (rows >= np.array(self.counts)).any():
            wanted = (f"a list of classes 0 to {self.classes - 1}" if isinstance(self.classes, int) else
                      f"rows of {len(self.counts)} classes below {self.counts}")
            raise ValueError(f"labels: got {labels.tolist()[:10]}..., wanted {wanted}")
        z = Tensor(self.p_z.sample(len(labels), self.backend.random(seed)), self.backend)
        training = self.G.training
        self.G.eval()
        try:
            with no_grad():
                return self.generator(z, self.one_hot(self.backend.asarray(labels))).numpy()
        finally:
            self.G.train(training)


def requested_classes(n: int, classes: int = CLASSES) -> np.ndarray:
    """0, 0, ..., 1, 1, ...: n // classes of each class in turn (a grid row per class)."""
    return np.repeat(np.arange(classes), n // classes)


def class_agreement(model: ConditionalGAN, classifier, n: int = 1000, seed: int = 0) -> float:
    """The fraction of n generated digits (n // 10 of each class) that ``classifier`` assigns
    to the class they were generated for."""
    asked = requested_classes(n, model.classes)
    return float(np.mean(classifier.predict(model.generate(asked, seed=seed)) == asked))


def requested_rows(counts, row_factor: int, columns: int = 10) -> np.ndarray:
    """(counts[row_factor] * columns, factors) labels for a grid: row r asks for class r of
    factor ``row_factor``; column c asks for class c % count of every other factor, so a row
    shows its class beside varied others (the faces' colours and eyes)."""
    rows = [[r if f == row_factor else c % k for f, k in enumerate(counts)]
            for r in range(counts[row_factor]) for c in range(columns)]
    return np.array(rows, dtype=np.int64)


def requested_combinations(n: int, counts) -> np.ndarray:
    """(n, factors) labels: every combination of the factors' classes in turn, repeated."""
    every = np.array(list(itertools.product(*(range(k) for k in counts))), dtype=np.int64)
    return every[np.arange(n) % len(every)]


def factor_agreement(model: ConditionalGAN, judge, n: int = 1000, seed: int = 0) -> dict:
    """{factor: the fraction of n generated images (every combination asked for in turn) that
    ``judge`` (its ``probabilities(images)``: {factor: (n, classes)}, in the factors' order, as
    ``minigan.judging.faces_judge`` gives) puts in the class asked for, factor by factor}."""
    asked = requested_combinations(n, model.counts)
    probabilities = judge.probabilities(model.generate(asked, seed=seed))
    return {factor: float(np.mean(np.argmax(p, axis=1) == asked[:, f]))
            for f, (factor, p) in enumerate(probabilities.items())}


def faces_gan(seed: int = 0, backend=None, size: int = 32, n: int = 20000, **changes) -> ConditionalGAN:
    """A conditional DCGAN (``FACES_RECIPE``, then ``changes``) on ``minigan.data.faces(n, size)``,
    asked for a face by its (colour, eyes, mouth) classes."""
    faces = data.faces(n=n, size=size)
    labels = np.stack([faces.factors[f] for f in cartoon.FACTORS], axis=1)          # (n, 3)
    counts = tuple(len(styles) for styles in cartoon.FACTORS.values())               # (5, 4, 5)
    return ConditionalGAN(faces.images, labels, seed=seed, backend=backend, classes=counts,
                          image_shape=faces.image_shape, **{**FACES_RECIPE, **changes})
