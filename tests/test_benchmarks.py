"""The benchmarks' baseline is right, the scripts run, and the self-check can fail.

- benchmarks/reference_numpy.py (hand-written backward and Adam) must give the same
  gradients and updates as minigan's autograd and optim, in float64;
- benchmarks/train_step.py and memory.py run in a tiny smoke setting and print JSON
  (no timing is asserted: speed is measured by the benchmarks, not by tests);
- ``python -m minigan.demo.selfcheck`` passes on numpy, exits cleanly without a GPU, and
  reports a wrong derivative when one is planted.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigan
from minigan import losses, nn, optim
from minigan.demo import selfcheck
from minigan.autograd import Tensor

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmarks/ is not installed with minigan

from benchmarks.reference_numpy import CONFIGS, Adam, Config, GANStep  # noqa: E402

# small float64 configs that still use every activation of the real ones
SMALL = [
    Config("small_toy", "ring", 3, (3, 16, 16, 2), "relu", None, (2, 16, 16, 1), "leaky_relu", 32),
    Config("small_image", "images", 5, (5, 12, 20, 30), "leaky_relu", "tanh", (30, 20, 12, 1), "leaky_relu", 16),
]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # fast on a busy 2-core machine


def minigan_copy(step: GANStep, backend="numpy"):
    """minigan MLPs holding the reference networks' float64 weights."""
    c = step.config
    G = nn.MLP(list(c.g_sizes), c.g_activation, c.g_output, backend=backend, dtype="float64")
    D = nn.MLP(list(c.d_sizes), c.d_activation, backend=backend, dtype="float64")
    for net, ref in ((G, step.G), (D, step.D)):
        names = [name for name, _ in net.named_parameters()]
        net.load_state_dict(dict(zip(names, ref.params)))
    return G, D


def grads_of(module):
    return [p.grad for p in module.parameters()]


@pytest.mark.parametrize("config", SMALL, ids=lambda c: c.name)
def test_reference_gradients_match_minigan_autograd(config):
    step = GANStep(config, seed=3, dtype=np.float64)
    G, D = minigan_copy(step)
    x, z, z2 = step.sample_x(config.m), step.sample_z(config.m), step.sample_z(config.m)

    # discriminator step: L_D = -V
    ref_loss, ref_grads = step.discriminator_gradients(x, z)
    loss = losses.discriminator_loss(D(Tensor(x, G.backend)), D(G(Tensor(z, G.backend)).detach()))
    loss.backward()
    assert loss.item() == pytest.approx(float(ref_loss), rel=1e-12)
    for ours, theirs in zip(grads_of(D), ref_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert all(p.grad is None for p in G.parameters())  # detach kept G out of it

    # generator step, non-saturating: L_G = -mean log D(G(z))
    D.zero_grad()
    ref_loss, ref_grads = step.generator_gradients(z2)
    loss = losses.generator_loss(D(G(Tensor(z2, G.backend))), form="non_saturating")
    loss.backward()
    assert loss.item() == pytest.approx(float(ref_loss), rel=1e-12)
    for ours, theirs in zip(grads_of(G), ref_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_reference_adam_matches_minigan_adam():
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(4, 3)), rng.normal(size=(3,))]
    ours = [minigan.tensor(p.copy(), requires_grad=True, dtype="float64") for p in start]
    theirs = [p.copy() for p in start]
    opt, ref = optim.Adam(ours, lr=1e-2, betas=(0.5, 0.999)), Adam(theirs, lr=1e-2, betas=(0.5, 0.999))
    for _ in range(5):
        grads = [rng.normal(size=p.shape) for p in start]
        for p, g in zip(ours, grads):
            p.grad = g
        opt.step()
        ref.step(grads)
    for p, q, s in zip(ours, theirs, start):
        assert not np.allclose(q, s)  # it moved
        np.testing.assert_allclose(p.numpy(), q, rtol=1e-12, atol=1e-14)


def test_reference_step_keeps_float32_and_changes_parameters():
    step = GANStep(CONFIGS["toy"], seed=0)
    before = [p.copy() for p in step.G.params + step.D.params]
    loss_D, loss_G = step.step()
    assert np.isfinite(loss_D) and np.isfinite(loss_G)
    after = step.G.params + step.D.params
    assert all(p.dtype == np.float32 for p in after)
    assert all(not np.array_equal(a, b) for a, b in zip(after, before))


def test_selfcheck_configs_are_the_benchmark_configs():
    for name, config in CONFIGS.items():
        c = selfcheck.SPEED_CONFIGS[name]
        assert (c["noise_dim"], tuple(c["g_sizes"]), c["g_activation"], c["g_output"], tuple(c["d_sizes"]),
                c["d_activation"], c["m"]) == (config.noise_dim, config.g_sizes, config.g_activation,
                                               config.g_output, config.d_sizes, config.d_activation, config.m)


def run_script(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=REPO, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def test_train_step_smoke_prints_every_figure_as_json():
    done = run_script("benchmarks/train_step.py", "--repeats", "1", "--iters", "1", "--warmup", "0", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    has_torch = "torch" in result["machine"]
    assert result["machine"]["blas"] and len(result["machine"]["loadavg_before"]) == 3
    for name in ("toy", "image"):
        figures = result["configs"][name]
        variants = {"minigan", "no-policy", "reference"} | ({"torch", "torch-frozen"} if has_torch else set())
        assert set(figures["median_iters_per_s"]) == variants
        assert all(speed > 0 for speed in figures["median_iters_per_s"].values())
        wanted = {"minigan/reference", "minigan/no-policy"} | ({"minigan/torch", "reference/torch", "minigan/torch-frozen",
                                                               "reference/torch-frozen"} if has_torch else set())
        assert set(figures["ratios"]) == wanted
        speeds = figures["median_iters_per_s"]
        assert figures["ratios"]["minigan/reference"] == pytest.approx(speeds["minigan"] / speeds["reference"])


def test_train_step_busy_ends_its_busy_loop():
    before = _spinning()   # busy loops of other programs on this machine are theirs, not a leak
    done = run_script("benchmarks/train_step.py", "--busy", "--configs", "toy", "--repeats", "1", "--iters", "2",
                      "--warmup", "0", "--no-torch", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["settings"]["busy"] is True
    assert _spinning() <= before


def test_profile_shares_out_the_whole_step():
    done = run_script("benchmarks/train_step.py", "--profile", "--configs", "toy", "--iters", "3")
    assert done.returncode == 0, done.stderr
    shares = [line for line in done.stdout.splitlines() if line.startswith("  ") and "%  " in line[:10]]
    named = {line.split("%", 1)[1].strip() for line in shares}
    from benchmarks.profile_step import SUSPECTS
    assert {name for name, _ in SUSPECTS} <= named | {"other"}  # every suspect has its line
    assert sum(float(line.split("%")[0]) for line in shares) == pytest.approx(100.0, abs=0.5)


def test_busy_script_times_each_loop_busy_and_quiet_and_ends_its_busy_loop():
    before = _spinning()
    done = run_script("benchmarks/busy.py", "--loops", "tutorial06", "--repeats", "1", "--seconds", "0.05", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["loops"]
    assert set(result) == {"tutorial06 (policy)", "tutorial06 (no-policy)"}
    for figures in result.values():
        assert figures["quiet_iters_per_s"] > 0 and figures["busy_iters_per_s"] > 0
        assert figures["busy_over_quiet"] == pytest.approx(figures["quiet_iters_per_s"] / figures["busy_iters_per_s"])
    assert _spinning() <= before


def _spinning() -> set:
    """The pids of the busy loops running now (``python -c "while True: pass"``); empty without /proc."""
    found = set()
    for pid in (p for p in os.listdir("/proc") if p.isdigit()) if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if file.read().endswith(b"-c\0while True: pass\0"):
                    found.add(pid)
        except OSError:
            pass
    return found


def test_busy_script_refuses_an_unknown_loop():
    done = run_script("benchmarks/busy.py", "--loops", "tutorial06,cifar")
    assert done.returncode == 2 and "--loops: got" in done.stderr


def test_train_step_refuses_an_unknown_config():
    done = run_script("benchmarks/train_step.py", "--configs", "toy,cifar")
    assert done.returncode == 2 and "--configs" in done.stderr


def test_memory_script_reports_both_lengths():
    done = run_script("benchmarks/memory.py", "--lengths", "2,4", "--json")
    result = json.loads(done.stdout)
    assert [r["iters"] for r in result["runs"]] == [2, 4]
    assert all(r["peak_rss_mib"] > 10 for r in result["runs"])
    assert done.returncode == (0 if result["ok"] else 1)


def test_selfcheck_passes_on_numpy():
    done = run_script("-m", "minigan.demo.selfcheck", "--backend", "numpy", "--quick")
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("gradients (float64)", "one step (float64)", "demo (ring)", "speed (toy, float32)"):
        assert check in done.stdout
    assert "all checks passed" in done.stdout and "FAIL" not in done.stdout


@pytest.mark.skipif(minigan.gpu_available(), reason="a GPU is here: the cupy self-check would really run")
def test_selfcheck_without_a_gpu_says_so_and_exits_cleanly():
    done = run_script("-m", "minigan.demo.selfcheck", "--backend", "cupy")
    assert done.returncode == 0
    assert "No GPU" in done.stdout and "Traceback" not in done.stderr


def test_selfcheck_checks_pass_across_libraries_on_the_strict_backend():
    strict = minigan.get_backend("strict")
    rows = selfcheck.check_gradients(strict)
    assert [r.result for r in rows] == ["ok"]
    assert selfcheck.compare_step(strict).result == "ok"


def test_selfcheck_reports_a_planted_wrong_derivative(monkeypatch):
    from minigan import ops

    monkeypatch.setattr(ops.Tanh, "backward", staticmethod(lambda ctx, grad_y: grad_y))  # forgets 1 - y^2
    rows = selfcheck.check_gradients(minigan.get_backend("numpy"))
    failed = {r.check for r in rows if r.result == "FAIL"}
    assert {"gradient tanh", "gradient mlp", "gradients (float64)"} <= failed
