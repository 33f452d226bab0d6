"""The lab's "Save run": a run folder like the demo's, which ``gan.resume`` loads.

    out/run-NNN/  run.json, history.csv, checkpoint.npz, metrics.json, losses.png,
                  discriminator.png, samples.png, training.gif

The folder is always a new one made by ``folders.new_run_folder(out)``: the page cannot name a
path, so a save writes only under the lab's ``--out``.

    model = gan.resume("minigan-lab-runs/run-001/checkpoint.npz")   # any data, drawn points included
    model = lab.saving.resume("minigan-lab-runs/run-001")           # the same, by folder

A drawn run's config is GANConfig's dataset "points", holding the points, so the checkpoint
alone gives G, D, both optimizers, the generator's state and p_data exactly.
"""
from __future__ import annotations

import contextlib
import json
import os

from minigan import gan

from minigan.gan import checkpoint

from minigan.judging import metrics

from minigan.judging import results

from minigan.runs import folders
from minigan.lab.settings import mode_centres

COMMAND = "minigan lab (save run)"


def save_run(model, settings, columns: dict, snapshots: list, out: str) -> str:
    """Write ``model`` (at its step, with its ``columns`` of history) into a new folder under ``out``."""
    if not columns["step"]:                 # the figures draw the history: it needs a row
        raise ValueError(f"save: got a run at iteration {model.step} with no history, wanted at least one "
                         f"iteration first (press play or one iteration)")
    try:                                    # the state first: a refused save leaves no folder behind
        model.check_finite(parameters=True)
    except gan.TrainingDiverged as error:
        raise ValueError(f"save: got a diverged run ({error.args[0].split('; last good')[0]}), wanted a finite one; "
                         f"nothing was saved: press reset, or lower the learning rates") from None
    path = folders.new_run_folder(out)
    if model.step > model.config.steps:     # the config's steps is the step to reach: at least this one
        model.config = model.config.replace(steps=model.step)
    with folders.RunFolder(path, model.run_id, COMMAND) as folder:
        try:
            write_folder(folder, model, settings, columns, snapshots)
        except BaseException as error:        # run.json must not say "running" for a save that failed
            with contextlib.suppress(OSError):
                folder.finish("failed", error=f"{type(error).__name__}: {error}".splitlines()[0])
            raise
    return path


def write_folder(folder, model, settings, columns: dict, snapshots: list) -> None:
    """Every file of a saved run into the locked ``folder``."""
    path = folder.path
    folder.save(model, columns)           # history.csv, then checkpoint.npz
    files = list(folders.OUT_FILES[:1] + folders.OUT_FILES[2:])   # all the demo's but last-good.npz
    samples = model.generate(metrics.N_SAMPLES, seed=settings.seed)
    scores = score(model, settings, samples)
    summary = {"run_id": model.run_id, "dataset": settings.dataset, "backend": model.backend.name,
               "steps": model.step, "seed": settings.seed, **scores, "saved_by": COMMAND,
               "lr_d": float(model.opt_D.lr), "lr_g": float(model.opt_G.lr), "config": model.config.to_dict()}
    with checkpoint.atomic_file(os.path.join(path, "metrics.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    results.write_figures(model, columns, snapshots, samples, path)
    folder.finish("saved", files=files)


def score(model, settings, samples) -> dict:
    """The quality numbers metrics.json holds (the demo's; drawn data: modes of its clusters)."""
    if settings.dataset != "drawn":
        return results.measure(model, samples)
    centres, std = mode_centres(settings, model.p_data)
    found = metrics.mode_coverage(samples, centres, std)
    return {"modes_covered": found.modes_covered, "modes_total": found.modes_total,
            "high_quality_fraction": found.high_quality_fraction}


def resume(folder: str) -> gan.GAN:
    """The GAN saved in run folder ``folder`` (``gan.resume`` of its checkpoint)."""
    return gan.resume(os.path.join(folder, folders.CHECKPOINT))
