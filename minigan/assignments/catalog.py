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
    hint: str        # a question that leads to the answer, never the answer; goes into the released
                     # NotImplementedError, so no double quotes


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
             "for y = a * b, what is dy/da and what is dy/db? which axes did broadcasting add to each "
             "input, and how does unbroadcast(grad, shape) take them away again?"),
        Part("A1.2", "MatMul.backward", 3, "checks_autograd:check_matmul",
             "for y = a @ b, which matrix product of grad_y with b has the shape of a, and which product "
             "of a with grad_y has the shape of b? write the shapes down. batched inputs broadcast: what "
             "must unbroadcast do then? (xp.matmul, xp.matrix_transpose)"),
        Part("A1.3", "Sum.backward (with broadcasting)", 3, "checks_autograd:check_sum",
             "each element of x is added into y once: how much of grad_y does it receive? which axes did "
             "the sum remove, and how do _expand and xp.broadcast_to give them back?"),
        Part("A1.4", "Exp.backward", 1, "checks_autograd:check_exp",
             "what is the derivative of exp(x), and which array did forward save for you?"),
        Part("A1.5", "Log.backward", 1, "checks_autograd:check_log",
             "what is the derivative of log(x), and which array did forward save for you?"),
        Part("A1.6", "Sigmoid.backward", 2, "checks_autograd:check_sigmoid",
             "can you write the derivative of sigmoid(x) with nothing but what the line above the "
             "region gives you, y = sigmoid(x) and one_minus_y = sigmoid(-x) = 1 - y? why is one_minus_y "
             "better than 1.0 - y once y rounds to 1?"),
        Part("A1.7", "ReLU.backward", 2, "checks_autograd:check_relu",
             "where is max(x, 0) flat and where does it have slope 1? what did forward save to tell the "
             "two apart? (xp.where)"),
        Part("A1.8", "topological_order (the graph walk)", 6, "checks_autograd:check_topological_order",
             "how can a depth-first search know that all of a node's parents are already listed before it "
             "lists the node? what replaces recursion so that a chain of 10,000 ops still works? which "
             "parents can be skipped, and how do you make sure no tensor is visited twice?"),
    ),
    tests=("tests/test_autograd.py", "tests/test_ops.py", "tests/test_conv.py", "tests/test_gradcheck.py"),  # test_ops
    # imports test_conv's loops
)

A2 = Assignment(
    "A2", "Networks, losses and optimizers",
    parts=(
        Part("A2.1", "Linear.forward", 2, "checks_networks:check_linear",
             "which Tensor operations turn x of shape (m, n_in) into y of shape (m, n_out) with "
             "self.weight and self.bias, so that autograd records the graph?"),
        Part("A2.2", "DiscriminatorLoss.backward (closed form)", 4, "checks_networks:check_discriminator_loss",
             "what is the derivative of softplus(u)? the real logits enter as u = -a_r and the fake ones "
             "as u = a_f: what does the chain rule do with that minus sign, and what does each mean divide "
             "by? (use _sigmoid, and scale by grad_loss)"),
        Part("A2.3", "MinimaxGeneratorLoss.backward (closed form)", 3, "checks_networks:check_minimax_loss",
             "what is the derivative of softplus(a), what does the mean over the batch contribute, and "
             "what does the minus sign in front of the loss do?"),
        Part("A2.4", "NonSaturatingGeneratorLoss.backward (closed form)", 3,
             "checks_networks:check_non_saturating_loss",
             "what does the chain rule do with the minus sign inside softplus(-a_f)? can you write the "
             "result with one _sigmoid call, without subtracting anything from 1?"),
        Part("A2.5", "SGD.step with momentum", 3, "checks_networks:check_sgd",
             "which line of the class docstring updates the velocity, and which one the parameter? how do "
             "you change v and p.data in place (v *= ..., v -= ...) so that the buffer keeps its value "
             "between steps?"),
        Part("A2.6", "Adam.step", 5, "checks_networks:check_adam",
             "which lines of the class docstring update m and v, in place? how do step_size and v_scale "
             "fold both bias corrections into one update of p.data?"),
    ),
    tests=("tests/test_nn.py", "tests/test_losses.py", "tests/test_optim.py"),
)

A3 = Assignment(
    "A3", "Algorithm 1: the training loop",
    parts=(
        Part("A3.1", "GAN.discriminator_step: one update of D on real data and detached fakes", 6,
             "checks_training:check_discriminator_step",
             "which two minibatches does Algorithm 1 draw for the discriminator, and why must D see "
             "G(z).detach()? which loss does it descend (discriminator_loss with form=self.d_form), what "
             "do self.penalty_term and self.clip_weights add for the loss family, and what does train_step "
             "read back from it?"),
        Part("A3.2", "GAN.generator_step: one update of G through D on fresh noise", 4,
             "checks_training:check_generator_step",
             "which minibatch does the generator's step draw, which loss does it descend (generator_loss "
             "with form=self.loss), and which optimizer moves only G's parameters?"),
    ),
    tests=("tests/test_gan.py",),
)

A4 = Assignment(
    "A4", "Experiment: the generator losses and k on the ring",
    parts=(
        Part("A4.1", "run_ring: train one GAN on the ring and measure it", 5,
             "checks_experiment:check_run_ring",
             "which function gives the config, which one builds the GAN, and which callbacks must train() "
             "get? which function of metrics and which columns of the History give what the docstring asks "
             "for?"),
        Part("A4.2", "compare: the grid of generator losses and k, and its findings", 5,
             "checks_experiment:check_compare",
             "how do you call run_ring once for every (form, k) pair, and how does each of the docstring's "
             "three findings compare those runs?"),
    ),
    time_limit=120.0,
)

A5 = Assignment(
    "A5", "Gradient penalties: differentiating through a backward pass",
    parts=(
        Part("A5.1", "r1_penalty: mean ||grad_x D(x)||^2, recorded so that D's weights get its gradient", 5,
             "checks_penalties:check_r1",
             "which call of minigan.grad gives grad_x D(x) for the whole batch at once, and what must it be "
             "told so that the penalty built from that gradient can itself be differentiated by D's weights? "
             "how do you turn the (m, dim) gradient into one squared norm per sample, then their mean?"),
        Part("A5.2", "Tanh.backward, written so that it can be differentiated again", 3,
             "checks_penalties:check_tanh_second_order",
             "what is the derivative of tanh, written with the saved output y only? under create_graph, "
             "ctx.saved holds the output as a Tensor: which operations keep the gradient recorded, so that "
             "its own derivative, -2 y (1 - y^2) grad_y, comes out of the next backward?"),
    ),
    tests=("tests/test_second_order.py", "tests/test_penalties.py", "tests/test_ops.py", "tests/test_conv.py"),  # the
    # first imports the op table from test_ops, which imports test_conv's loops
)

A6 = Assignment(
    "A6", "Convolutions: the forward by im2col, its backward by col2im, BatchNorm's backward",
    parts=(
        Part("A6.1", "im2col: every window of the padded image as one row (conv2d's forward)", 4,
             "checks_conv:check_forward",
             "which array does backend.windows give for the padded, channels-last image, and what are its "
             "axes? which single reshape turns it into one row per window, with the numbers of a row in the "
             "order weight_rows puts the weights in? (permute_dims, reshape)"),
        Part("A6.2", "col2im: every window's numbers added back where they were read (conv2d's grad_x)", 4,
             "checks_conv:check_backward",
             "kernel offset (i, j) of window (p, q) read pixel (s p + i, s q + j): which strided slice of the "
             "padded output holds that pixel for every window at once? what must happen there when two windows "
             "read the same pixel, and what is left to do with the padding and the channels-last layout?"),
        Part("A6.3", "BatchNorm.backward (closed form)", 4, "checks_conv:check_batchnorm",
             "x_hat depends on x directly and through the batch mean and variance: what does each of the two "
             "take away from grad_y? what do shifting and scaling a whole channel do to x_hat, and so what must "
             "grad_x sum to over a channel, and what must its product with x_hat sum to? (xp.mean with keepdims)"),
    ),
    tests=("tests/test_conv.py", "tests/test_batchnorm.py"),
)

ASSIGNMENTS = {a.id: a for a in (A1, A2, A3, A4, A5, A6)}


def assignment(name: str) -> Assignment:
    """The assignment called ``name`` ("A2" or "a2"), or a ValueError listing them."""
    key = str(name).upper()
    if key not in ASSIGNMENTS:
        raise ValueError(f"assignment: got {name!r}, wanted one of {', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[key]

