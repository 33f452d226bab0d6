# %% [markdown]
# # 05 · The minimax game: V(D, G), the two losses, and why G uses the non-saturating one
#
# **What this teaches.** A GAN is a two-player game. The discriminator D is rewarded for
# telling real from fake, the generator G for fooling it, and both rewards come from one
# number, the value V(D, G). We compute V and both players' losses with `minigan.losses`,
# tabulate who is rewarded and who is penalised, and plot the generator's two possible
# gradients against D(G(z)): the game's own ("minimax", saturating) form dies exactly when
# G is worst, which is why the paper trains G with the non-saturating form.
#
# **How long it runs.** About 3 seconds (the same in fast mode).
#
# Builds on [04](04_layers_and_mlps.py). The derivations are in
# [The GAN losses](../docs/math/losses.md); this tutorial shows them rather than repeating them.

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan import losses, optim, threads

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: fewer steps in section 4
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The value of the game
#
# D outputs a logit a; its verdict D = sigmoid(a) is the probability it gives that its
# input is real. On a minibatch of m real examples x and m generated samples G(z):
#
# $$V(D, G) = \frac1m \sum_i \log D(x_i) + \frac1m \sum_i \log\bigl(1 - D(G(z_i))\bigr).$$
#
# Both terms are logs of probabilities, so V is at most 0, reached by a perfect D (D(x) = 1
# on real data, 0 on fakes). D wants V high; G can only change the second term and wants
# it low: **min over G, max over D**. `minigan.losses` works on logits, where
# log sigmoid(a) = -softplus(-a) stays finite for any a (`D` outputs logits, no sigmoid).

# %%
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


real_logits = np.array([2.0, 1.5, 3.0, 0.5])  # D is fairly sure these real points are real
fake_logits = np.array([-2.5, -1.0, -3.0, 0.2])  # ... and that most fakes are fake
by_hand = np.mean(np.log(sigmoid(real_logits))) + np.mean(np.log(1 - sigmoid(fake_logits)))
V = losses.value_function(minigan.tensor(real_logits), minigan.tensor(fake_logits))
print(f"V by hand {by_hand:.6f}, minigan.losses.value_function {V.item():.6f}")

# %% [markdown]
# ## 2. Rewards and penalties
#
# Each player *descends* a loss:
#
# - the discriminator, `L_D = -V`: low when it says "real" to real data and "fake" to fakes;
# - the generator, in the game's own form, `L_G = mean log(1 - D(G(z)))`: low when D is
#   fooled (D(G(z)) near 1). In the non-saturating form, `L_G = -mean log D(G(z))`: also low
#   when D is fooled, with the same fixed point.
#
# A table of the losses for one real and one fake example, as D's verdicts change:

# %%
print(f"{'D(x)':>6} {'D(G(z))':>8} | {'L_D':>7} | {'L_G minimax':>12} {'L_G non-sat':>12} | who is winning")
for d_real, d_fake in [(0.99, 0.01), (0.9, 0.1), (0.5, 0.5), (0.9, 0.9), (0.5, 0.99)]:
    a_r = minigan.tensor([np.log(d_real / (1 - d_real))])  # the logit whose sigmoid is d_real
    a_f = minigan.tensor([np.log(d_fake / (1 - d_fake))])
    L_D = losses.discriminator_loss(a_r, a_f).item()
    L_mm = losses.generator_loss(a_f, form="minimax").item()
    L_ns = losses.generator_loss(a_f, form="non_saturating").item()
    if d_fake < 0.5:
        verdict = "D (fakes caught)"
    else:
        verdict = "nobody: D is guessing" if d_fake == 0.5 else "G (D fooled)"
    print(f"{d_real:6.2f} {d_fake:8.2f} | {L_D:7.3f} | {L_mm:12.3f} {L_ns:12.3f} | {verdict}")

# %% [markdown]
# At D(x) = D(G(z)) = 1/2, D cannot tell the two apart: L_D = 2 log 2 = log 4 = 1.386. That
# number returns in tutorial 06: it is the value of the game when G has won, V = -log 4.
#
# ## 3. The generator's two gradients
#
# What moves G is the gradient of its loss with respect to the logit of its samples,
# a_f = a(G(z)), passed back through D into G. Per sample (before the 1/m of the mean), with
# D = sigmoid(a_f):
#
# $$\frac{\partial}{\partial a_f}\log(1 - D) = -D, \qquad \frac{\partial}{\partial a_f}\bigl[-\log D\bigr] = -(1 - D).$$
#
# Early in training G's samples are poor and D rejects them confidently: D(G(z)) is near 0.
# There the minimax gradient -D is near 0 too: G gets almost no signal exactly when it needs
# it most. The non-saturating gradient -(1 - D) is near -1 there. We get both from autograd
# through `minigan.losses` and compare with the closed forms.

# %%
d_fake = np.logspace(-4, np.log10(0.9999), 400)  # D(G(z)) from 0.0001 to 0.9999
a = minigan.tensor(np.log(d_fake / (1 - d_fake)), requires_grad=True, dtype="float64")
m = a.shape[0]
losses.generator_loss(a, form="minimax").backward()
grad_minimax = a.grad * m  # undo the 1/m of the mean: the per-sample gradient
a.zero_grad()
losses.generator_loss(a, form="non_saturating").backward()
grad_non_saturating = a.grad * m

closed_form_error = max(
    np.max(np.abs(grad_minimax - (-d_fake))),  # d/da log(1 - D) = -D
    np.max(np.abs(grad_non_saturating - (-(1 - d_fake)))),  # d/da [-log D] = -(1 - D)
)
print(f"autograd vs closed form, largest difference: {closed_form_error:.1e}")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 3.8))
ax0.plot(d_fake, np.log(1 - d_fake), label="minimax: log(1 - D)")
ax0.plot(d_fake, -np.log(d_fake), label="non-saturating: -log D")
ax0.set_xlabel("D(G(z)): how real D thinks the sample is")
ax0.set_ylabel("generator's loss (descended)")
ax0.set_ylim(-5, 5)
ax0.legend()
ax0.set_title("The two generator losses")
ax1.loglog(d_fake, np.abs(grad_minimax), label="minimax: |d/da| = D")
ax1.loglog(d_fake, np.abs(grad_non_saturating), label="non-saturating: |d/da| = 1 - D")
ax1.axvspan(1e-4, 0.05, color="0.9")
ax1.text(1.3e-4, 2e-3, "early training:\nD rejects the fakes", fontsize=8)
ax1.set_xlabel("D(G(z))")
ax1.set_ylabel("gradient magnitude w.r.t. the logit")
ax1.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)  # beside: the curves fill the panel
ax1.set_title("Saturating vs non-saturating gradients")
fig.tight_layout()
fig.savefig(FIGURES / "05_generator_gradients.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "05_generator_gradients.png")

# %% [markdown]
# ## 4. What that does to a generator
#
# A toy: a fixed, confident discriminator D(x) = sigmoid(4 (x - 2)) that calls anything
# right of 2 real, and a generator that only shifts its noise, G(z) = z / 2 + theta,
# starting far in the "fake" region at theta = -2. We run gradient descent on theta with
# each loss and watch where the samples go.

# %%
def train_shift(form, steps, lr=0.1):
    rng = minigan.get_backend("numpy").random(0)
    theta = minigan.tensor([-2.0], requires_grad=True, dtype="float64")
    opt = optim.SGD([theta], lr=lr)
    path = [theta.item()]
    for _ in threads.loop(range(steps)):  # BLAS threads chosen by timing the loop (minigan.threads)
        z = minigan.tensor(rng.normal((64,), dtype=np.float64))
        x_fake = z * 0.5 + theta  # (64,): G(z)
        logits = (x_fake - 2.0) * 4.0  # D's logit
        loss = losses.generator_loss(logits, form=form)
        opt.zero_grad()
        loss.backward()
        opt.step()  # theta <- theta - lr * dL/dtheta
        path.append(theta.item())
    return np.array(path)


steps = 40 if FAST else 200
paths = {form: train_shift(form, steps) for form in ("minimax", "non_saturating")}
for form, path in paths.items():
    print(f"{form:>15}: theta {path[0]:+.3f} -> {path[-1]:+.3f} after {steps} steps")
crossing_step = int(np.argmax(paths["non_saturating"] > 2.0))  # first step past D's boundary (0: never)
minimax_moved = abs(paths["minimax"][-1] - paths["minimax"][0])
print(f"the non-saturating G crosses D's boundary at step {crossing_step}; "
      f"the minimax G moves {minimax_moved:.1e} in {steps} steps")

fig, ax = plt.subplots(figsize=(5, 3.2))
for form, path in paths.items():
    ax.plot(path, label=form)
ax.axhline(2.0, color="0.6", ls=":", label="D's boundary")
ax.set_xlabel("gradient step")
ax.set_ylabel("theta (where G puts its samples)")
ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.4))  # between the boundary and the minimax line
ax.set_title("A confident D: only one loss moves G")
fig.tight_layout()
fig.savefig(FIGURES / "05_generator_shift.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "05_generator_shift.png")

# %% [markdown]
# The minimax generator barely moves: D(G(z)) is about sigmoid(-16) = 1e-7 and so is its
# gradient (theta moves by less than 1e-4 in all). The non-saturating one crosses D's
# boundary within a dozen steps (at step 11 here). Both losses have the same fixed point
# (D fooled), but only one gets there from a bad start.
# Notice too that it does not stop at the boundary: against a D that never learns, G keeps
# chasing whatever D likes most. In a real GAN, D keeps training and moves the target, which
# is why the two must stay in step (tutorial 08).
# Section 3 of the paper says exactly this; `minigan.gan` uses `loss="non_saturating"`
# unless told otherwise, and tutorial 08 compares the two forms in real training.
#
# ## The checked number
#
# At D(G(z)) = 0.01 the non-saturating gradient is (1 - 0.01) / 0.01 = 99 times the
# minimax one. Computed through `minigan.losses` with autograd:

# %%
assert closed_form_error < 1e-12
assert paths["non_saturating"][-1] > 2.0 > paths["minimax"][-1] + 1.0, "only the non-saturating G should cross"
a = minigan.tensor([np.log(0.01 / 0.99)], requires_grad=True, dtype="float64")  # D(G(z)) = 0.01
losses.generator_loss(a, form="minimax").backward()
g_minimax = float(a.grad[0])
a.zero_grad()
losses.generator_loss(a, form="non_saturating").backward()
g_non_saturating = float(a.grad[0])
print(f"CHECK minimax_theta_moved = {minimax_moved:.3e}")
print(f"CHECK non_saturating_crossing_step = {crossing_step}")
print(f"CHECK gradient_ratio_at_D_001 = {g_non_saturating / g_minimax:.6f}")
