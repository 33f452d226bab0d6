"""The assignments: their parts, points, hints, and the check that grades each part.

One table, read by ``list``, ``release`` and ``grade``. A part is one solution region in
the library (``# BEGIN SOLUTION <id>``, see regions.py), graded by one check function
(``"module:function"`` in this folder, e.g. ``"checks_autograd:check_mul"``). A check
passes (full points) or fails (none): each part is small enough for that to be fair, and
the feedback says what was wrong.

To add an assignment: mark its regions in the library, add an ``Assignment`` below, write
its checks (one function per part, raising ``CheckFailed`` with the feedback), and add it
to tests/test_assignments.py's table. docs/teaching.md walks through it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding this minigan: the solution key
DEFAULT_TIME_LIMIT = 60.0  # seconds per part; a part past it scores 0 and grading goes on


@dataclass(frozen=True)
class Part:
    id: str          # "A1.3": the region's id in the source
    title: str       # what the student writes, e.g. "Sum.backward (with broadcasting)"
    points: int
    check: str       # "module:function" in minigan/assignments/
    hint: str        # goes into the released NotImplementedError; no double quotes


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    parts: tuple
    tests: tuple = ()                       # tests shipped in the copy (besides conftest, strategies)
    tutorials: tuple = ("tutorials/*.py",)  # tutorials shipped in the copy (glob patterns): all of them
    time_limit: float = DEFAULT_TIME_LIMIT

    @property
    def points(self) -> int:
        return sum(part.points for part in self.parts)


A1 = Assignment(
    "A1", "Autograd: the hand-derived backward passes and the graph walk",
    parts=(
        Part("A1.1", "Mul.backward (with broadcasting)", 2, "checks_autograd:check_mul",
             "grad_a = grad_y * b and grad_b = grad_y * a, each summed back to its input's "
             "shape with unbroadcast(grad, shape)"),
        Part("A1.2", "MatMul.backward", 3, "checks_autograd:check_matmul",
             "grad_a = grad_y @ b^T and grad_b = a^T @ grad_y (xp.matmul, xp.matrix_transpose), "
             "then unbroadcast each, since batched inputs broadcast"),
        Part("A1.3", "Sum.backward (with broadcasting)", 3, "checks_autograd:check_sum",
             "grad_x is grad_y copied along the summed axes: put them back with "
             "_expand(ctx.xp, grad_y, ctx.shape, ctx.axis, ctx.keepdims), then xp.broadcast_to ctx.shape"),
        Part("A1.4", "Exp.backward", 1, "checks_autograd:check_exp",
             "exp is its own derivative, and its output y was saved"),
        Part("A1.5", "Log.backward", 1, "checks_autograd:check_log",
             "d log(x) / dx = 1 / x"),
        Part("A1.6", "Sigmoid.backward", 2, "checks_autograd:check_sigmoid",
             "d sigmoid(x) / dx = y (1 - y), with y the saved output; recomputing exp(-x) overflows"),
        Part("A1.7", "ReLU.backward", 2, "checks_autograd:check_relu",
             "grad_y passes where the saved mask x > 0 is true, 0 elsewhere (xp.where)"),
        Part("A1.8", "topological_order (the graph walk)", 6, "checks_autograd:check_topological_order",
             "an iterative depth-first search with a stack of (node, parents_done) pairs: a node is "
             "appended after its parents that require grad; remember visited nodes by id(node)"),
    ),
    tests=("tests/test_autograd.py", "tests/test_ops.py", "tests/test_gradcheck.py"),
)

A2 = Assignment(
    "A2", "Networks, losses and optimizers",
    parts=(
        Part("A2.1", "Linear.forward", 2, "checks_networks:check_linear",
             "y = x @ weight + bias, (m, n_in) @ (n_in, n_out) + (n_out,), with Tensor operators "
             "so autograd records the graph"),
        Part("A2.2", "DiscriminatorLoss.backward (closed form)", 4, "checks_networks:check_discriminator_loss",
             "L_D = mean softplus(-a_r) + mean softplus(a_f): grad_a_r = grad_loss (sigmoid(a_r) - 1) / m_r "
             "and grad_a_f = grad_loss sigmoid(a_f) / m_f, each m its own batch size (use _sigmoid)"),
        Part("A2.3", "MinimaxGeneratorLoss.backward (closed form)", 3, "checks_networks:check_minimax_loss",
             "L_G = -mean softplus(a_f), and d softplus(a) / da = sigmoid(a)"),
        Part("A2.4", "NonSaturatingGeneratorLoss.backward (closed form)", 3,
             "checks_networks:check_non_saturating_loss",
             "L_G = mean softplus(-a_f): grad_a_f = grad_loss (sigmoid(a_f) - 1) / m, "
             "and sigmoid(a) - 1 = -sigmoid(-a)"),
        Part("A2.5", "SGD.step with momentum", 3, "checks_networks:check_sgd",
             "v <- momentum v - lr g, then p <- p + v (nesterov: p <- p + momentum v - lr g); "
             "update v and p.data in place (v *= ..., v -= ...) so the buffer keeps its value"),
        Part("A2.6", "Adam.step", 5, "checks_networks:check_adam",
             "m <- beta1 m + (1 - beta1) g and v <- beta2 v + (1 - beta2) g^2, in place; then "
             "p <- p - step_size m / (sqrt(v) v_scale + eps), which folds in the bias corrections"),
    ),
    tests=("tests/test_nn.py", "tests/test_losses.py", "tests/test_optim.py"),
)

A3 = Assignment(
    "A3", "Algorithm 1: the training loop",
    parts=(
        Part("A3.1", "the trainer's inner loop: k discriminator steps, then one generator step", 10,
             "checks_training:check_trainer_loop",
             "k times: sample x from p_data and z from p_z, descend discriminator_loss(D(x), "
             "D(G(z).detach())); then sample fresh z and descend generator_loss(D(G(z)), self.loss). "
             "Leave loss_D, real, fake (of the last D step) and loss_G set: record() reads them"),
    ),
    tests=("tests/test_gan.py",),
)

A4 = Assignment(
    "A4", "Experiment: the generator losses and k on the ring",
    parts=(
        Part("A4.1", "run_ring: train one GAN on the ring and measure it", 5,
             "checks_training:check_run_ring",
             "build the GAN from ring_config(form, k, steps, seed), train it with a History callback and "
             "the config's schedules, then measure as the docstring lists (metrics.mode_coverage, "
             "the mean of the first early d_fake and g_grad_norm)"),
        Part("A4.2", "compare: the grid of generator losses and k, and its findings", 5,
             "checks_training:check_compare",
             "call run_ring for every form in FORMS and k in K_VALUES, then compute the three findings "
             "the docstring defines from those runs"),
    ),
    time_limit=120.0,
)

ASSIGNMENTS = {a.id: a for a in (A1, A2, A3, A4)}


def assignment(name: str) -> Assignment:
    """The assignment called ``name`` ("A2" or "a2"), or a ValueError listing them."""
    key = str(name).upper()
    if key not in ASSIGNMENTS:
        raise ValueError(f"assignment: got {name!r}, wanted one of {', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[key]

