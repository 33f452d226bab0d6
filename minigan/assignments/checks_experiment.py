"""Checks for A4 (the experiment on the ring: the generator losses and k).

The student's process runs the copy's experiment functions (probes.run_ring, probes.compare);
the grader trains the same runs with its own minigan and compares the measurements, then
checks the outcomes the experiment is about (the non-saturating loss covers modes; the
minimax loss's gradient is weaker early; more discriminator steps push D(G(z)) down).
compare is graded on its own: it gets the grader's runs through run_ring, then tables of
runs the grader altered, so its findings must be computed from the runs.
"""
from __future__ import annotations

import numpy as np

from . import experiments
from .checks import expect


# ---- A4: the experiment -----------------------------------------------------------------------------
A4_RUN = {"form": "minimax", "k": 2, "steps": 120, "seed": 3, "early": 60}   # A4.1's run: not the defaults
A4_GRID_SEED = 1          # A4.2's grid (the findings hold on most seeds, with margin on this one)
A4_MODES_BOUND = 6        # the non-saturating run with k = 5 covers at least this many of the 8 modes
FLOAT_KEYS = ("high_quality_fraction", "early_d_fake", "early_g_grad_norm")


def reference_run_ring(form="non_saturating", k=1, steps=200, seed=0, early=100) -> dict:
    """A4.1 as the grader writes it: train with the grader's ``ring_config`` and measure."""
    from minigan import gan
    from minigan.gan import callbacks
    from minigan.judging import metrics

    config = experiments.ring_config(form, k, steps, seed)
    model = gan.build(config)
    history = callbacks.History()
    model.train(steps, callbacks=[history, *gan.schedules(config, model)])
    coverage = metrics.mode_coverage(model.generate(metrics.N_SAMPLES, seed=seed), model.p_data.centres,
                                     model.p_data.std)
    return {"form": form, "k": k, "steps": steps, "seed": seed, "modes_covered": int(coverage.modes_covered),
            "high_quality_fraction": float(coverage.high_quality_fraction),
            "early_d_fake": float(np.mean(np.asarray(history["d_fake"][:early]))),
            "early_g_grad_norm": float(np.mean(np.asarray(history["g_grad_norm"][:early])))}


def _scalar(value):
    """A number sent as a 0-d array (a NumPy scalar on the student's side) as a Python number."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return value.item()
    return value


def _expect_run(what: str, got, wanted: dict) -> None:
    """A run dict as run_ring documents it, with the grader's numbers."""
    expect(isinstance(got, dict), f"{what}: got {type(got).__name__}, wanted a dict")
    missing = [key for key in wanted if key not in got]
    expect(not missing, f"{what}: missing keys {missing}")
    for key in ("form", "k", "steps", "seed", "modes_covered"):
        value = _scalar(got[key])
        expect(type(value) is type(wanted[key]) and value == wanted[key],
               f"{what}: {key} is {value!r:.40}, wanted {wanted[key]!r}")
    for key in FLOAT_KEYS:
        value = _scalar(got[key])
        expect(isinstance(value, (float, int)) and not isinstance(value, bool) and np.isfinite(value),
               f"{what}: {key} is {value!r:.40}, wanted a finite number")
        expect(abs(value - wanted[key]) <= 1e-6 * max(1.0, abs(wanted[key])),
               f"{what}: {key} is {value:.6g}, wanted {wanted[key]:.6g} (see run_ring's docstring)")


def check_run_ring(student) -> str:
    args = dict(A4_RUN)
    got = student.run("run_ring", args=args)
    wanted = reference_run_ring(**args)
    _expect_run(f"run_ring({', '.join(f'{k}={v!r}' for k, v in args.items())})", got, wanted)
    return (f"run_ring's measurements equal the grader's for {args['form']}, k={args['k']}, "
            f"{args['steps']} steps (modes {wanted['modes_covered']}/8, early D(G(z)) {wanted['early_d_fake']:.3f})")


def findings_of(runs: dict) -> dict:
    """compare's three findings, computed by the grader from runs {(form, k): run}."""
    k1, k5 = experiments.K_VALUES
    ns, mm = experiments.FORMS
    return {
        "minimax_gradient_weaker": bool(runs[mm, k5]["early_g_grad_norm"] < runs[ns, k5]["early_g_grad_norm"]),
        "more_d_steps_lower_d_fake": all(runs[f, k5]["early_d_fake"] < runs[f, k1]["early_d_fake"]
                                         for f in experiments.FORMS),
        "non_saturating_covers_more": bool(runs[ns, k5]["modes_covered"] >= runs[mm, k5]["modes_covered"]),
    }


def altered_tables(runs: dict) -> list:
    """(what was changed, a copy of ``runs`` with it changed): tables on which the findings
    come out otherwise, each one false in turn, then ties, so only findings computed from
    the runs get every table right."""
    k1, k5 = experiments.K_VALUES
    ns, mm = experiments.FORMS

    def changed(values: dict) -> dict:
        table = {key: dict(run) for key, run in runs.items()}
        for (form, k, key), value in values.items():
            table[form, k][key] = value
        return table

    g_ns, g_mm = runs[ns, k5]["early_g_grad_norm"], runs[mm, k5]["early_g_grad_norm"]
    d1, d5 = runs[ns, k1]["early_d_fake"], runs[ns, k5]["early_d_fake"]
    return [
        ("minimax's gradient the stronger", changed({(ns, k5, "early_g_grad_norm"): min(g_ns, g_mm),
                                                     (mm, k5, "early_g_grad_norm"): max(g_ns, g_mm) + 0.1})),
        ("more D steps raising D(G(z))", changed({(ns, k1, "early_d_fake"): min(d1, d5),
                                                  (ns, k5, "early_d_fake"): max(d1, d5) + 0.01})),
        ("minimax covering more modes", changed({(ns, k5, "modes_covered"): 3, (mm, k5, "modes_covered"): 5})),
        ("ties", changed({(mm, k5, "early_g_grad_norm"): g_ns, (mm, k1, "early_d_fake"): 0.25,
                          (mm, k5, "early_d_fake"): 0.25, (ns, k5, "modes_covered"): 6, (mm, k5, "modes_covered"): 6})),
    ]


def check_compare(student) -> str:
    """A4.2 on its own: the grader trains the grid; the student's compare gets those runs
    through run_ring, then tables altered by the grader; its findings must follow the runs."""
    grid = [(form, k) for form in experiments.FORMS for k in experiments.K_VALUES]
    calls = {(form, k): reference_run_ring(form, k, experiments.STEPS, A4_GRID_SEED, experiments.EARLY)
             for form, k in grid}
    # the outcomes the experiment is about (on the grader's seed they hold with margin)
    for name, value in findings_of(calls).items():
        expect(value, f"the grid's outcome {name!r} did not come out (the library changed?)")
    k5 = experiments.K_VALUES[1]
    ns, mm = experiments.FORMS
    modes = calls[ns, k5]["modes_covered"]
    expect(modes >= A4_MODES_BOUND, f"the non-saturating run with k={k5} covered {modes}/8 modes, wanted >= "
                                    f"{A4_MODES_BOUND} (the library changed?)")
    for label, table in [("the grid", calls), *altered_tables(calls)]:
        what = "" if label == "the grid" else f" (on runs the grader altered: {label})"
        result = student.run("compare", steps=experiments.STEPS, seed=A4_GRID_SEED, runs=list(table.values()))
        expect(isinstance(result, dict) and {"runs", "findings"} <= set(result),
               "compare returned no dict with 'runs' and 'findings'")
        runs, findings = result["runs"], result["findings"]
        labels = ([(r.get("form"), r.get("k")) if isinstance(r, dict) else None for r in runs]
                  if isinstance(runs, list) else runs)
        expect(isinstance(runs, list) and len(runs) == len(grid) and set(labels) == set(grid),
               f"compare's runs are {labels!r:.200}, wanted one per (form, k) in {sorted(grid)}")
        for run in runs:
            _expect_run(f"compare's run {(run['form'], run['k'])}{what}", run, table[run["form"], run["k"]])
        truth = findings_of(table)   # from the runs compare returned: they equal the table's
        expect(isinstance(findings, dict) and set(findings) == set(truth),
               f"compare's findings have keys {sorted(findings) if isinstance(findings, dict) else findings!r}, "
               f"wanted {sorted(truth)}")
        for name, value in truth.items():
            expect(_scalar(findings[name]) is value,
                   f"finding {name!r} is {findings[name]!r:.40}, but the runs say {value}{what}: compute each "
                   "finding from the runs, as compare's docstring says")
    return (f"grid of {len(grid)} runs right; findings follow the runs on it and on {len(altered_tables(calls))} "
            f"altered tables (non-saturating k={k5}: {modes}/8 modes; |grad G| minimax "
            f"{calls[mm, k5]['early_g_grad_norm']:.3f} < non-saturating {calls[ns, k5]['early_g_grad_norm']:.3f})")
