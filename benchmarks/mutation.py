"""Mutation testing, one module at a time: how many planted bugs do the tests catch?

A mutation tool (mutmut, https://mutmut.readthedocs.io) makes hundreds of small changes to
one module, one at a time (``<`` for ``<=``, ``/`` for ``*``, ``+1`` for ``-1``, a default
argument changed, a keyword dropped), and runs the tests that cover the changed function
against each. A change no test notices ("survived") is a bug the suite would let through.

    python benchmarks/mutation.py minigan/nn/discrete.py            # the score, and each survivor's diff
    python benchmarks/mutation.py minigan/gan/builder.py --children 1
    python benchmarks/mutation.py --list                            # the modules and the tests that cover them

It never touches the checkout: the tracked and untracked (not ignored) files are copied to a
private folder (``--workdir``, default a new temporary one), setup.cfg's ``[mutmut]``
section there is set to this module and its tests, and mutmut runs there (niced, with the
hypothesis profile ``ci``). The score is

    killed / (mutants - equivalent)     killed: a test failed or timed out

where ``EQUIVALENT`` below lists the survivors judged to be the same program (each with the
mutated line, so an entry that no longer matches is reported instead of excused).
Error messages are not mutated (setup.cfg's ``do_not_mutate_patterns``): the tests match the
start of each (the argument's name and "got"); the rest is prose. Not run in CI: a module
takes 5 to 30 minutes on two cores. docs/contributing.md says when to run it.
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.90   # the share of non-equivalent mutants the tests must kill (issue 26)

# module -> the smallest set of test files that covers it, as pytest arguments (mutmut runs,
# for each mutant, only those of these tests that call the mutated function)
ENGINE_SWEEPS = "not (second_derivative_matches_finite_differences or differentiates_in_its_cotangent)"
# (without the sigmoid-accuracy benchmark's test: mutmut's copy has no benchmarks/ to import;
# the dense-grid tests check the same bound)
OPS_TESTS = ["tests/test_ops.py", "tests/test_softmax.py", "tests/test_second_order.py",
             "--deselect", "tests/test_ops.py::test_accuracy_benchmark_runs_and_finds_the_old_form_wrong"]
MODULES = {
    # without the two op-table sweeps of test_second_order.py (minutes; every op's backward, not the walk)
    "minigan/autograd.py": ["tests/test_autograd.py", "tests/test_autograd_pins.py", "tests/test_second_order.py",
                            "-k", ENGINE_SWEEPS],
    "minigan/backprop.py": ["tests/test_autograd.py", "tests/test_second_order.py", "-k", ENGINE_SWEEPS],
    "minigan/ops/arithmetic.py": OPS_TESTS,
    "minigan/ops/elementwise.py": OPS_TESTS,
    "minigan/ops/reductions.py": OPS_TESTS,
    "minigan/ops/shapes.py": OPS_TESTS,
    "minigan/ops/softmax.py": OPS_TESTS,
    "minigan/ops/batchnorm.py": ["tests/test_batchnorm.py", "tests/test_ops.py", "tests/test_second_order.py",
                                 "-k", "batch_norm or test_batchnorm"],   # the layer's tests and the table's row
    "minigan/ops/conv.py": ["tests/test_conv.py", "tests/test_ops.py", "tests/test_second_order.py",
                            "-k", "conv"],   # test_conv.py and the table's three conv rows
    "minigan/losses/minimax.py": ["tests/test_losses.py", "tests/test_gan_losses.py"],
    "minigan/losses/forms.py": ["tests/test_losses.py", "tests/test_gan_losses.py"],
    "minigan/losses/__init__.py": ["tests/test_losses.py", "tests/test_gan_losses.py"],   # the checks and tables
    "minigan/losses/penalties.py": ["tests/test_penalties.py"],
    "minigan/variants/semi_supervised.py": ["tests/test_semi_supervised.py"],
    # without the three tests that share a 750-step training (5 s per mutant); the replayed
    # steps pin what they check
    "minigan/variants/conditional.py": ["tests/test_conditional.py", "tests/test_conditional_pins.py",
                                        "-k", "not (rows_follow_the_requested_class or "
                                        "generate_is_seeded_and_checks_labels or class_agreement_counts_what_the)"],
    "minigan/nn/discrete.py": ["tests/test_discrete.py", "-k", "not demo_categorical_end_to_end"],   # figures: slow
    "minigan/gan/config.py": ["tests/test_recipes.py", "tests/test_gan.py"],
    "minigan/gan/builder.py": ["tests/test_builder.py", "tests/test_recipes.py"],
    "minigan/runs/resume.py": ["tests/test_resume_plan.py"],   # (test_runs.py's interrupted runs fail under mutmut)
    "minigan/gan/checkpoint.py": ["tests/test_checkpoint.py", "tests/test_resume_rollback.py",
                                  "tests/test_checkpoint_fields.py"],
    "minigan/assignments/checks.py": ["tests/test_grader_checks.py"],
    # where a part's check becomes its points, status and feedback, and the parts a total (stand-in processes)
    "minigan/assignments/grade.py": ["tests/test_grade_verdict.py"],
}

# Survivors judged equivalent: (module, mutated line as mutmut writes it, stripped) -> why.
# The program with the mutant computes the same thing as without it, for every input the
# module accepts; a test cannot tell them apart.
SS = "minigan/variants/semi_supervised.py"
CONDITIONAL = "minigan/variants/conditional.py"
DISCRETE = "minigan/nn/discrete.py"
PENALTIES = "minigan/losses/penalties.py"
CHECKPOINT = "minigan/gan/checkpoint.py"
BACKPROP = "minigan/backprop.py"
AUTOGRAD = "minigan/autograd.py"
CHECKS = "minigan/assignments/checks.py"
GRADE = "minigan/assignments/grade.py"
EQUIVALENT = {
    # the ops (minigan/ops/)
    ("minigan/ops/reductions.py", "ctx.n = x.size / builtins.max(y.size, 1) if x.size else 1"):
        "y.size divides x.size: n as a float is the same whole number, and grad_y / n the same numbers and dtype",
    ("minigan/ops/reductions.py", "ctx.n = x.size // builtins.max(y.size, 1) if x.size else 2"):
        "n is used only when x is empty, where grad_x has no elements whatever n is (not 0: tests pin no warning)",
    ("minigan/ops/elementwise.py", "positive = x > 0"):
        "only x = 0 (either sign) changes branch, and there e = exp(0) = 1: both branches give 1 / (1 + 1) = 1 / 2",
    ("minigan/ops/shapes.py", "index = tuple(int(e) if (isinstance(e, numbers.Integral)) and False else e for e in index)"):
        "inside a tuple a NumPy integer indexes as the int it equals, on NumPy and array-api-strict alike (checked for "
        "int8 to uint64: picking and Scatter's assignment); only a lone one must become an int, which an earlier line does",
    ("minigan/ops/conv.py", "return y if bias is None else y + bias.reshape(bias.shape[0], 1, 1)   # one number per channel"):
        "y is 4-D (N, O, Ho, Wo): a (O, 1, 1) bias broadcasts as (1, O, 1, 1), along the same channel axis",
    ("minigan/ops/conv.py", "return xp.reshape(xp.permute_dims(w, (0, 2, 3, 1)), (w.shape[0], -2))"):
        "reshape reads any negative size as 'the rest' on NumPy and array-api-strict (and weight_rows sees arrays only)",
    ("minigan/ops/conv.py", "out = xp.zeros((n, h_out + 3 * p_h, w_out + 2 * p_w, c), dtype=cols.dtype)     # channels last"):
        "a buffer p_h rows taller at the bottom: no window reaches them ((h - 1) s + k <= Ho + 2 p) and the crop "
        "[p_h : p_h + Ho] cuts them off",
    ("minigan/ops/conv.py", "out = xp.zeros((n, h_out + 2 * p_h, w_out + 3 * p_w, c), dtype=cols.dtype)     # channels last"):
        "a buffer p_w columns wider at the right: no window reaches them ((w - 1) s + k <= Wo + 2 p) and the crop "
        "[p_w : p_w + Wo] cuts them off",
    (SS, "return ((logits - c).exp().sum(axis=1, keepdims=True).log() + c).reshape(-2)   # (m,)"):
        "reshape reads any negative size as 'the rest' on NumPy and array-api-strict: (m, 1) -> (m,) either way",
    (SS, "return -(ops.log_softmax(logits, ) * onehot).sum(axis=1).mean()"):
        "log_softmax's default axis is -1, which is axis 1 for the (m, K) logits the loss takes",
    (SS, "x = x + Tensor(self.rng.normal(x.shape, std=self.input_noise, dtype=None), x.backend)"):
        "dtype None is the backend's default float, the dtype of every Classifier's input (its layers refuse others)",
    (SS, "x = x + Tensor(self.rng.normal(x.shape, std=self.input_noise, ), x.backend)"):
        "no dtype is the backend's default float, the dtype of every Classifier's input (its layers refuse others)",
    (SS, "return optim.Adam(params, lr=lr, )"):
        "Adam's default betas are (0.5, 0.999), the ones make_optimizer names",
    (CONDITIONAL, "y = self.one_hot(xp.take(self.labels, rows, axis=None))                  # and their classes (m, K)"):
        "labels is 1-D (n,): take along axis None (the flattened array) is take along axis 0",
    (CONDITIONAL, "y = self.one_hot(xp.take(self.labels, rows, ))                  # and their classes (m, K)"):
        "take's default axis is None, the same as axis 0 for the 1-D labels",
    (CONDITIONAL, "return np.repeat(np.arange(classes), n / classes)"):
        "np.repeat casts a float count down to an int: n / classes repeats as often as n // classes",
    (CONDITIONAL, "dtype = None"):
        "the head's weight is the backend's default float (dcgan_discriminator takes no dtype), what rng.normal draws for None",
    (CONDITIONAL, 'self.embed = Parameter(init_weight("normal", rng, classes, self.head.n_in, None), backend)   # V (K, F)'):
        "the head's weight is the backend's default float (dcgan_discriminator takes no dtype), what rng.normal draws for None",
    (CONDITIONAL, 'self.embed = Parameter(init_weight("normal", rng, classes, self.head.n_in, dtype), None)   # V (K, F)'):
        "a Parameter given no backend takes the backend of its array, drawn by the backend's own generator",
    (CONDITIONAL, 'self.embed = Parameter(init_weight("normal", rng, classes, self.head.n_in, dtype), )   # V (K, F)'):
        "a Parameter given no backend takes the backend of its array, drawn by the backend's own generator",
    (CONDITIONAL, 'self.G = nn.dcgan_generator(noise_dim + k, settings["g_hidden"], image_shape, rng=rng,'):
        "dcgan_generator's default output is 'tanh', the one named",
    (CONDITIONAL, "return Tensor(blocks[0] if (len(blocks) == 1) and False else xp.concat(blocks, axis=1), self.backend)"):
        "the concatenation of one block is that block",
    (CONDITIONAL, "return self.one_hot(drawn[0] if (len(drawn) == 1) and False else self.backend.xp.stack(drawn, axis=1))"):
        "one_hot reshapes (m,) classes and (m, 1) rows alike to (m, 1)",
    (CONDITIONAL, "return np.array(rows, dtype=None)"):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CONDITIONAL, "return np.array(rows, )"):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CONDITIONAL, "every = np.array(list(itertools.product(*(range(k) for k in counts))), dtype=None)"):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CONDITIONAL, "every = np.array(list(itertools.product(*(range(k) for k in counts))), )"):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (DISCRETE, "rows = int(np.prod(logits.shape[:-1])) if (logits.ndim > 1) or True else 1"):
        "for 1-D logits np.prod of the empty shape[:-1] is 1.0, the else branch's 1",
    (DISCRETE, "rows = int(np.prod(logits.shape[:-1])) if logits.ndim >= 1 else 1"):
        "for 1-D logits np.prod of the empty shape[:-1] is 1.0, the else branch's 1; logits are never 0-d here",
    (DISCRETE, "y_soft = ops.softmax((logits + noise) / tau, )                              # (..., K)"):
        "softmax's default axis is -1, the one named",
    (DISCRETE, "y_hard = ops.one_hot(ops.argmax(y_soft), y_soft.shape[-1], dtype=None)     # no graph"):
        "one_hot's default float holds 0 and 1 exactly, and y_hard - y_soft + y_soft takes y_soft's wider dtype",
    (DISCRETE, "y_hard = ops.one_hot(ops.argmax(y_soft), y_soft.shape[-1], )     # no graph"):
        "one_hot's default float holds 0 and 1 exactly, and y_hard - y_soft + y_soft takes y_soft's wider dtype",
    (DISCRETE, "self.logits = nn.Parameter(self.backend.xp.zeros((k,), dtype=dtype), None)   # theta, (K,)"):
        "a Parameter given no backend takes the backend of its array, made by self.backend",
    (DISCRETE, "self.logits = nn.Parameter(self.backend.xp.zeros((k,), dtype=dtype), )   # theta, (K,)"):
        "a Parameter given no backend takes the backend of its array, made by self.backend",
    (DISCRETE, "return ops.softmax(self.logits, axis=-1).numpy().astype(None)"):
        "NumPy's astype(None) is astype(float64)",
    (DISCRETE, "return ops.softmax(self.logits, ).numpy().astype(np.float64)"):
        "softmax's default axis is -1, the one named",
    (PENALTIES, "return x if (x.ndim == 2) and False else x.detach().reshape(x.shape[0], -1)"):
        "rows (m, dim) reshaped to (m, dim) are the same rows, and both callers detach them anyway",
    (PENALTIES, "return x if x.ndim == 2 else x.detach().reshape(x.shape[0], -2)"):
        "reshape reads any negative size as 'the rest'",
    (PENALTIES, "scores = D(x if (shape is None or len(shape) == 2) and False else x.reshape(shape))"):
        "shape is never None here (both callers pass a Tensor's), and rows reshaped to their own 2-D shape are the same",
    (PENALTIES, "scores = D(x if shape is None and len(shape) == 2 else x.reshape(shape))"):
        "shape is never None here, and rows reshaped to their own 2-D shape are the same",
    (CHECKPOINT, 'current = os.umask(1)   # the only way to read the umask is to set it, then put it back'):
        'os.umask returns the mask it replaces whatever the new one is, and the next line puts it back',
    (CHECKPOINT, 'return np.asarray(value, dtype=None)  # a 0-d unicode array: no pickle needed'):
        'every caller passes a str, which NumPy stores as a 0-d unicode array with or without the dtype',
    (CHECKPOINT, 'return np.asarray(value, )  # a 0-d unicode array: no pickle needed'):
        'every caller passes a str, which NumPy stores as a 0-d unicode array with or without the dtype',
    (CHECKPOINT, '"version": np.asarray(VERSION, dtype=None),'):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CHECKPOINT, '"version": np.asarray(VERSION, ),'):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CHECKPOINT, '"step": np.asarray(gan.step, dtype=None),'):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CHECKPOINT, '"step": np.asarray(gan.step, ),'):
        "NumPy's default integer is int64 (NumPy 2, every platform)",
    (CHECKPOINT, 'if np.issubdtype(None, np.floating) and not np.all(np.isfinite(array)):'):
        'np.issubdtype(None, ...) reads None as float64: the finiteness check then runs on every array, and np.isfinite of an integer array is all True',
    (CHECKPOINT, 'with atomic_file(path, ) as f:'):
        "atomic_file's default mode is 'wb', the one named",
    (CHECKPOINT, 'with zipfile.ZipFile(file, "w", ) as archive:'):
        "ZipFile's default compression is ZIP_STORED, the one named",
    (CHECKPOINT, 'with archive.open(zipfile.ZipInfo(f"{key}.npy", ), "w", force_zip64=True) as member:'):
        "ZipInfo's default date_time is (1980, 1, 1, 0, 0, 0), ZIP_DATE",
    (CHECKPOINT, 'np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=None)'):
        'allow_pickle matters only for object arrays; a state holds numbers only',
    (CHECKPOINT, 'np.lib.format.write_array(member, np.asanyarray(array), )'):
        'allow_pickle matters only for object arrays; a state holds numbers only',
    (CHECKPOINT, 'np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=True)'):
        'allow_pickle matters only for object arrays; a state holds numbers only',
    (CHECKPOINT, 'group, _, key = name.rpartition("/")'):
        'member names are group/key with one slash (state_dict keys use dots): partition and rpartition split them alike',
    (CHECKPOINT, 'if shape != () or dtype.kind not in "XXiuXX":'):
        "'i' and 'u' are in 'XXiuXX' as they are in 'iu' (a substring test), and no dtype kind is an X",
    (CHECKPOINT, 'before, rng_before = _states(gan, ), gan.rng.state()'):
        'the snapshot then holds the optimizers too; a rollback loads them back as they were',
    (BACKPROP, "def backward(root: Tensor, grad=None, retain_graph=None, inputs=None, create_graph: bool = True) -> None:"):
        "its only caller, Tensor.backward, always passes create_graph (its own default is False)",
    (CHECKS, 'if array.dtype.kind not in "XXbiufXX":'):
        "'b', 'i', 'u' and 'f' are in 'XXbiufXX' as they are in 'biuf' (a substring test), and no dtype kind is an X",
    (CHECKS, "return array.astype(None)"):
        "NumPy's astype(None) is astype(float64)",
    (CHECKS, "wanted = np.asarray(wanted, dtype=None)"):
        "wanted == 0 is the same test in any numeric dtype (wanted is the grader's own gradient, numbers only)",
    (CHECKS, "wanted = np.asarray(wanted, )"):
        "wanted == 0 is the same test in any numeric dtype (wanted is the grader's own gradient, numbers only)",
    (GRADE, 'return {"status": "limit", "feedback": limits.describe(None)}'):
        "Limits.describe's last branch, the CPU limit, answers any name it does not know, 'cpu' among them",
    (GRADE, 'return {"status": "limit", "feedback": limits.describe("XXcpuXX")}'):
        "Limits.describe's last branch, the CPU limit, answers any name it does not know, 'cpu' among them",
    (GRADE, 'return {"status": "limit", "feedback": limits.describe("CPU")}'):
        "Limits.describe's last branch, the CPU limit, answers any name it does not know, 'cpu' among them",
    (GRADE, 'if not str(hello.get("minigan", None)).startswith(copy + "/"):'):
        "copy is an absolute path: a hello without 'minigan' is refused whether it reads as '', 'None' or 'XXXX'",
    (GRADE, 'if not str(hello.get("minigan", )).startswith(copy + "/"):'):
        "copy is an absolute path: a hello without 'minigan' is refused whether it reads as '', 'None' or 'XXXX'",
    (GRADE, 'if not str(hello.get("minigan", "XXXX")).startswith(copy + "/"):'):
        "copy is an absolute path: a hello without 'minigan' is refused whether it reads as '', 'None' or 'XXXX'",
    (GRADE, 'wrapped = textwrap.wrap(text, width=width - len(indent), break_on_hyphens=None) or [""]'):
        "textwrap splits at hyphens only where break_on_hyphens is True: None splits at spaces only, as False does",
    (GRADE, 'wrapped = textwrap.wrap(text, width=width - len(indent), break_on_hyphens=False) or ["XXXX"]'):
        "text starts with the status and a colon, so textwrap.wrap never returns an empty list",
    (BACKPROP, "found = reverse_pass(outputs, seeds, inputs, create_graph, retain_graph, into_leaves=None)"):
        "into_leaves is only tested for truth: None is False",
    (AUTOGRAD, "self.needs_grad = None"):
        "a fresh Context's needs_grad is never read: backprop (and the grader's probes) set it before every op.backward, the only reader",
    (AUTOGRAD, 'self._ctx = ""'):
        "a leaf's _ctx is never read: backprop reads _ctx only of a node with an op, and apply sets _op and _ctx together",
    (AUTOGRAD, "return self.numpy().reshape(None).item()"):
        "NumPy's item() reads the one element of a one-element array of any shape; reshape(None) keeps the shape",
    (AUTOGRAD, "if parent.requires_grad and id(None) not in visited:"):
        "a parent already visited is pushed again, then skipped when popped (the visited test after pop): the same order",
    (AUTOGRAD, "requires_grad = None"):
        "every op has an input, so the loop runs and `None or t.requires_grad` leaves a bool, the same as `False or ...`",
    (AUTOGRAD, "backend = get_backend(None)"):
        "get_backend(None) is numpy, the name it replaces (backend.py: 'None means numpy')",
}

DETECTED = ("killed", "timeout", "segfault", "caught by type check")


def copy_tree(workdir: Path) -> None:
    """The checkout's tracked and untracked-but-not-ignored files, copied to ``workdir``."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workdir / name)


def configure(workdir: Path, module: str, tests: list) -> None:
    """setup.cfg's [mutmut] section in the copy: mutate ``module`` only, run ``tests`` only."""
    config = configparser.RawConfigParser()
    config.read(workdir / "setup.cfg")
    if not config.has_section("mutmut"):
        config.add_section("mutmut")
    config.set("mutmut", "only_mutate", module)
    config.set("mutmut", "pytest_add_cli_args_test_selection", "\n" + "\n".join(tests))
    with open(workdir / "setup.cfg", "w") as f:
        config.write(f)


def mutmut(workdir: Path, *args, capture=True) -> str:
    executable = Path(sys.executable).with_name("mutmut")
    if not executable.exists() and not shutil.which("mutmut"):
        raise SystemExit("mutmut: not installed for this Python; pip install mutmut (3.x)")
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = ["nice", "-n", "10", str(executable if executable.exists() else "mutmut"), *args]
    done = subprocess.run(command, cwd=workdir, env=env, text=True, capture_output=capture)
    if done.returncode != 0 and capture:
        raise SystemExit(f"mutmut {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout if capture else ""


# mutmut's own show command, for many mutants in one process (one `mutmut show` each takes seconds)
SHOW = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name, path=find_mutant(name).path) for name in sys.argv[1:]}))
"""


def diffs_of(workdir: Path, names: list) -> dict:
    """{mutant: its diff} for ``names``."""
    if not names:
        return {}
    done = subprocess.run([sys.executable, "-c", SHOW, *names], cwd=workdir, text=True, capture_output=True)
    if done.returncode != 0:   # another mutmut version: its command, one mutant at a time
        return {name: mutmut(workdir, "show", name) for name in names}
    return json.loads(done.stdout.strip().splitlines()[-1])


def mutated_line(diff: str) -> str:
    """The first added line of a mutant's diff, stripped (what EQUIVALENT keys on)."""
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            return line[1:].strip()
    return ""


def score(workdir: Path, module: str, show: bool) -> float:
    statuses = {}
    for line in mutmut(workdir, "results", "--all", "true").splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            statuses[name] = status
    if not statuses:
        raise SystemExit(f"{module}: no mutmut results in {workdir} (run without --score-only first)")
    unchecked = [n for n, s in statuses.items() if s == "not checked"]
    if unchecked:   # the tests failed without any mutant, or the run was stopped: no score to give
        raise SystemExit(f"{module}: {len(unchecked)} of {len(statuses)} mutants not checked; see mutmut's "
                         f"output above (the tests must pass unmutated: mutmut runs them first)")
    detected = [n for n, s in statuses.items() if s in DETECTED]
    missed = [n for n, s in statuses.items() if s not in DETECTED]
    equivalent, survivors = [], []
    diffs = diffs_of(workdir, missed)
    for name in missed:
        diff = diffs[name]
        reason = EQUIVALENT.get((module, mutated_line(diff)))
        (equivalent if reason else survivors).append((name, statuses[name], diff, reason))
    counted = len(statuses) - len(equivalent)
    value = len(detected) / counted if counted else 1.0
    print(f"{module}: {len(detected)} of {counted} mutants killed ({100 * value:.1f}%; target {100 * TARGET:.0f}%), "
          f"{len(survivors)} survived, {len(equivalent)} equivalent, {len(statuses)} made")
    for name, status, diff, reason in equivalent:
        print(f"  equivalent: {name}: {mutated_line(diff)}\n      why: {reason}")
    for name, status, diff, _ in survivors:
        print(f"  {status}: {name}" + ("\n" + indent(diff) if show else f": {mutated_line(diff)}"))
    return value


def indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines() if line and not line.startswith("#"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", nargs="?", help="a file under minigan/ (see --list)")
    parser.add_argument("--tests", nargs="+", help="test files to run instead of the module's own (MODULES)")
    parser.add_argument("--workdir", help="the private copy to run in (default: a new temporary folder); "
                                          "one that holds a copy already is used as it is, with mutmut's results so far")
    parser.add_argument("--children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--show", action="store_true", help="print each survivor's whole diff")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests, and stop")
    parser.add_argument("--score-only", action="store_true", help="score the results already in --workdir, run nothing")
    args = parser.parse_args(argv)
    if args.list or not args.module:
        for module, tests in MODULES.items():
            print(f"{module:40s} {' '.join(tests)}")
        return 0
    module = args.module
    tests = args.tests or MODULES.get(module)
    if not (REPO / module).is_file() or not module.startswith("minigan/") or not module.endswith(".py"):
        parser.error(f"module: got {module!r}, wanted a file minigan/....py of this checkout")
    if not tests:
        parser.error(f"--tests: {module} has no tests listed in MODULES; name them with --tests")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="minigan-mutation-"))
    if workdir.resolve() == REPO.resolve() or REPO.resolve() in workdir.resolve().parents:
        parser.error(f"--workdir: got {workdir}, wanted a folder outside the checkout (mutmut rewrites files)")
    if not (workdir / "setup.cfg").exists():   # else reused as it is (e.g. with older tests, for a baseline)
        workdir.mkdir(parents=True, exist_ok=True)
        copy_tree(workdir)
    configure(workdir, module, tests)
    print(f"mutmut on {module} against {' '.join(tests)} in {workdir}", flush=True)
    if not args.score_only:
        mutmut(workdir, "run", "--max-children", str(args.children), capture=False)
    value = score(workdir, module, args.show)
    return 0 if value >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
