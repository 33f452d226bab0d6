"""The BLAS thread policy: it keeps the faster count, notices a change, and gives the setting back."""
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
    """Drive the policy's hooks as GAN.train would; each step takes seconds_per_step(step, threads)."""
    clock = [0.0]
    policy.clock = lambda: clock[0]
    model = FakeGAN()
    policy.on_train_begin(model, steps)
    seen = []
    for step in range(1, steps + 1):
        clock[0] += seconds_per_step(step, blas.n)
        model.step = step
        policy.on_step(model, None)
        seen.append(blas.n)
    policy.on_train_end(model, True)
    return seen


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
