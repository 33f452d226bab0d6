"""Algorithm 1 of Goodfellow et al. (2014): train a generator G against a discriminator D.

    for each training iteration:
        repeat k times:
            sample m noise vectors z ~ p_z and m examples x ~ p_data
            update D by ascending  grad_theta_d  mean[ log D(x) + log(1 - D(G(z))) ]
        sample m noise vectors z ~ p_z
        update G by descending grad_theta_g  mean[ log(1 - D(G(z))) ]   (or -log D(G(z)))

``GAN.train_step`` is that loop body, with the paper's names, and nothing else: k calls
of ``discriminator_step`` (one update of D), then one of ``generator_step``. The loss pair
(the 2014 losses, LSGAN, WGAN, hinge), a gradient penalty on D (R1, R2, WGAN-GP) and WGAN's
weight clipping are options of GANConfig (docs/math/losses.md). What is not
Algorithm 1 (the history of losses, the progress bar, metrics, checkpoints, learning-rate
schedules) lives in ``minigan.gan.callbacks`` and is called between iterations. The line-by-line
reading is in docs/math/algorithm1.md.

    from minigan import gan
    config = gan.recipe("ring")                         # tested settings (a GANConfig): 8 of 8 modes
    model = gan.build(config)                           # G, D, p_data, p_z, optimizers
    model.train(config.steps, callbacks=gan.schedules(config, model))

Each iteration gives a ``StepRecord``: the losses, the V(D, G) estimate, mean D(x), mean
D(G(z)) and the norm of the gradient reaching G. Its numbers stay on the backend (0-d
arrays) so that a GPU run is not stopped to copy them every step; callbacks copy them in
batches. A NaN or infinity in a loss stops training with ``TrainingDiverged``, naming the
step and the last checkpoint written.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from minigan import losses, nn, optim
from minigan.autograd import Tensor, no_grad
from minigan.threads import ThreadPolicy
from minigan.gan.config import PENALTIES
from minigan.gan.config import check_int as _check_int


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: the parameters are no longer usable."""


@dataclass(frozen=True)
class StepRecord:
    """What one iteration measured. Every field but ``step`` is a 0-d backend array.

    step         iterations done, this one included (1 after the first)
    d_loss       L_D = -V of the last discriminator step (its loss form's L_D, without the penalty)
    g_loss       the generator's loss (in the GAN's loss form)
    value        V(D, G) estimated on the last discriminator step's minibatch (= -d_loss)
    d_real       mean D(x) on that minibatch (D's belief that real data is real)
    d_fake       mean D(G(z)) on that minibatch (near 0: D rejects the fakes)
                 (both in D's own units: sigmoid(logit), a probability, for the 2014 forms;
                 the raw score for lsgan (1/2 at its equilibrium), wgan and hinge (a critic))
    g_grad_norm  sqrt(sum of squares) of the gradient reaching G's parameters
    lr           the generator's learning rate used in this step (a Python float)
    """

    step: int
    d_loss: object
    g_loss: object
    value: object
    d_real: object
    d_fake: object
    g_grad_norm: object
    lr: float = math.nan

    def to_floats(self) -> dict:
        """The record as Python numbers (copies each value to the host: a sync on a GPU)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {name: value if name == "step" else float(value) for name, value in values.items()}


def _positive(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < math.inf


def update(optimizer, loss: Tensor) -> None:
    """One gradient step on ``loss`` for the parameters ``optimizer`` holds (the others stay fixed)."""
    optimizer.zero_grad()                      # forget the gradients of the previous step
    loss.backward(inputs=optimizer.params)     # d loss / d theta into .grad of these parameters only
    optimizer.step()                           # theta <- theta - lr * (the optimizer's view of the gradient)


class GAN:
    """A generator G, a discriminator D and Algorithm 1 to train them.

    G, D           nn.Modules: G maps noise (m, noise_dim) to samples (m, dim); D maps
                   samples to logits (m, 1) (no sigmoid: D(x) = sigmoid(logit))
    p_data, p_z    distributions with ``sample(m, rng)`` (minigan.data)
    opt_G, opt_D   optimizers holding G's and D's parameters (minigan.optim)
    k              discriminator steps per generator step (the paper used k = 1)
    m              minibatch size: m examples and m noise vectors per step
    loss           the generator's loss: "non_saturating" (-log D(G(z))), "minimax", "lsgan",
                   "wgan" or "hinge"; D descends the form that goes with it (losses.DISCRIMINATOR_FORM)
    penalty        None, or a loss on D's input gradient added to L_D: "r1" (gamma/2 R1 at real
                   samples), "r2" (gamma/2 R1 at the fakes), "gp" (gamma times WGAN-GP's penalty)
    gamma          the penalty's weight
    clip           WGAN weight clipping: after each D step, D's parameters are clipped to
                   [-clip, clip] (None: off)
    rng            the generator every minibatch is drawn from (backend.random(seed))
    check_every    how often (in iterations) the losses are copied to the host and checked
                   for NaN; the error still names the exact step. 1 = every step (a
                   device sync per step on a GPU).
    config         the GANConfig it was built from, if any (kept in checkpoints)

    A GAN made by ``build`` also knows its run: ``run_id`` (a fingerprint of the first
    config), ``configs`` (every config the run has had, with the step it began at) and
    ``start_norm`` (the parameters' norm at step 0). Checkpoints keep all three.
    """

    def __init__(self, G, D, p_data, p_z, opt_G, opt_D, *, k=1, m=64, loss="non_saturating", rng,
                 penalty=None, gamma=10.0, clip=None, check_every=25, config=None, threads="auto"):
        for name, module in (("G", G), ("D", D)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name}: got {type(module).__name__}, wanted an nn.Module")
        for name, dist in (("p_data", p_data), ("p_z", p_z)):
            if not hasattr(dist, "sample"):
                raise TypeError(f"{name}: got {type(dist).__name__}, wanted a distribution with sample(m, rng)")
        for name, opt, module in (("opt_G", opt_G, G), ("opt_D", opt_D, D)):
            if not isinstance(opt, optim.Optimizer):
                raise TypeError(f"{name}: got {type(opt).__name__}, wanted an optimizer from minigan.optim")
            if {id(p) for p in opt.params} != {id(p) for p in module.parameters()}:
                raise ValueError(f"{name}: got an optimizer over other parameters, wanted exactly {name[-1]}'s parameters")
        if loss not in losses.GENERATOR_FORMS:
            raise ValueError(f"loss: got {loss!r}, wanted one of {', '.join(losses.GENERATOR_FORMS)}")
        if penalty not in PENALTIES:
            raise ValueError(f"penalty: got {penalty!r}, wanted None or one of {', '.join(PENALTIES[1:])}")
        for name, value in (("gamma", gamma), ("clip", clip)):
            if not (value is None and name == "clip") and not _positive(value):
                raise ValueError(f"{name}: got {value!r}, wanted a positive number")
        if not hasattr(rng, "set_state") or getattr(rng, "backend", None) is not G.backend:
            raise TypeError(f"rng: got {rng!r}, wanted a generator from {G.backend.name!r} backend.random(seed)")
        self.G, self.D, self.p_data, self.p_z = G, D, p_data, p_z
        self.opt_G, self.opt_D = opt_G, opt_D
        self.k = _check_int("k", k, 1)
        self.m = _check_int("m", m, 1)
        self.loss = loss
        self.d_form = losses.DISCRIMINATOR_FORM[loss]   # the discriminator's loss that goes with it
        self.penalty, self.gamma, self.clip = penalty, float(gamma), None if clip is None else float(clip)
        self.rng = rng
        self.check_every = _check_int("check_every", check_every, 1)
        self.config = config
        self.thread_policy = ThreadPolicy(threads)  # BLAS threads while train() runs (minigan.threads)
        self.step = 0                  # iterations done so far
        self.last_checkpoint = None    # path of the last checkpoint known to be good
        self.run_id = None             # set by build(): see run_id()
        self.configs = []              # [{"step": s, "config": {...}}]: the config in force from step s on
        self.start_norm = None         # parameter_norm() at step 0
        self._unchecked = []           # records whose losses have not been checked for NaN yet

    @property
    def backend(self):
        return self.G.backend

    # ---- Algorithm 1 ----------------------------------------------------------------------
    def train(self, steps: int, callbacks=()) -> "GAN":
        """Run ``steps`` iterations of Algorithm 1, calling each callback around them."""
        steps = _check_int("steps", steps, 0)
        callbacks = [self.thread_policy, *callbacks]  # borrows the BLAS threads, gives them back at the end
        for callback in callbacks:
            callback.on_train_begin(self, steps)
        finished = False
        try:
            for _ in range(steps):
                record = self.train_step()
                self._unchecked.append(record)
                if len(self._unchecked) >= self.check_every:
                    self.check_finite()
                for callback in callbacks:
                    callback.on_step(self, record)
            self.check_finite()
            finished = True
        finally:
            for callback in callbacks:
                callback.on_train_end(self, finished)
        return self

    def train_step(self) -> StepRecord:
        """One iteration of Algorithm 1: k steps of the discriminator, then one of the generator."""
        for _ in range(self.k):                                   # k discriminator steps
            loss_D, real, fake = self.discriminator_step()        # each on a fresh minibatch
        loss_G = self.generator_step()                            # then one generator step
        self.step += 1
        return self.record(loss_D, loss_G, real, fake)

    def discriminator_step(self):
        """One update of D on a fresh minibatch: returns (loss_D, real logits, fake logits).

        Algorithm 1's inner step: sample m examples and m noise vectors, descend L_D = -V
        (ascending V), or the loss of another form (``d_form``), plus the penalty if the GAN
        has one; then clip D's weights if asked. ``train_step`` calls it k times; called
        alone it moves D and nothing else (``self.step`` counts whole iterations only).
        """
        G, D, p_data, p_z, m = self.G, self.D, self.p_data, self.p_z, self.m  # the paper's names
        # BEGIN SOLUTION A3.1
        x = self.sample(p_data, m)                                # m examples x ~ p_data      (m, dim)
        z = self.sample(p_z, m)                                   # m noise samples z ~ p_z    (m, noise_dim)
        fakes = G(z).detach()                                     # G(z) as data: no gradient to G  (m, dim)
        real, fake = D(x), D(fakes)                               # D's outputs, logits (m, 1)
        loss_D = losses.discriminator_loss(real, fake, form=self.d_form)   # = -V(D, G) for the "gan" form
        penalty = self.penalty_term(x, fakes)                     # a loss on grad_x D, or None
        update(self.opt_D, loss_D if penalty is None else loss_D + penalty)   # descending -V ascends V
        self.clip_weights()                                       # WGAN's clipping, if asked for
        return loss_D, real, fake
        # END SOLUTION

    def penalty_term(self, x: Tensor, fakes: Tensor):
        """What ``penalty`` adds to L_D on this minibatch (docs/math/losses.md), or None."""
        if self.penalty is None:
            return None
        if self.penalty == "r1":                                  # D flat at the data
            return (self.gamma / 2) * losses.r1_penalty(self.D, x)
        if self.penalty == "r2":                                  # D flat at the fakes
            return (self.gamma / 2) * losses.r1_penalty(self.D, fakes)
        eps = Tensor(self.rng.uniform((x.shape[0], 1), dtype=x.dtype), self.backend)   # gp: eps ~ U[0, 1] per pair
        return self.gamma * losses.gradient_penalty(self.D, x, fakes, eps)

    def clip_weights(self) -> None:
        """Clip every parameter of D to [-clip, clip] (WGAN's way to keep the critic Lipschitz)."""
        if self.clip is None:
            return
        xp = self.backend.xp
        for p in self.D.parameters():
            p.data = xp.clip(p.data, -self.clip, self.clip)

    def generator_step(self) -> Tensor:
        """One update of G on fresh noise, D held fixed: returns the generator's loss.

        Algorithm 1's last line: sample m noise vectors and descend G's loss
        (log(1 - D(G(z))), or -log D(G(z)) for the non-saturating form).
        """
        G, D, p_z, m = self.G, self.D, self.p_z, self.m
        # BEGIN SOLUTION A3.2
        z = self.sample(p_z, m)                                   # fresh noise for the generator's step
        loss_G = losses.generator_loss(D(G(z)), form=self.loss)   # log(1 - D(G(z))) or -log D(G(z))
        update(self.opt_G, loss_G)                                # opt_G moves G only
        return loss_G
        # END SOLUTION

    def sample(self, distribution, m: int) -> Tensor:
        """A fresh minibatch of m draws from ``distribution``, as a Tensor (no gradient)."""
        return Tensor(distribution.sample(m, self.rng), self.backend)

    # ---- what each iteration reports -------------------------------------------------------
    def record(self, loss_D, loss_G, real, fake) -> StepRecord:
        """The step's measurements, left on the backend (no copy to the host here)."""
        xp = self.backend.xp

        def mean_output(logits):  # mean D(.) in D's units: sigmoid(logit) in the exact exp(-|a|) form
            if losses.DISCRIMINATOR_FORM[self.loss] != "gan":
                return xp.mean(logits.data)     # a score: lsgan, wgan, hinge
            return xp.mean(losses._sigmoid(xp, logits.data))

        squares = [xp.sum(p.grad * p.grad) for p in self.opt_G.params if p.grad is not None]  # G's parameters
        g_grad_norm = xp.sqrt(sum(squares)) if squares else xp.asarray(0.0, dtype=loss_G.dtype)
        return StepRecord(
            step=self.step, d_loss=loss_D.data, g_loss=loss_G.data, value=-loss_D.data,
            d_real=mean_output(real), d_fake=mean_output(fake), g_grad_norm=g_grad_norm,
            lr=float(self.opt_G.lr),
        )

    def check_finite(self, parameters: bool = False) -> None:
        """Raise TrainingDiverged if a loss not checked yet is NaN or infinite (one host copy).

        ``parameters=True`` also checks every parameter of G and D (before a checkpoint).
        """
        xp = self.backend.xp
        records, self._unchecked = self._unchecked, []
        if records:
            both = xp.stack([xp.stack([r.d_loss, r.g_loss]) for r in records])   # (n, 2)
            if not bool(xp.all(xp.isfinite(both))):
                for record, pair in zip(records, self.backend.to_host(both).tolist()):
                    for name, value in zip(("d_loss", "g_loss"), pair):
                        if not math.isfinite(value):
                            raise self.diverged(f"{name} is {value} at step {record.step}")
        if parameters:
            for net, module in (("G", self.G), ("D", self.D)):
                for name, p in module.named_parameters():
                    if not bool(xp.all(xp.isfinite(p.data))):
                        raise self.diverged(f"{net}'s parameter {name} is not finite at step {self.step}")

    def parameter_norm(self) -> float:
        """sqrt(sum of squares) of every parameter of G and D, as a Python float (a host copy)."""
        xp = self.backend.xp
        total = 0.0
        for module in (self.G, self.D):
            for p in module.parameters():
                total += float(xp.sum(xp.astype(p.data, xp.float64) ** 2))
        return math.sqrt(total)

    def diverged(self, what: str) -> TrainingDiverged:
        return TrainingDiverged(f"{what}; last good checkpoint: {self.last_checkpoint or 'none written'}")

    # ---- using the trained generator -------------------------------------------------------
    def generate(self, n: int, seed: int = 0):
        """n samples G(z) as a NumPy array (n, dim), z from p_z with its own generator.

        The noise comes from ``backend.random(seed)``, never from the training generator,
        so looking at samples does not change the rest of the run (same seed, same z).
        """
        n = _check_int("n", n, 1)
        z = Tensor(self.p_z.sample(n, self.backend.random(seed)), self.backend)
        training = self.G.training
        self.G.eval()             # batch normalisation (a DCGAN's G) uses its running statistics and
        try:                      # leaves them alone: looking at samples changes nothing
            with no_grad():
                return self.G(z).numpy()
        finally:
            self.G.train(training)

    def discriminate(self, points):
        """D(x) = sigmoid(logit) for host points (n, dim), as a NumPy array (n,)."""
        x = Tensor(self.backend.asarray(points, dtype=self.backend.default_float), self.backend)
        with no_grad():
            return self.D(x).sigmoid().numpy().reshape(-1)

