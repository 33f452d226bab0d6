"""The BLAS thread policy: it keeps the faster count, notices a change, and gives the setting back."""
import ast

import pytest

import minigan
from minigan import data, gan, nn, optim, threads
from minigan.gan.callbacks import Callback


class FakeBlas:
    """A BLAS whose thread count only changes how long the fake clock says a step took."""

    def __init__(self, threads=2):
        self.n, self.sets = threads, []

    def threads(self):
        return self.n

    def set(self, n):
        self.n = n
        self.sets.append(n)

    def save(self):
        return [self.n]

    def restore(self, saved):
        self.n = saved[0]


class FakeGAN:
    class backend:
        name = "numpy"

    step = 0


def run(policy, blas, seconds_per_step, steps):
    """Drive the policy as a loop under it would: each step ticks its clock (an optimizer's
    step() does), then takes seconds_per_step(step, threads) on the fake clock."""
    clock = [0.0]
    policy.clock = lambda: clock[0]
    seen = []
    with policy:
        for step in range(1, steps + 1):
            threads.tick(OPTIMIZER)
            seen.append(blas.n)
            clock[0] += seconds_per_step(step, blas.n)
    return seen


OPTIMIZER = object()  # the clock: what ticks first is the one the policy times


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 2)
    for name in threads.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def test_auto_keeps_the_faster_count_and_probes_again_when_the_machine_changes(two_cores):
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", probe=5, every=10_000, jump=1.5, window=10, blas=blas)
    busy_until = 300  # one core busy for the first 300 steps: one thread is faster; then two are
    seen = run(policy, blas, lambda step, n: (1.0 if n == 1 else 3.0) if step < busy_until else (2.0 / n), 600)
    first, later = policy.choices[0], policy.choices[-1]
    assert first[1] == 1 and first[2] == {1: 1.0, 2: 3.0}
    assert later[1] == 2 and later[0] > busy_until and len(policy.choices) == 2
    assert seen[250] == 1 and seen[-1] == 2
    assert blas.n == 2  # given back as it was


def test_auto_probes_again_less_often_while_its_choice_holds(two_cores):
    blas = FakeBlas()
    policy = threads.ThreadPolicy("auto", probe=3, every=50, blas=blas)
    run(policy, blas, lambda step, n: 1.0, 1000)
    steps = [step for step, _, _ in policy.choices]
    gaps = [b - a for a, b in zip(steps, steps[1:])]
    assert len(steps) >= 4 and gaps == sorted(gaps) and gaps[-1] > 2 * gaps[0]  # 50, 100, 200, ... steps apart


def test_a_periodic_slow_iteration_counts_in_the_comparison(two_cores):
    # tutorial 06's loop: one iteration in 10 evaluates D on a big grid, the one product BLAS
    # splits; with a core taken, two threads stall there (30 s) and nowhere else (1 s). The mean
    # sees it (3.9 s against one thread's 1.2 s); a median (1 s) would keep two threads.
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", probe=20, blas=blas)
    run(policy, blas, lambda step, n: 1.2 if n == 1 else (30.0 if step % 10 == 0 else 1.0), 60)
    assert policy.choices[0][1] == 1 and policy.choices[0][2][2] == pytest.approx((18 * 1.0 + 2 * 30.0) / 20)


def test_a_probe_times_at_least_probe_seconds_of_iterations(two_cores):
    # short iterations: 3 of them would be 3 ms, too few to see a periodic stall; the probe
    # goes on until each count has probe_seconds of timed iterations (100 of 1/1024 s: exact in binary)
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", probe=3, probe_seconds=100 / 1024, settle=0.0, blas=blas)
    seen = run(policy, blas, lambda step, n: 1 / 1024, 400)
    assert seen[:100] == [1] * 100 and seen[100:200] == [2] * 100 and len(policy.choices) == 1


@pytest.mark.parametrize("one_thread, chosen", [(0.95, 2), (0.8, 1)])
def test_a_near_tie_keeps_the_librarys_own_count(two_cores, one_thread, chosen):
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", probe=4, blas=blas)
    run(policy, blas, lambda step, n: one_thread if n == 1 else 1.0, 40)
    assert policy.choices[0][1] == chosen


def test_a_number_is_used_for_the_whole_run_and_none_touches_nothing(two_cores):
    blas = FakeBlas(threads=2)
    seen = run(threads.ThreadPolicy(1, blas=blas), blas, lambda step, n: 1.0, 20)
    assert set(seen) == {1} and blas.n == 2
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy(None, blas=blas)
    run(policy, blas, lambda step, n: 1.0, 20)
    assert blas.sets == [] and policy.reason == "threads=None"


@pytest.mark.parametrize("name", threads.ENVIRONMENT)
def test_auto_respects_a_thread_count_in_the_environment(two_cores, monkeypatch, name):
    monkeypatch.setenv(name, "2")
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", blas=blas)
    run(policy, blas, lambda step, n: 1.0, 50)
    assert blas.sets == [] and policy.reason == f"{name}=2 is set"


def test_auto_respects_a_limit_the_user_already_set(two_cores):
    blas = FakeBlas(threads=1)  # below the 2 cores: someone limited it
    policy = threads.ThreadPolicy("auto", blas=blas)
    run(policy, blas, lambda step, n: 1.0, 50)
    assert blas.sets == [] and "already limited to 1" in policy.reason


def test_bad_threads_are_refused():
    for bad in (0, -1, 1.5, "all", True):
        with pytest.raises(ValueError, match="threads: got"):
            threads.ThreadPolicy(bad)


class WatchThreads(Callback):
    def __init__(self, blas):
        self.blas, self.seen = blas, []

    def on_step(self, gan_, record):
        self.seen.append(self.blas.threads())


def test_the_trainer_sets_real_blas_threads_while_it_trains_and_restores_them():
    blas = threads.Blas()
    if blas.threads() is None:
        pytest.skip("NumPy's BLAS is not one threadpoolctl can set")
    before = blas.save()
    want = 1 if max(before) > 1 else 2
    rng = minigan.get_backend("numpy").random(0)
    G, D = nn.MLP([2, 8, 2], "relu", rng=rng), nn.MLP([2, 8, 1], "leaky_relu", rng=rng)
    model = gan.GAN(G, D, data.ring(), data.normal_noise(2), optim.Adam(G.parameters()), optim.Adam(D.parameters()),
                    k=1, m=16, rng=rng, threads=want)
    watch = WatchThreads(blas)
    model.train(5, callbacks=[watch])
    assert set(watch.seen) == {want}
    assert blas.save() == before
    with pytest.raises(ValueError, match="threads: got 0"):
        gan.GAN(G, D, data.ring(), data.normal_noise(2), model.opt_G, model.opt_D, rng=rng, threads=0)


def test_config_threads_are_checked_and_are_not_part_of_the_run():
    with pytest.raises(ValueError, match="threads: got 'all'"):
        gan.recipe("ring", threads="all")
    auto, one = gan.recipe("ring"), gan.recipe("ring", threads=1)
    assert auto.threads == "auto" and one.threads == 1
    assert gan.run_id(auto) == gan.run_id(one)  # the same numbers: 1 or 2 threads give bit-equal results
    assert gan.build(one).thread_policy.threads == 1


def test_a_run_trained_in_pieces_keeps_its_recent_choice(two_cores):
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", probe=3, every=100, blas=blas)
    run(policy, blas, lambda step, n: 1.0 if n == 1 else 2.0, 20)
    assert len(policy.choices) == 1 and blas.n == 2
    seen = run(policy, blas, lambda step, n: 1.0 if n == 1 else 2.0, 20)
    assert len(policy.choices) == 1 and set(seen) == {1} and blas.n == 2


def test_a_probe_goes_on_across_pieces_of_training(two_cores):
    blas = FakeBlas(threads=2)
    policy = threads.ThreadPolicy("auto", probe=8, blas=blas)
    for _ in range(10):  # pieces of 5 steps, shorter than one probe (32 steps)
        run(policy, blas, lambda step, n: 1.0 if n == 1 else 3.0, 5)
    assert len(policy.choices) == 1 and policy.choices[0][1] == 1


@pytest.mark.parametrize("text", ["0", "-2", "all", "1.5"])
def test_demo_refuses_bad_threads_in_one_line(capsys, text):
    from minigan.demo import __main__ as demo

    assert demo.main(["--threads", text, "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "argument --threads: got" in err[0] and "'auto' or a positive number" in err[0]


# ---- one policy, wherever minigan trains -----------------------------------------------------------
def tiny_optimizer():
    p = minigan.tensor([1.0, 2.0], requires_grad=True)
    return p, optim.SGD([p], lr=0.1)


def step_it(p, opt):
    opt.zero_grad()
    (p * p).sum().backward()
    opt.step()


def test_a_loop_that_steps_an_optimizer_is_timed_by_its_steps(two_cores):
    blas, (p, opt) = FakeBlas(threads=2), tiny_optimizer()
    _, other = tiny_optimizer()
    clock = [0.0]
    with threads.policy(probe=3, blas=blas, clock=lambda: clock[0]) as policy:
        for _ in range(30):
            step_it(p, opt)          # the first optimizer to step is the clock...
            other.step()             # ... a second one in the same iteration is not
            clock[0] += 1.0 if blas.n == 1 else 3.0
    assert policy.iterations == 30 and policy.choices[0][1] == 1 and policy.choices[0][2] == {1: 1.0, 2: 3.0}
    assert blas.n == 2  # given back


def test_loop_times_each_item_and_gives_the_threads_back_on_break(two_cores, monkeypatch):
    blas = FakeBlas(threads=2)
    monkeypatch.setattr(threads, "_BLAS", blas)
    seen = []
    for i in threads.loop(range(100)):
        seen.append(blas.n)
        if i == 5:
            break
    assert seen[0] == 1 and blas.n == 2 and threads._ACTIVE is None  # probing one thread first; then given back


def test_trained_runs_the_function_under_a_policy_and_an_inner_one_stands_aside(two_cores, monkeypatch):
    monkeypatch.setattr(threads, "_BLAS", FakeBlas(threads=2))

    @threads.trained
    def train():
        outer = threads._ACTIVE
        with threads.policy() as inner:
            return outer, inner

    outer, inner = train()
    assert outer is not None and outer is not inner and inner.reason == "inside another policy, which chooses"
    assert threads._ACTIVE is None


def test_a_clock_on_another_backend_makes_the_policy_stand_aside(two_cores):
    class GpuOptimizer:
        class backend:
            name = "cupy"

    blas = FakeBlas(threads=2)
    with threads.policy(blas=blas) as policy:
        threads.tick(GpuOptimizer())
        assert blas.n == 2 and threads._ACTIVE is None
    assert "cupy backend" in policy.reason and blas.sets == []


# Every loop in the package that steps an optimizer, found with ast: a loop calls ``.step()``,
# ``update(...)`` or a function that does (by name, transitively, through functions not under
# a policy themselves). Each must run under the policy: its function decorated with
# ``@threads.trained``, the loop inside ``with threads.policy(...)``, iterating over
# ``threads.loop(...)``, or (GAN.train) with the GAN's ``thread_policy`` among its callbacks.
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
NOT_TRAINING = {  # loops that step an optimizer but are not a training loop, and why
    ("minigan/gan/algorithm1.py", "train_step"): "the k discriminator steps of one iteration: the loop "
                                                 "that calls train_step is the training loop",
    ("minigan/lab/worker.py", "run_commands"): "the page's clicks, one step each; the whole worker runs "
                                               "under threads.policy(1) (Lab.run, checked below)",
    ("minigan/assignments/", ""): "the grader: loops over cases of a few steps each (m = 32), in the "
                                  "grader's process or the student's sandbox, to compare numbers, not to train",
}


def _exempt(file, name) -> bool:
    return (file, name) in NOT_TRAINING or (file.startswith("minigan/assignments/") and ("minigan/assignments/", "")
                                            in NOT_TRAINING)


def _functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _own_nodes(node):
    """The nodes of a function's body, not those of functions defined inside it."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(child))


def _called_names(node):
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            if isinstance(func, ast.Attribute):
                yield func.attr, len(child.args) + len(child.keywords)
            elif isinstance(func, ast.Name):
                yield func.id, len(child.args) + len(child.keywords)


def _steps_directly(node) -> bool:
    return any((name == "step" and n == 0) or (name == "update" and n == 2) for name, n in _called_names(node))


def _is_policy_call(node, name) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "threads")


def _covered_function(function) -> bool:
    decorated = any(isinstance(d, ast.Attribute) and d.attr == "trained" for d in function.decorator_list)
    return decorated or any(isinstance(n, ast.Attribute) and n.attr == "thread_policy" for n in _own_nodes(function))


def _loops_under_a_with_policy(function):
    covered = set()
    for node in _own_nodes(function):
        if isinstance(node, ast.With) and any(_is_policy_call(item.context_expr, "policy") for item in node.items):
            covered.update(id(n) for n in ast.walk(node) if isinstance(n, (ast.For, ast.While)))
    return covered


def training_loops():
    """(file, function, line, covered) for every loop that steps an optimizer."""
    functions = []
    for path in sorted((ROOT / "minigan").rglob("*.py")):
        tree = ast.parse(path.read_text())
        functions += [(path.relative_to(ROOT).as_posix(), f) for f in _functions(tree)]
    # names of functions, not under a policy, that step an optimizer (a least fixpoint); a name
    # counts only when every function of that name steps (``train``: nn.Module.train does not)
    facts = [(f.name, not _covered_function(f) and f.name not in ("step", "update"), _steps_directly(f),
              {name for name, _ in _called_names(f)}) for _, f in functions]
    stepping = set()
    while True:
        steps = {}
        for name, open_, direct, calls in facts:
            does = open_ and (direct or not calls.isdisjoint(stepping))
            steps[name] = steps.get(name, True) and does
        more = {name for name, does in steps.items() if does}
        if more <= stepping:
            break
        stepping |= more
    found = []
    for file, f in functions:
        with_policy = _loops_under_a_with_policy(f)
        for loop in (n for n in _own_nodes(f) if isinstance(n, (ast.For, ast.While))):
            body = ast.Module(body=loop.body, type_ignores=[])
            if not (_steps_directly(body) or any(name in stepping for name, _ in _called_names(body))):
                continue
            covered = (_covered_function(f) or id(loop) in with_policy
                       or (isinstance(loop, ast.For) and _is_policy_call(loop.iter, "loop")))
            found.append((file, f.name, loop.lineno, covered))
    return found


def test_every_training_loop_in_the_package_runs_under_the_policy():
    found = training_loops()
    names = {(file, name) for file, name, _, _ in found}
    for expected in [("minigan/gan/algorithm1.py", "train"), ("minigan/variants/semi_supervised.py", "compare"),
                     ("minigan/variants/semi_supervised.py", "train_supervised"),
                     ("minigan/variants/conditional.py", "train"), ("minigan/judging/digits_features.py", "train_classifier"),
                     ("minigan/lab/worker.py", "run_commands"), ("minigan/gan/algorithm1.py", "train_step")]:
        assert expected in names  # the finder sees them (a finder that sees nothing would pass)
    bare = [(file, name, line) for file, name, line, covered in found if not covered and not _exempt(file, name)]
    assert bare == [], f"training loops outside the thread policy (minigan.threads): {bare}"
    lab = ast.parse((ROOT / "minigan/lab/worker.py").read_text())
    run = next(f for f in _functions(lab) if f.name == "run")
    assert _loops_under_a_with_policy(run), "the lab's worker loop (Lab.run) is not under threads.policy(...)"


def test_the_loops_step_under_an_acting_policy_when_they_run(two_cores, monkeypatch):
    """The same, at run time: every optimizer step and every threads.loop tick of each
    training function happens while a policy is acting."""
    from minigan.gradcheck import gradcheck
    from minigan.judging import digits_features
    from minigan.variants import conditional, dirac_gan, semi_supervised

    monkeypatch.setattr(threads, "_BLAS", FakeBlas(threads=2))
    ticks = []
    original = threads.tick
    monkeypatch.setattr(threads, "tick", lambda source: (ticks.append(threads._ACTIVE is not None), original(source)))
    digits = data.digits()
    runs = {
        "GAN.train": lambda: gan.build(gan.recipe("ring", steps=3, m=8)).train(3),
        "ConditionalGAN.train": lambda: conditional.ConditionalGAN(
            digits.images[:64], digits.labels[:64], m=8, g_hidden=(8,), d_hidden=(8,)).train(3),
        "semi_supervised.compare": lambda: semi_supervised.compare(steps=2, g_hidden=(8,), d_hidden=(8,), m=8),
        "train_classifier": lambda: digits_features.train_classifier(steps=3),
        "dirac_gan.alternating": lambda: dirac_gan.alternating(dirac_gan.DiracGAN(), steps=3),
        "gradcheck": lambda: gradcheck(lambda x: (x * x).sum(), [minigan.tensor([1.0, 2.0], dtype="float64",
                                                                               requires_grad=True)]),
    }
    for name, train in runs.items():
        ticks.clear()
        train()
        assert ticks and all(ticks), name
        assert threads._ACTIVE is None, name


def test_every_loop_a_tutorial_writes_runs_under_the_policy():
    """The tutorials' own loops that step a minigan optimizer are written ``for ... in threads.loop(...)``."""
    torch_only = {"ddp_ring_gan.py"}  # PyTorch's optimizers and threads, not NumPy's BLAS
    found = []
    for path in sorted((ROOT / "tutorials").glob("*.py")):
        tree = ast.parse(path.read_text())
        module = ast.FunctionDef(name="<module>", args=None, body=tree.body, decorator_list=[], returns=None,
                                 type_comment=None, lineno=1)
        for f in [*_functions(tree), module]:
            for loop in (n for n in _own_nodes(f) if isinstance(n, (ast.For, ast.While))):
                if _steps_directly(ast.Module(body=loop.body, type_ignores=[])) and path.name not in torch_only:
                    covered = _covered_function(f) or (isinstance(loop, ast.For) and _is_policy_call(loop.iter, "loop"))
                    found.append((path.name, loop.lineno, covered))
    assert {name for name, _, _ in found} >= {"04_layers_and_mlps.py", "05_the_minimax_game.py",
                                              "06_optimal_discriminator.py"}
    assert [(name, line) for name, line, covered in found if not covered] == []
