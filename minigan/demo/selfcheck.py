"""Does minigan work here? ``python -m minigan.demo.selfcheck --backend cupy`` answers for a GPU.

    python -m minigan.demo.selfcheck --backend cupy     # the GPU: is CuPy set up, are results right, is it fast?
    python -m minigan.demo.selfcheck --backend numpy    # the same checks on the CPU
    python -m minigan.demo.selfcheck --quick            # a shorter demo and timing (seconds)

What it runs, on the chosen backend, and prints as one table:

1. gradients  every op, loss and layer of minigan/demo/selfcheck_ops.py against central
              finite differences, in float64 (minigan.gradcheck);
2. one step   one seeded Algorithm 1 iteration (Adam, non-saturating loss) in float64 on
              numpy and on the backend, the same weights and minibatches drawn on the host:
              losses and every updated parameter must agree to 1e-5;
3. demo       a short run of the ring recipe (``gan.recipe("ring")``) with modes covered;
4. speed      iterations per second of the benchmark configs (toy and image, float32) on
              numpy and on the backend; from a minigan checkout, also the full comparison
              of benchmarks/train_step.py (hand-written NumPy, PyTorch when installed).

Where there is no usable GPU, ``--backend cupy`` says so and exits with status 0: nothing
is wrong with minigan, there is just nothing to check. Status 1 means a check failed.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from minigan import data, gan, nn, optim

from minigan.judging import metrics
from minigan.demo.selfcheck_ops import CASES, draw
from minigan.autograd import Tensor
from minigan.backend import BackendUnavailable, get_backend
from minigan.gradcheck import GradcheckError, gradcheck

STEP_TOLERANCE = 1e-5  # numpy and the backend must agree this closely after one float64 step

# The benchmark configs of benchmarks/train_step.py (tests/test_benchmarks.py keeps them equal).
SPEED_CONFIGS = {
    "toy": dict(noise_dim=2, g_sizes=[2, 128, 128, 2], g_activation="relu", g_output=None,
                d_sizes=[2, 128, 128, 1], d_activation="leaky_relu", m=256),
    "image": dict(noise_dim=100, g_sizes=[100, 256, 512, 784], g_activation="leaky_relu", g_output="tanh",
                  d_sizes=[784, 512, 256, 1], d_activation="leaky_relu", m=128),
}


@dataclass
class Row:
    check: str
    result: str      # "ok" | "FAIL" | "skip"
    detail: str
    seconds: float = 0.0


# ---- 1. gradients ---------------------------------------------------------------------------------
def check_gradients(backend, seed: int = 0) -> list:
    """One row per failing case, then a summary row."""
    rng = backend.random(seed)
    rows, failed = [], 0
    start = time.perf_counter()
    for case in CASES:
        inputs = [Tensor(draw(rng, shape, case.kind(i)), backend, requires_grad=True)
                  for i, shape in enumerate(case.shapes)]
        try:
            gradcheck(case.fn, inputs)
        except (GradcheckError, TypeError, ValueError) as error:
            failed += 1
            rows.append(Row(f"gradient {case.name}", "FAIL", str(error)))
    seconds = time.perf_counter() - start
    passed = len(CASES) - failed
    rows.append(Row("gradients (float64)", "ok" if not failed else "FAIL",
                    f"{passed} of {len(CASES)} ops, losses and layers match finite differences", seconds))
    return rows


# ---- 2. one training step on numpy and on the backend -----------------------------------------------
class Replay:
    """A stand-in for p_data or p_z that hands out the given minibatches in turn."""

    def __init__(self, *batches):
        self.batches = list(batches)

    def sample(self, m, rng):
        return self.batches.pop(0)


def one_step(backend, x_host, z_host, z2_host, seed: int) -> dict:
    """One float64 Algorithm 1 iteration from seeded weights; every number back on the host."""
    rng = backend.random(seed)  # the weights: host draws, the same on every backend
    G = nn.MLP([8, 64, 64, 16], "relu", "tanh", rng=rng, backend=backend, dtype="float64")
    D = nn.MLP([16, 64, 64, 1], "leaky_relu", rng=rng, backend=backend, dtype="float64")
    opt_G, opt_D = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    x, z, z2 = (backend.asarray(h) for h in (x_host, z_host, z2_host))
    model = gan.GAN(G, D, Replay(x), Replay(z, z2), opt_G, opt_D, m=len(x_host), loss="non_saturating", rng=rng)
    loss_D, _, _ = model.discriminator_step()   # Algorithm 1's own steps, so a blank A3.1 or A3.2 fails here too
    loss_G = model.generator_step()
    out = {"loss_D": loss_D.numpy(), "loss_G": loss_G.numpy()}
    out.update({f"G.{k}": v for k, v in G.state_dict().items()})
    out.update({f"D.{k}": v for k, v in D.state_dict().items()})
    return out


def compare_step(backend, seed: int = 0) -> Row:
    start = time.perf_counter()
    host = np.random.default_rng(seed)  # the minibatches, drawn once on the host
    x, z, z2 = host.uniform(-1, 1, (64, 16)), host.normal(size=(64, 8)), host.normal(size=(64, 8))
    expected = one_step(get_backend("numpy"), x, z, z2, seed)
    got = one_step(backend, x, z, z2, seed)
    worst_name, worst = max(((k, float(np.max(np.abs(got[k] - expected[k])))) for k in expected), key=lambda p: p[1])
    ok = worst <= STEP_TOLERANCE
    detail = (f"numpy vs {backend.name}: losses and {len(expected) - 2} updated parameters, "
              f"largest difference {worst:.1e} ({worst_name}), tolerance {STEP_TOLERANCE:g}")
    return Row("one step (float64)", "ok" if ok else "FAIL", detail, time.perf_counter() - start)


# ---- 3. a short demo ----------------------------------------------------------------------------------
def demo(backend, steps: int, seed: int = 0) -> Row:
    config = gan.recipe("ring", backend=backend.name, steps=steps, seed=seed)
    model = gan.build(config)
    start = time.perf_counter()
    try:
        model.train(steps, callbacks=gan.schedules(config, model))
    except gan.TrainingDiverged as error:
        return Row("demo (ring)", "FAIL", f"training diverged: {error}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    samples = model.generate(metrics.N_SAMPLES, seed=seed)
    coverage = metrics.mode_coverage(samples, model.p_data.centres, model.p_data.std)
    ok = bool(np.all(np.isfinite(samples)))
    detail = (f"{steps} iterations at {steps / seconds:.0f} it/s; {coverage.modes_covered} of "
              f"{coverage.modes_total} modes, {coverage.high_quality_fraction:.0%} high quality "
              f"(the full recipe runs {gan.recipe('ring').steps} iterations)")
    return Row("demo (ring)", "ok" if ok else "FAIL", detail, seconds)


# ---- 4. speed -------------------------------------------------------------------------------------------
def build_speed_gan(name: str, backend, seed: int = 0) -> gan.GAN:
    """minigan's trainer on a benchmark config (random images in [-1, 1] stand in for MNIST)."""
    c = SPEED_CONFIGS[name]
    rng = backend.random(seed)
    G = nn.MLP(c["g_sizes"], c["g_activation"], c["g_output"], rng=rng, backend=backend)
    D = nn.MLP(c["d_sizes"], c["d_activation"], rng=rng, backend=backend)
    if name == "toy":
        p_data = data.ring()
    else:
        images = 2.0 * np.random.default_rng(1234).random((4096, 784), dtype=np.float32) - 1.0
        p_data = data.ImageDataset(images, np.zeros(4096, np.int64), (28, 28), name="random_images")
    return gan.GAN(G, D, p_data, data.normal_noise(c["noise_dim"]), optim.Adam(G.parameters()),
                   optim.Adam(D.parameters()), k=1, m=c["m"], rng=rng)


def iterations_per_second(model: gan.GAN, seconds: float) -> float:
    """Run train_step for about ``seconds`` (after 3 warm-up steps) under the trainer's thread
    policy, as GAN.train runs it; reading a loss syncs a GPU."""
    policy = model.thread_policy
    policy.on_train_begin(model, 0)
    try:
        for _ in range(3):
            record = model.train_step()
        float(record.g_loss)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            record = model.train_step()
            policy.on_step(model, record)
            count += 1
            if count % 10 == 0:
                float(record.g_loss)
        float(record.g_loss)
        return count / (time.perf_counter() - start)
    finally:
        policy.on_train_end(model, True)


def speed(backend, seconds: float) -> list:
    rows = []
    for name in SPEED_CONFIGS:
        start = time.perf_counter()
        on_cpu = iterations_per_second(build_speed_gan(name, get_backend("numpy")), seconds)
        detail = f"numpy {on_cpu:.1f} it/s"
        if backend.name != "numpy":
            on_backend = iterations_per_second(build_speed_gan(name, backend), seconds)
            detail += f", {backend.name} {on_backend:.1f} it/s ({on_backend / on_cpu:.2f}x numpy)"
        rows.append(Row(f"speed ({name}, float32)", "ok", detail, time.perf_counter() - start))
    return rows


def full_benchmark(backend, repeats: int):
    """benchmarks/train_step.py's table, when run from a minigan checkout (else None)."""
    try:
        from benchmarks import train_step
    except ImportError:
        return None
    result = train_step.run(list(SPEED_CONFIGS), backend.name, repeats=repeats)
    return train_step.format_table(result)


# ---- the report ---------------------------------------------------------------------------------------
def format_rows(rows) -> str:
    width = max(len(r.check) for r in rows)
    lines = [f"{'check':<{width}}  result  seconds  detail", "-" * (width + 40)]
    for r in rows:
        lines.append(f"{r.check:<{width}}  {r.result:<6}  {r.seconds:7.2f}  {r.detail}")
    return "\n".join(lines)


def describe(backend) -> str:
    xp = backend.xp
    return f"backend {backend.name!r}: {xp.__name__} {getattr(xp, '__version__', '')}".rstrip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigan.demo.selfcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="auto", choices=["numpy", "cupy", "auto"],
                        help="what to check (auto: cupy when a GPU is usable, else numpy)")
    parser.add_argument("--quick", action="store_true", help="a 100-iteration demo, 1 s timings, no full benchmark")
    parser.add_argument("--demo-steps", type=int, default=None, help="iterations of the demo (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the full benchmark")
    parser.add_argument("--no-benchmark", action="store_true", help="skip benchmarks/train_step.py")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        backend = get_backend(args.backend)
    except BackendUnavailable as error:
        print(f"No GPU to check here: {error}")
        print("Nothing is wrong with minigan; run `python -m minigan.demo.selfcheck --backend numpy` to check the CPU.")
        return 0
    demo_steps = args.demo_steps or (100 if args.quick else 1000)
    if demo_steps < 1 or args.repeats < 1:
        parser.error("--demo-steps and --repeats: wanted positive integers")
    print(f"minigan self-check, {describe(backend)}", flush=True)
    rows = check_gradients(backend, args.seed)
    rows.append(compare_step(backend, args.seed))
    rows.append(demo(backend, demo_steps, args.seed))
    rows += speed(backend, 1.0 if args.quick else 3.0)
    print(format_rows(rows), flush=True)
    if not (args.quick or args.no_benchmark):
        table = full_benchmark(backend, args.repeats)
        if table is not None:
            print("\nbenchmarks/train_step.py:\n" + table)
    failed = [r.check for r in rows if r.result == "FAIL"]
    print("\nall checks passed" if not failed else f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
