"""Common mistakes, one table: the wrong code a student plausibly writes, and what grading says.

Each ``Mistake`` is a body for one part's region (as ``regions.fill_part`` takes it), the
words its feedback must contain, and the points it keeps (0, or what the part keeps
when only float32 exactness is missed). tests/test_assignments.py puts each one into a
released copy and checks three things: the grade keeps exactly those points, the
feedback names the mistake, and the copy's own tests (``PART_TESTS``, what a student runs
with ``python -m pytest``) fail exactly when the grade is not full. A4 ships no tests, so
for its mistakes only the grade and the feedback are checked.

For teachers: docs/teaching.md lists these with the feedback a student gets. This module
is the grader's (it holds wrong answers, not right ones); a released copy leaves it out.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    part: str        # "A1.8"
    name: str        # what the student did, in words
    code: str        # the region's body with the mistake
    feedback: str    # words the part's feedback must contain
    kept: int = 0    # points the part keeps (float32 exactness missed: all but its share)


# The copy's tests a part is answerable to: pytest arguments run in the copy (files, then
# -k). The key passes them; each mistake below fails them unless it keeps full points.
PART_TESTS = {
    "A1.1": ["tests/test_ops.py", "tests/test_autograd.py", "-k", "mul or broadcast"],
    "A1.6": ["tests/test_ops.py", "-k", "sigmoid and not log_sigmoid"],
    "A1.8": ["tests/test_autograd.py"],
    "A2.3": ["tests/test_losses.py", "-k", "minimax or generator or saturat"],
    "A2.4": ["tests/test_losses.py", "-k", "non_saturating or generator or saturat or float32"],
    "A2.5": ["tests/test_optim.py", "-k", "sgd or SGD or momentum"],
    "A3.1": ["tests/test_gan.py"],
    "A3.2": ["tests/test_gan.py"],
    "A5.1": ["tests/test_penalties.py", "-k", "r1"],
    "A5.2": ["tests/test_second_order.py", "-k", "tanh"],
    "A6.1": ["tests/test_conv.py", "-k", "numpy and (loops or adjoint or gradients)"],
    "A6.2": ["tests/test_conv.py", "-k", "numpy and (loops or adjoint or gradients)"],
    "A6.3": ["tests/test_batchnorm.py", "-k", "numpy"],
}

PUSH_MARKING_WALK = """
order, visited = [], {id(root)}
stack = [(root, False)]
while stack:
    node, parents_done = stack.pop()
    if parents_done:
        order.append(node)
        continue
    stack.append((node, True))
    for parent in node._parents:
        if parent.requires_grad and id(parent) not in visited:
            visited.add(id(parent))        # marked when pushed, not when its parents are done
            stack.append((parent, False))
return order
"""

RECURSIVE_WALK = """
order, visited = [], set()

def visit(node):
    if id(node) in visited:
        return
    visited.add(id(node))
    for parent in node._parents:
        if parent.requires_grad:
            visit(parent)
    order.append(node)

visit(root)
return order
"""

D_STEP = """
x = self.sample(p_data, m)
z = self.sample(p_z, m)
fakes = G(z).detach()
real, fake = D(x), D(fakes)
loss_D = losses.discriminator_loss(real, fake, form=self.d_form)
{update}
"""

IM2COL_CHANNELS_FIRST = """
xp = backend.xp
n, c = x.shape[:2]
x_last = xp.permute_dims(x, (0, 2, 3, 1))
view = backend.windows(_padded(xp, x_last, padding), kernel, stride)
h_out, w_out = view.shape[1], view.shape[2]
view = xp.permute_dims(view, (0, 1, 2, 5, 3, 4))   # (N, Ho, Wo, C, kH, kW): not weight_rows' order
return xp.reshape(view, (n * h_out * w_out, kernel[0] * kernel[1] * c)), (h_out, w_out)
"""

COL2IM_OVERWRITING = """
for i in range(k_h):
    for j in range(k_w):
        out[:, i:i + s_h * (h - 1) + 1:s_h, j:j + s_w * (w - 1) + 1:s_w, :] = cols[:, :, :, i, j, :]
return xp.permute_dims(out[:, p_h:p_h + h_out, p_w:p_w + w_out, :], (0, 3, 1, 2))
"""

MISTAKES = (
    Mistake("A1.1", "the gradient of b with the wrong sign",
            "return unbroadcast(grad_y * b, a.shape), unbroadcast(-grad_y * a, b.shape)",
            "Mul backward, inputs a (3, 4), b (3, 4) on numpy: b: gradient mismatch"),
    Mistake("A1.6", "1 - y written as 1.0 - y", "return grad_y * y * (1.0 - y)",
            "loses 1 of its 2 points: right in float64, but not float32-exact", kept=1),
    Mistake("A1.8", "a walk that marks a node visited when it is pushed", PUSH_MARKING_WALK,
            "a node marked visited when it is pushed"),
    Mistake("A1.8", "a recursive walk", RECURSIVE_WALK, "recursion limit on the chain graph"),
    Mistake("A2.3", "the minus sign left out", "return grad_loss * _sigmoid(xp, a_fake) / a_fake.size",
            "MinimaxGeneratorLoss backward, d loss / d fake_logits"),
    Mistake("A2.4", "sigmoid(a) - 1 computed by subtracting from 1",
            "return grad_loss * (_sigmoid(xp, a_fake) - 1.0) / a_fake.size",
            "loses 1 of its 3 points: right in float64, but not float32-exact", kept=2),
    Mistake("A2.5", "the velocity rebound instead of updated in place",
            "v = momentum * v - lr * g\np.data += momentum * v - lr * g if self.nesterov else v",
            "the 'velocity' buffer of params[0] after step 1"),
    Mistake("A3.1", "the penalty and the clipping left out",
            D_STEP.format(update="update(self.opt_D, loss_D)\nreturn loss_D, real, fake"),
            "D descended L_D without the penalty, and its weights were not clipped"),
    Mistake("A3.1", "the loss returned with the penalty in it",
            D_STEP.format(update="penalty = self.penalty_term(x, fakes)\n"
                                 "if penalty is not None:\n    loss_D = loss_D + penalty\n"
                                 "update(self.opt_D, loss_D)\nself.clip_weights()\nreturn loss_D, real, fake"),
            "the loss you returned includes the penalty; return L_D without it"),
    Mistake("A3.1", "only the loss returned",
            D_STEP.format(update="penalty = self.penalty_term(x, fakes)\n"
                                 "update(self.opt_D, loss_D if penalty is None else loss_D + penalty)\n"
                                 "self.clip_weights()\nreturn loss_D"),
            "discriminator_step returned only the loss; return (loss_D, real, fake)"),
    Mistake("A3.2", "the other loss form",
            "z = self.sample(p_z, m)\n"
            "other = 'minimax' if self.loss == 'non_saturating' else 'non_saturating'\n"
            "loss_G = losses.generator_loss(D(G(z)), form=other)\nupdate(self.opt_G, loss_G)\nreturn loss_G",
            "the generator's step used the other loss form; use self.loss"),
    Mistake("A3.2", "G(z) detached in the generator's step",
            "z = self.sample(p_z, m)\nloss_G = losses.generator_loss(D(G(z).detach()), form=self.loss)\n"
            "update(self.opt_G, loss_G)\nreturn loss_G",
            "G(z) was detached, so no gradient reached G"),
    Mistake("A4.2", "the findings written down instead of computed",
            "runs = [run_ring(form, k, steps, seed) for form in FORMS for k in K_VALUES]\n"
            "return {'runs': runs, 'findings': {'minimax_gradient_weaker': True, "
            "'more_d_steps_lower_d_fake': True, 'non_saturating_covers_more': True}}",
            "compute each finding from the runs"),
    Mistake("A5.1", "the input gradient taken without create_graph",
            "(grad_x,) = grad(scores.sum(), x)\nreturn (grad_x * grad_x).sum(axis=1).mean()",
            "the penalty has no graph back to D's weights"),
    Mistake("A6.1", "the columns of a row in the order (c, i, j)", IM2COL_CHANNELS_FIRST,
            "do the columns of cols and of w_rows list (i, j, c) the same way?"),
    Mistake("A6.2", "overlapping windows overwrite each other in col2im", COL2IM_OVERWRITING,
            "wrong where they overlap: in col2im, does each window add to what the others wrote?"),
    Mistake("A6.3", "the variance's term left out",
            "return r * (grad_y - xp.mean(grad_y, axis=axis, keepdims=True))",
            "your grad_x is not orthogonal to x_hat in each channel"),
    Mistake("A6.3", "the mean's term left out",
            "return r * (grad_y - y * xp.mean(grad_y * y, axis=axis, keepdims=True))",
            "your grad_x does not sum to 0 over each channel"),
    Mistake("A5.2", "a gradient made of raw arrays",
            "if isinstance(y, Tensor):\n    return Tensor(grad_y.data * (1.0 - y.data * y.data), y.backend)\n"
            "return grad_y * (1.0 - y * y)",
            "the gradient came back with no graph"),
)
