"""Run folders you can trust: one run per folder, locks, interrupts, divergence, resume semantics.

Real processes, real signals, real files: the demo runs as ``python -m minigan.demo`` in a
subprocess wherever a second process, a signal or a kill is part of the story. The runs are
tiny (m = 16, a few hundred steps) so the whole file takes well under a minute.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan import gan
from minigan.demo import __main__ as demo

from minigan.gan import callbacks

from minigan.gan import checkpoint

from minigan.runs import resume

from minigan.runs import folders

TINY = ["--batch-size", "16", "--no-progress"]


def command(*argv):
    return [sys.executable, "-m", "minigan.demo", *argv]


def start(*argv, cwd):
    """The demo in a subprocess of its own (stdout and stderr as text)."""
    return subprocess.Popen(command(*argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=120):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def wait_until(condition, timeout=60.0, process=None):
    """Poll ``condition()`` until it is true; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended first: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def history_rows(path) -> int:
    """The number of data rows in a history.csv (0 if it is not there yet)."""
    try:
        with open(path) as f:
            return max(sum(1 for _ in f) - 1, 0)
    except FileNotFoundError:
        return 0


def read_history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def in_process(capsys, *argv):
    status = demo.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err):
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    return err.strip()


def snapshot(folder) -> dict:
    """Every file in a folder and its bytes."""
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder)) if (folder / name).is_file()}


# ---- the pieces, one by one -------------------------------------------------------------------
def tiny_gan(**changes):
    return gan.build(gan.recipe("ring", **{"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 50, **changes}))


def test_run_folders_are_numbered_and_latest_follows(tmp_path):
    out = tmp_path / "out"
    assert folders.run_folders(out) == []
    first, second = folders.new_run_folder(out), folders.new_run_folder(out)
    assert (os.path.basename(first), os.path.basename(second)) == ("run-001", "run-002")
    assert os.readlink(out / "latest") == "run-002"
    (out / "run-007").mkdir()                          # numbers go on from the highest
    assert os.path.basename(folders.new_run_folder(out)) == "run-008"
    assert folders.run_folders(out) == ["run-001", "run-002", "run-007", "run-008"]
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


def test_a_run_folder_is_locked_while_in_use(tmp_path):
    path = folders.new_run_folder(tmp_path)
    with folders.RunFolder(path, "ring-seed0-x", "python -m minigan.demo --steps 5"):
        info = json.loads(open(os.path.join(path, "run.json")).read())
        assert info["writer"]["pid"] == os.getpid() and info["state"] == "running"
        code = ("import sys; from minigan.runs import folders\n"
                "try:\n    folders.RunFolder(sys.argv[1], 'other', 'other').__enter__()\n"
                "except folders.FolderInUse as e:\n    print(e)")
        other = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=60)
        assert f"is in use by another run: process {os.getpid()} on " in other.stdout
        assert "(python -m minigan.demo --steps 5)" in other.stdout
    with folders.RunFolder(path, "ring-seed0-x", "again"):   # free again once the block ends
        pass


def test_history_reads_back_as_the_very_same_floats(tmp_path):
    model, history = tiny_gan(), callbacks.History()
    model.train(6, callbacks=[history])
    columns = history.as_columns()
    folder = folders.RunFolder(folders.new_run_folder(tmp_path), model.run_id, "test")
    folder.write_history(columns)
    back = folders.read_history(os.path.join(folder.path, "history.csv"), upto=4)
    assert back == {name: values[:4] for name, values in columns.items()}     # exactly, not approximately
    assert folders.read_history(tmp_path / "missing.csv", 4) is None


def test_a_blown_up_state_does_not_replace_the_last_good_checkpoint(tmp_path):
    model = tiny_gan()
    with folders.RunFolder(folders.new_run_folder(tmp_path), model.run_id, "test") as folder:
        empty = {name: [] for name in callbacks.FIELDS}
        folder.save(model, empty)                          # step 0
        model.train(2)
        folder.save(model, empty)                          # step 2: sane
        assert folder.last_good == (folder.checkpoint, 2) and model.last_checkpoint == folder.checkpoint
        model.train(1)
        for p in model.G.parameters():                     # the parameters jump 100-fold in one step
            p.data = p.data * 100.0
        folder.save(model, empty)                          # step 3: saved, but not good
        last_good = os.path.join(folder.path, "last-good.npz")
        assert folder.last_good == (last_good, 2) and checkpoint.read(last_good).step == 2
        assert checkpoint.read(folder.checkpoint).step == 3
        for p in model.G.parameters():
            p.data = p.data / 100.0
        model.train(1)
        folder.save(model, empty)                          # step 4: sane again, last-good.npz superseded
        assert folder.last_good == (folder.checkpoint, 4) and not os.path.exists(last_good)


# ---- one run, one folder --------------------------------------------------------------------------
def test_the_quick_start_twice_keeps_the_first_run_where_the_second_says(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert in_process(capsys, "--steps", "12", *TINY)[0] == 0
    first = snapshot(tmp_path / "minigan-out" / "run-001")
    status, printed, err = in_process(capsys, "--steps", "12", *TINY, "--seed", "1")
    assert status == 0, err
    assert f"in minigan-out{os.sep}run-002{os.sep}" in printed
    assert f"earlier runs stay as they were in minigan-out{os.sep}: run-001" in printed
    assert snapshot(tmp_path / "minigan-out" / "run-001") == first             # not a byte changed
    assert os.readlink(tmp_path / "minigan-out" / "latest") == "run-002"
    assert json.loads((tmp_path / "minigan-out" / "latest" / "metrics.json").read_text())["seed"] == 1


def test_two_runs_started_together_get_a_folder_each_and_never_mix(tmp_path):
    out = tmp_path / "out"
    processes = [start("--steps", "300", *TINY, "--seed", str(seed), "--out", str(out), "--quiet", cwd=tmp_path)
                 for seed in (1, 2)]
    assert [finish(p)[0] for p in processes] == [0, 0]
    assert sorted(os.listdir(out)) == ["latest", "run-001", "run-002"]
    seeds = set()
    for name in ("run-001", "run-002"):
        folder = out / name
        run_id = json.loads((folder / "run.json").read_text())["run_id"]
        metrics = json.loads((folder / "metrics.json").read_text())
        saved = checkpoint.read(folder / "checkpoint.npz")
        assert metrics["run_id"] == saved.run["run_id"] == run_id              # every file: the same run
        assert run_id.startswith(f"ring-seed{metrics['seed']}-") and saved.config["seed"] == metrics["seed"]
        assert [int(r["step"]) for r in read_history(folder / "history.csv")] == list(range(1, 301))
        seeds.add(metrics["seed"])
    assert seeds == {1, 2}


def test_a_folder_in_use_is_refused_naming_the_process(tmp_path):
    out = tmp_path / "out"
    long_run = start("--steps", "1000000", *TINY, "--checkpoint-every", "20", "--out", str(out), cwd=tmp_path)
    try:
        wait_until(lambda: history_rows(out / "run-001" / "history.csv") >= 20, process=long_run)
        status, _, err = finish(start("--resume", str(out / "latest" / "checkpoint.npz"), cwd=tmp_path))
        line = one_line(err)
        assert status == 1
        assert f"error: {out / 'run-001'} is in use by another run: process {long_run.pid} on " in line
        assert "--steps 1000000" in line                          # the command the other process runs
        # a new run into the same --out is not refused: it gets a folder of its own
        status, _, err = finish(start("--steps", "5", *TINY, "--out", str(out), "--quiet", cwd=tmp_path))
        assert (status, err) == (0, "")
        assert sorted(os.listdir(out)) == ["latest", "run-001", "run-002"]
    finally:
        long_run.send_signal(signal.SIGTERM)
        status, _, err = finish(long_run)
    assert status == 143
    assert "stopped by SIGTERM at step" in one_line(err)


def test_a_new_run_into_a_run_folder_is_refused(tmp_path, capsys):
    assert in_process(capsys, "--steps", "3", *TINY, "--out", str(tmp_path / "out"))[0] == 0
    status, _, err = in_process(capsys, "--steps", "3", *TINY, "--out", str(tmp_path / "out" / "run-001"))
    assert status == 2
    assert "that is one run's folder" in one_line(err)


# ---- nothing lost on interrupt ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: one run of RUN, start to end, never stopped."""
    out = tmp_path_factory.mktemp("reference")
    assert demo.main([*RUN, "--out", str(out), "--quiet"]) == 0
    return out / "run-001"


RUN = ["--steps", "800", *TINY, "--checkpoint-every", "25"]


@pytest.mark.parametrize("how, after_rows", [
    (signal.SIGINT, 0),          # at once: before or just as training starts
    (signal.SIGINT, 100),
    (signal.SIGTERM, 300),
    (signal.SIGKILL, 200),       # no chance to save: the resume starts from the last checkpoint
])
def test_an_interrupted_run_resumed_with_the_same_command_is_byte_identical(tmp_path, uninterrupted, how,
                                                                              after_rows):
    out = tmp_path / "out"
    process = start(*RUN, "--out", str(out), cwd=tmp_path)
    wait_until(lambda: (out / "run-001" / "run.json").exists() and
               history_rows(out / "run-001" / "history.csv") >= after_rows, process=process)
    process.send_signal(how)
    status, _, err = finish(process)
    folder = out / "run-001"
    if how == signal.SIGKILL:
        assert status == -signal.SIGKILL
        (folder / ".checkpoint.npz.k1ll3d.tmp").write_bytes(b"half a checkpoint")   # what a kill can leave
    else:
        line = one_line(err)
        assert status == 128 + how
        assert f"stopped by {signal.Signals(how).name}" in line and f"saved {folder / 'checkpoint.npz'}" in line
        resume_with = line.split("resume with: ")[1]
        assert resume_with.endswith(f"--resume {folder / 'checkpoint.npz'}")
    status, _, err = finish(start(*RUN, "--out", str(out), "--quiet", "--resume", str(folder / "checkpoint.npz"),
                                  cwd=tmp_path))
    assert (status, err) == (0, "")
    assert (folder / "history.csv").read_bytes() == (uninterrupted / "history.csv").read_bytes()
    assert (folder / "checkpoint.npz").read_bytes() == (uninterrupted / "checkpoint.npz").read_bytes()
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]      # the killed run's are gone


def test_history_is_written_as_training_goes(tmp_path):
    out = tmp_path / "out"
    process = start(*RUN, "--out", str(out), cwd=tmp_path)
    try:
        wait_until(lambda: history_rows(out / "run-001" / "history.csv") >= 50, process=process)
        saved = checkpoint.read(out / "run-001" / "checkpoint.npz")     # read while the run goes on
        rows = read_history(out / "run-001" / "history.csv")
        assert len(rows) % 25 == 0 and [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
        assert 25 <= saved.step <= len(rows) and saved.step % 25 == 0   # history first: it reaches the checkpoint
    finally:
        process.kill()
        process.communicate()


def test_a_new_run_tidies_the_temporary_files_of_killed_ones(tmp_path, capsys):
    out = tmp_path / "out"
    assert in_process(capsys, "--steps", "3", *TINY, "--out", str(out))[0] == 0
    leftovers = [out / "run-001" / ".history.csv.x7f2.tmp", out / "run-001" / ".samples.png.4242.tmp.png",
                 out / ".checkpoint.npz.a1b2.tmp"]     # the last: an older minigan wrote into --out itself
    for leftover in leftovers:
        leftover.write_text("half written")
    theirs = out / ".notes.txt.tmp"                    # not a name minigan writes: left alone
    theirs.write_text("someone else's")
    assert in_process(capsys, "--steps", "3", *TINY, "--out", str(out))[0] == 0
    assert not any(leftover.exists() for leftover in leftovers) and theirs.exists()
    assert sorted(os.listdir(out / "run-001")) == sorted((*demo.FILES, ".lock"))


# ---- divergence -------------------------------------------------------------------------------------
def last_good(err):
    """(the checkpoint path named as last good, its step, the command suggested) from the error line."""
    line = one_line(err)
    named = line.split("last good checkpoint: ")[1]
    path, step = named.split(" (step ")[0], int(named.split(" (step ")[1].split(")")[0])
    return path, step, line.split("resume it with a smaller --lr: ")[1]


@pytest.mark.parametrize("lr, diverged_by", [("50", 4), ("1", 12)])
def test_a_diverging_run_names_a_sane_checkpoint_from_before_the_blow_up(tmp_path, capsys, lr, diverged_by):
    out = tmp_path / "out"
    assert in_process(capsys, "--steps", "12", *TINY, "--out", str(out))[0] == 0
    good_run = snapshot(out / "run-001")
    status, _, err = in_process(capsys, "--steps", "40", *TINY, "--lr", lr, "--optimizer", "sgd",
                                "--checkpoint-every", "1", "--out", str(out))
    assert status == 1
    assert "training diverged:" in err
    diverged_at = int(err.split(" at step ")[1].split(";")[0])
    assert diverged_at <= diverged_by
    assert snapshot(out / "run-001") == good_run                  # the other run's files: untouched
    path, step, suggestion = last_good(err)
    assert step < diverged_at and os.path.dirname(path) == str(out / "run-002")
    model = gan.resume(path)
    assert model.step == step and math_isfinite(model.parameter_norm())
    assert model.parameter_norm() <= folders.GOOD_NORM_GROWTH * model.start_norm
    # the advice can be followed: resumed with the smaller lr it suggests, the run trains on
    argv = suggestion.split()[3:]                                  # less "python -m minigan.demo"
    assert argv[argv.index("--lr") + 1] == f"{float(lr) / 10:g}"
    if lr == "1":
        status, printed, err = in_process(capsys, *argv)
        assert status == 0, err
        assert f"resuming at step {step} with lr 1.0 -> 0.1" in printed
        assert snapshot(out / "run-001") == good_run


def math_isfinite(x):
    return bool(np.isfinite(x))


# ---- what a resume may change -----------------------------------------------------------------------
def test_resume_may_change_lr_steps_k_loss_and_optimizer_each_recorded(tmp_path, capsys):
    out = tmp_path / "out"
    assert in_process(capsys, "--steps", "10", *TINY, "--out", str(out))[0] == 0
    status, printed, err = in_process(capsys, "--resume", str(out / "latest" / "checkpoint.npz"), "--steps", "16",
                                      "--lr", "0.0001", "--k", "2", "--loss", "minimax", "--optimizer", "sgd")
    assert status == 0, err
    changes = [line for line in printed.splitlines() if line.startswith("resuming at step")]
    assert changes == ["resuming at step 10 with steps 10 -> 16, lr 0.0015 -> 0.0001, k 1 -> 2, "
                       "loss 'non_saturating' -> 'minimax', optimizer 'adam' -> 'sgd' (kept in the checkpoint's "
                       "list of configs)"]
    saved = checkpoint.read(out / "run-001" / "checkpoint.npz")
    configs = saved.run["configs"]
    assert [c["step"] for c in configs] == [0, 10] and saved.step == 16
    assert configs[0]["config"]["k"] == 1 and configs[1]["config"]["k"] == 2
    assert configs[1]["config"]["optimizer"] == "sgd" and saved.config == configs[1]["config"]
    lr = [float(r["lr"]) for r in read_history(out / "run-001" / "history.csv")]
    assert lr[10] == 1e-4 and lr[15] < 1e-4 and max(lr[10:]) == 1e-4


def test_extending_a_run_keeps_the_final_lr_and_says_so(tmp_path, capsys):
    out = tmp_path / "out"
    assert in_process(capsys, "--steps", "20", *TINY, "--out", str(out))[0] == 0
    status, printed, _ = in_process(capsys, "--resume", str(out / "latest" / "checkpoint.npz"), "--steps", "40")
    assert status == 0
    assert ("lr: --steps 40 is past the lr schedule's end (step 20), so from step 20 on the lr stays at its "
            "final value 0.00015; pass --lr to start a new schedule") in printed.splitlines()
    lr = [float(r["lr"]) for r in read_history(out / "run-001" / "history.csv")]
    final = 1.5e-3 * 0.1
    assert all(a >= b for a, b in zip(lr, lr[1:]))                 # never up
    assert lr[19] > final                                          # step 20 still decays ...
    assert lr[20:] == [lr[20]] * 20 and lr[20] == pytest.approx(final)   # ... then stays at the final lr
    assert checkpoint.read(out / "run-001" / "checkpoint.npz").config["lr_until"] == 20   # the horizon, kept


def test_extending_with_a_new_lr_starts_a_new_schedule(tmp_path, capsys):
    out = tmp_path / "out"
    assert in_process(capsys, "--steps", "20", *TINY, "--out", str(out))[0] == 0
    status, printed, _ = in_process(capsys, "--resume", str(out / "latest" / "checkpoint.npz"), "--steps", "40",
                                    "--lr", "0.001")
    assert status == 0
    assert ("lr: a new schedule from the new --lr, 0.001 at step 20, decaying linearly to 0.0001 at step 40"
            in printed.splitlines())
    lr = [float(r["lr"]) for r in read_history(out / "run-001" / "history.csv")]
    assert lr[20] == 0.001 and lr[39] == pytest.approx(0.001 - 0.0009 * 19 / 20)


def test_the_resume_plan_unit():
    saved = gan.recipe("ring", steps=100).to_dict()
    assert resume.plan(saved, 50, {"steps": 100, "lr": None}) == resume.Plan({}, ())   # nothing new
    plan = resume.plan(saved, 100, {"steps": 300})
    assert plan.changes == {"steps": 300, "lr_until": 100, "momentum_until": 100}
    with pytest.raises(resume.ResumeRefused, match="--batch-size 32: the checkpoint's run has m=256"):
        resume.plan(saved, 50, {"batch_size": 32})
    shorter = resume.plan(saved, 50, {"steps": 80})        # the horizon stays at 100: said so
    assert shorter.changes["lr_until"] == 100
    assert shorter.lines[-1] == "lr: the lr schedule keeps its end at step 100, so the run stops at lr 0.00042, " \
                                "not at its final value 0.00015"


def test_extending_a_2000_step_run_to_4000_no_longer_raises_the_lr_5_5_fold():
    # the case the issue measured, as docs/math/algorithm1.md tells it
    config = gan.recipe("ring", steps=2000)
    model = gan.build(config)
    kept = config.replace(**resume.plan(config.to_dict(), 2000, {"steps": 4000}).changes)
    stretched = config.replace(steps=4000)
    final = config.lr * config.lr_decay_to
    assert gan.schedules(kept, model)[0].value(2000) == pytest.approx(final)
    assert gan.schedules(kept, model)[0].value(3999) == pytest.approx(final)
    assert gan.schedules(stretched, model)[0].value(2000) == pytest.approx(5.5 * final)


# ---- clear errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, words", [
    (["--batch-size", "1000000000000"], ["--batch-size 1000000000000: a minibatch that large needs about",
                                         "of memory and this machine has", "pass a smaller --batch-size"]),
    (["--steps", "1000000000000000"], ["--steps 1000000000000000: the history of so many steps needs about"]),
])
def test_too_large_for_memory_is_one_line_before_anything_is_allocated(tmp_path, argv, words):
    status, out, err = finish(start(*argv, "--out", str(tmp_path / "out"), cwd=tmp_path))
    assert status == 2 and out == ""
    for word in words:
        assert word in one_line(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not hasattr(os, "sysconf") or sys.platform == "win32", reason="needs POSIX rlimits")
def test_running_out_of_memory_while_training_is_one_line(tmp_path):
    import resource

    from minigan.demo import prepare

    m = 500_000                                        # passes the estimate, fails under the limit below
    if (prepare.physical_memory() or 0) < 2 * m * 519 * prepare.BYTES_PER_UNIT:
        pytest.skip("this machine's memory is too small for the estimate to pass")

    def limit():                                       # 1.5 GB of address space for the whole process
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))

    result = subprocess.run(command("--batch-size", str(m), "--steps", "5", "--out", str(tmp_path / "out")),
                            preexec_fn=limit, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "error: out of memory (MemoryError: Unable to allocate" in line and "pass a smaller --batch-size" in line
