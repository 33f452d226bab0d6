"""How exact are sigmoid, softplus and log_sigmoid in float32? The old tanh forms against the new.

    python benchmarks/sigmoid_accuracy.py                    # numpy and strict backends
    python benchmarks/sigmoid_accuracy.py --backend cupy     # on the GPU
    python benchmarks/sigmoid_accuracy.py --points 20001 --json

The grid: float32 x over [-88, 88], evenly spaced (``--points``), plus as many random
float32 bit patterns in that range, so that tiny |x| (1e-30, say) are in it too. For each
function f and its derivative f', the table gives the largest relative error
|got - true| / |true| over the grid, where ``true`` is f(x) in float64 at the same float32
x, counted wherever the true value is a normal float32 (|true| >= 2**-126 = 1.2e-38;
subnormal results, e.g. sigmoid(-88) = 6e-39, carry fewer bits by definition).

- "old": the forms minigan used before issue 13, written out below: sigmoid as
  0.5 * (tanh(x / 2) + 1) with backward y * (1 - y), and that tanh form of sigmoid in the
  backward of softplus and log_sigmoid; losses._sigmoid as exp(-softplus(-a)).
- "new": minigan itself: ops.sigmoid / softplus / log_sigmoid forward and backward through
  Tensors on the backend, and losses._sigmoid.

The float64 references use the exp(-|x|) and logaddexp forms, whose own error (about
1e-16) is far below float32's rounding (6e-8). Exit status 1 when a new form misses the
target (2e-6), warns (overflow, invalid, divide) or is not finite at x = +-1e4.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minigan  # noqa: E402
from minigan import losses, ops  # noqa: E402

TARGET = 2e-6  # the largest relative error allowed for the new forms
TINY = float(np.finfo(np.float32).tiny)  # 2**-126, the smallest normal float32


# ---- float64 references -----------------------------------------------------------------
def sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


REFERENCE = {  # name -> (f, f') in float64
    "sigmoid": (sigmoid64, lambda x: sigmoid64(x) * sigmoid64(-x)),
    "softplus": (lambda x: np.logaddexp(x, 0.0), sigmoid64),
    "log_sigmoid": (lambda x: -np.logaddexp(-x, 0.0), lambda x: sigmoid64(-x)),
    "losses._sigmoid": (sigmoid64, None),
}


# ---- the old forms, as they were -----------------------------------------------------------
def tanh_sigmoid(xp, x):
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def old(name, xp, x):
    """(forward, backward with grad_y = 1) of the form minigan used before issue 13."""
    if name == "sigmoid":
        y = tanh_sigmoid(xp, x)
        return y, y * (1.0 - y)
    if name == "softplus":
        return xp.logaddexp(x, 0.0), tanh_sigmoid(xp, x)
    if name == "log_sigmoid":
        return -xp.logaddexp(-x, 0.0), tanh_sigmoid(xp, -x)
    return xp.exp(-xp.logaddexp(-x, 0.0)), None  # losses._sigmoid


def new(name, backend, x):
    """(forward, backward with grad_y = 1) of minigan as it is now."""
    if name == "losses._sigmoid":
        return losses._sigmoid(backend.xp, x), None
    t = minigan.Tensor(x, backend, requires_grad=True)
    y = getattr(ops, name)(t)
    y.backward(backend.xp.ones_like(x))
    return y.data, t.grad


# ---- measuring -------------------------------------------------------------------------------
def grid(points: int, seed: int = 0) -> np.ndarray:
    """Evenly spaced float32 in [-88, 88] plus random float32 bit patterns of |x| <= 88."""
    even = np.linspace(-88.0, 88.0, points).astype(np.float32)
    bits = np.random.default_rng(seed).integers(0, 2**32, size=4 * points, dtype=np.uint64).astype(np.uint32)
    spread = bits.view(np.float32)
    spread = spread[np.isfinite(spread) & (np.abs(spread) <= 88.0)][:points]
    return np.concatenate([even, spread, np.float32([0.0, -0.0])])


def worst(got, true, x):
    """The largest relative error where the true value is a normal float32, and its x."""
    got = np.asarray(got, dtype=np.float64)
    counted = np.abs(true) >= TINY
    error = np.where(counted, np.abs(got - true) / np.where(counted, np.abs(true), 1.0), 0.0)
    i = int(np.argmax(error))
    return float(error[i]), float(x[i])


def measure(backend_name: str, points: int) -> dict:
    """{function: {"old"/"new": {"forward"/"backward": [max rel error, at x]}}} on one backend."""
    backend = minigan.get_backend(backend_name)
    host = grid(points)
    x64 = host.astype(np.float64)
    x = backend.asarray(host)
    table = {}
    for name, (f, df) in REFERENCE.items():
        row = {}
        for form in ("old", "new"):
            with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
                warnings.simplefilter("error")
                y, grad = old(name, backend.xp, x) if form == "old" else new(name, backend, x)
            row[form] = {"forward": worst(backend.to_host(y), f(x64), x64)}
            if df is not None:
                row[form]["backward"] = worst(backend.to_host(grad), df(x64), x64)
        table[name] = row
    return table


def extremes(backend_name: str) -> dict:
    """The new forms' values and gradients at x = -1e4 and 1e4, with no warning allowed."""
    backend = minigan.get_backend(backend_name)
    host = np.float32([-1e4, 1e4])
    out = {}
    for name in ("sigmoid", "softplus", "log_sigmoid"):
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
            warnings.simplefilter("error")
            y, grad = new(name, backend, backend.asarray(host))
        out[name] = {"value": backend.to_host(y).tolist(), "grad": backend.to_host(grad).tolist()}
    return out


def failures(table: dict, ends: dict) -> list:
    bad = [f"{name} {way}: {error:.2e} at x = {at:g}" for name, row in table.items()
           for way, (error, at) in row["new"].items() if not error <= TARGET]
    for name, (f, df) in list(REFERENCE.items())[:3]:
        x = np.array([-1e4, 1e4])
        value, grad = np.array(ends[name]["value"]), np.array(ends[name]["grad"])
        if not (np.all(np.isfinite(value)) and np.allclose(value, f(x), rtol=1e-6, atol=0)
                and np.allclose(grad, df(x), rtol=1e-6, atol=0)):
            bad.append(f"{name} at +-1e4: got {ends[name]}")
    return bad


def print_table(backend_name: str, points: int, table: dict, ends: dict) -> None:
    print(f"backend {backend_name}: float32, {2 * points + 2:,} points in [-88, 88]; "
          f"max relative error against float64 where the true value is a normal float32")
    print(f"{'function':<17} {'':<9} {'old':>9} {'at x':>9} {'new':>9} {'at x':>9}")
    for name, row in table.items():
        for way in row["new"]:
            (old_error, old_at), (new_error, new_at) = row["old"][way], row["new"][way]
            print(f"{name:<17} {way:<9} {old_error:>9.2e} {old_at:>9.4g} {new_error:>9.2e} {new_at:>9.4g}")
    for name, end in ends.items():
        print(f"at x = -1e4, 1e4: {name:<12} value {end['value']}  grad {end['grad']}")
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["numpy", "strict", "cupy"],
                        help="backend to measure (repeat for several; default numpy and strict)")
    parser.add_argument("--points", type=int, default=2_000_001, help="evenly spaced points (and as many random)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    args = parser.parse_args(argv)
    results, bad = {}, []
    for name in args.backend or ["numpy", "strict"]:
        table, ends = measure(name, args.points), extremes(name)
        results[name] = {"table": table, "extremes": ends}
        bad += [f"{name}: {line}" for line in failures(table, ends)]
        if not args.json:
            print_table(name, args.points, table, ends)
    if args.json:
        print(json.dumps({"points": args.points, "target": TARGET, "backends": results, "failures": bad}))
    for line in bad:
        print(f"MISSED the {TARGET:g} target: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
