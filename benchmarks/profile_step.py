"""Where minigan's step spends its time: cProfile over Algorithm 1 iterations, by suspect.

    python benchmarks/train_step.py --profile                # toy, 300 iterations
    python benchmarks/train_step.py --profile --configs image --iters 40
    python benchmarks/profile_step.py --config toy --iters 300 --top 20

Runs ``gan.GAN.train_step()`` (the loop body of ``GAN.train``, its per-step record
included) under cProfile, on one BLAS thread and with the process's CPU time as the clock,
so other programs on a shared machine change the figures less. It prints first the plain
CPU time per iteration of minigan and of the hand-written step (no profiler), then the
inclusive time of each suspect as a share of the profiled step, then the functions with
the most time of their own.

The profiler adds a fixed cost to every Python call, so the shares of the call-heavy
suspects (Tensor creation, graph bookkeeping) come out larger than they are: read them as
"where to look", and measure a change with ``train_step.py`` (interleaved), not here.
NumPy's ufuncs are not Python calls: a matrix product's time is counted in the op that
calls it (``MatMul.forward`` / ``backward``), which is the array math itself.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.reference_numpy import CONFIGS, GANStep

# Each function's own time goes to one suspect, by where it is defined (first match wins); the
# time of Python builtins and of NumPy's Python wrappers (np.sum, np.mean) goes to the minigan
# function that called them. So the shares add up to 100%.
SUSPECTS = [
    ("the per-step record (GAN.record)", lambda f, n: f.endswith("gan/algorithm1.py") and n in ("record", "mean_output",
                                                                                                 "mean_probability")),
    ("sampling minibatches", lambda f, n: (f.endswith("gan/algorithm1.py") and n == "sample") or "/data/" in f
     or (f.endswith("backend.py") and n in ("normal", "integers", "uniform", "_draw"))),
    ("unbroadcast (the VJP of broadcasting)", lambda f, n: n == "unbroadcast"),
    ("dtype and type checks (is_float, backend.check, check_input)",
     lambda f, n: n in ("is_float", "check", "check_input", "check_data")),
    ("Adam (its array math included)", lambda f, n: f.endswith("optim.py")),
    ("graph bookkeeping (order, wanted set, seeds, the walk)",
     lambda f, n: f.endswith("backprop.py") or n in ("topological_order", "backward") and f.endswith("autograd.py")),
    ("the ops' forward and backward (the array math)", lambda f, n: ("/ops/" in f or "/losses/" in f)
     and (n in ("forward", "backward") or n.startswith("sigmoid") or n.startswith("_sigmoid") or n == "_expand")),
    ("Tensor creation and op dispatch (apply, Tensor, Context, _pair)",
     lambda f, n: f.endswith("autograd.py") or "/ops/" in f or "/losses/" in f),
    ("modules and layers (Module.__call__, Linear.forward, ...)", lambda f, n: "/nn/" in f),
    ("the trainer (train_step, discriminator_step, update, ...)", lambda f, n: "/gan/" in f),
]
OTHER = "other"


def suspect_of(file: str, name: str) -> str:
    for suspect, matches in SUSPECTS:
        if matches(file, name):
            return suspect
    return OTHER


def own_times(stats) -> dict:
    """{(file, name): own seconds} for minigan's functions, each with the own time of the
    builtins and NumPy wrappers it called (passed up the callers until a minigan function)."""
    own, pending = {}, {}
    for key, (_, _, tottime, _, _) in stats.stats.items():
        (own if "/minigan/" in key[0] else pending)[key] = tottime
    for _ in range(20):  # a wrapper calling a wrapper: pass the time up a few levels
        if not pending:
            break
        passed = {}
        for key, seconds in pending.items():
            callers = stats.stats[key][4]  # caller -> (calls, primitive calls, own time, inclusive time)
            weight = sum(c[2] for c in callers.values()) or 1.0
            for caller, c in callers.items():
                share = seconds * (c[2] / weight if weight else 1.0 / len(callers))
                if "/minigan/" in caller[0]:
                    own[caller] = own.get(caller, 0.0) + share
                else:
                    passed[caller] = passed.get(caller, 0.0) + share
        pending = passed
    by_name = {}  # several functions of one file share a name (each op's forward): add them up
    for (file, _, name), seconds in own.items():
        key = (file.replace("\\", "/"), name)
        by_name[key] = by_name.get(key, 0.0) + seconds
    return by_name


def cpu_ms_per_iter(step, iters: int) -> float:
    start = time.process_time()
    for _ in range(iters):
        step()
    return (time.process_time() - start) / iters * 1000.0


def profile(config_name: str = "toy", iters: int = 300, top: int = 15, out=print) -> dict:
    """Profile ``iters`` minigan iterations of ``config_name``; print the tables; return the shares."""
    from threadpoolctl import threadpool_limits

    from benchmarks.train_step import MiniganStep

    config = CONFIGS[config_name]
    with threadpool_limits(limits=1, user_api="blas"):
        minigan_step, reference = MiniganStep(config), GANStep(config)
        for _ in range(10):  # warm-up: first-call costs out of the way
            minigan_step.step()
            reference.step()
        plain = {"minigan": cpu_ms_per_iter(minigan_step.step, iters), "reference": cpu_ms_per_iter(reference.step, iters)}
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(iters):
            minigan_step.step()
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    shares = {suspect: 0.0 for suspect, _ in SUSPECTS}
    shares[OTHER] = 0.0
    for (file, name), seconds in own_times(stats).items():
        shares[suspect_of(file, name)] += seconds / total
    shares[OTHER] = 1.0 - sum(v for k, v in shares.items() if k != OTHER)  # the benchmark's loop, the profiler's
    out(f"config {config_name}, {iters} iterations, one BLAS thread, CPU time")
    out(f"without the profiler: minigan {plain['minigan']:.3f} ms/iter, hand-written reference "
        f"{plain['reference']:.3f} ms/iter (minigan/reference {plain['reference'] / plain['minigan']:.2f})")
    out(f"with the profiler: {total / iters * 1000:.3f} ms/iter, shared out as")
    for suspect, share in sorted(shares.items(), key=lambda item: -item[1]):
        out(f"  {share:6.1%}  {suspect}")
    out("")
    out(f"the {top} functions with the most time of their own (builtins on their own lines here):")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (file, line, name), (_, primitive, tottime, inclusive, _) in rows:
        where = file.split("/minigan/")[-1] if "/minigan/" in file else Path(file).name
        out(f"  {tottime / total:6.1%} own  {inclusive / total:6.1%} incl  {primitive / iters:7.1f}/iter  "
            f"{where}:{line}({name})")
    return {"plain_ms_per_iter": plain, "shares": shares}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="toy", choices=sorted(CONFIGS))
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    if args.iters < 1 or args.top < 1:
        parser.error(f"--iters and --top: got {args.iters} and {args.top}, wanted positive integers")
    profile(args.config, args.iters, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
