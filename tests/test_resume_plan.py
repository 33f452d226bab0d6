"""minigan.runs.resume.plan: what a resume may change, what it pins, and the lines it prints
(issue 26: each branch with the exact line, so a changed word or number is a decision)."""
import pytest

from minigan import gan
from minigan.runs import resume


def saved(**changes):
    return gan.recipe("ring", **{"steps": 100, "lr": 1e-3, "lr_decay_to": 0.1, **changes}).to_dict()


@pytest.mark.parametrize("option, field, value", [("dataset", "dataset", "grid"), ("batch_size", "m", 32),
                                                  ("seed", "seed", 3)])
def test_what_makes_the_run_cannot_change(option, field, value):
    flag = "--" + option.replace("_", "-")
    with pytest.raises(resume.ResumeRefused, match=f"^{flag} {value}: the checkpoint's run has {field}="):
        resume.plan(saved(), 50, {option: value})
    current = saved()[field]
    assert resume.plan(saved(), 50, {option: current}) == resume.Plan({}, ())     # the same value is no change
    assert issubclass(resume.ResumeRefused, ValueError)


def test_nothing_new_is_no_plan():
    assert resume.plan(saved(), 50, {}) == resume.Plan({}, ())
    assert resume.plan(saved(), 50, {"steps": 100, "lr": 1e-3, "k": 1, "loss": None}) == resume.Plan({}, ())


def test_the_step_to_reach_is_at_least_the_checkpoints():
    with pytest.raises(resume.ResumeRefused, match="^--steps 49: the checkpoint is already at step 50; pass --steps 50"):
        resume.plan(saved(), 50, {"steps": 49})
    assert resume.plan(saved(), 50, {"steps": 50}).changes["steps"] == 50


@pytest.mark.parametrize("option, value", [("k", 2), ("loss", "lsgan"), ("optimizer", "sgd"), ("penalty", "r1"),
                                           ("gamma", 1.0), ("clip", 0.1)])
def test_each_changeable_option_changes_its_field_and_pins_the_horizons(option, value):
    plan = resume.plan(saved(), 50, {option: value})
    assert plan.changes == {option: value, "lr_until": 100, "momentum_until": 100}
    old = saved()[option]
    assert plan.lines == (f"resuming at step 50 with {option} {old!r} -> {value!r} (kept in the checkpoint's list of "
                          "configs)",)


def test_more_steps_keep_the_schedule_and_say_the_lr_stays_at_its_end():
    plan = resume.plan(saved(), 60, {"steps": 300})
    assert plan.changes == {"steps": 300, "lr_until": 100, "momentum_until": 100}
    assert plan.lines == ("resuming at step 60 with steps 100 -> 300 (kept in the checkpoint's list of configs)",
                          "lr: --steps 300 is past the lr schedule's end (step 100), so from step 100 on the lr stays "
                          "at its final value 0.0001; pass --lr to start a new schedule")
    late = resume.plan(saved(), 100, {"steps": 300})
    assert "so from step 100 on" in late.lines[1]
    after = resume.plan(saved(lr_until=80), 90, {"steps": 300})
    assert "(step 80), so from step 90 on" in after.lines[1]           # max(step, end)


def test_fewer_steps_say_where_the_lr_stops():
    plan = resume.plan(saved(), 40, {"steps": 60})
    assert plan.lines[1] == ("lr: the lr schedule keeps its end at step 100, so the run stops at lr 0.00046, "
                             "not at its final value 0.0001")            # 1e-3 + (1e-4 - 1e-3) * 60 / 100
    since = resume.plan(saved(lr_since=20), 40, {"steps": 60})
    assert "stops at lr 0.00055," in since.lines[1]                    # (60 - 20) / (100 - 20) of the way


def test_a_new_lr_starts_a_new_decay_from_here_to_the_end():
    plan = resume.plan(saved(), 40, {"lr": 5e-4, "steps": 200})
    assert plan.changes == {"lr": 5e-4, "steps": 200, "lr_until": 200, "momentum_until": 100, "lr_since": 40}
    assert plan.lines[1] == ("lr: a new schedule from the new --lr, 0.0005 at step 40, decaying linearly to 5e-05 "
                             "at step 200")
    kept = resume.plan(saved(), 40, {"lr": 5e-4})                    # to the old end
    assert kept.changes["lr_since"] == 40 and kept.changes["lr_until"] == 100
    at_end = resume.plan(saved(), 100, {"lr": 5e-4})                  # nothing left to decay over
    assert "lr_since" not in at_end.changes and at_end.changes["lr_until"] == 100
    assert at_end.lines[1] == "lr: 0.0005 from step 100 on (the new --lr)"
    constant = resume.plan(saved(lr_decay_to=1.0), 40, {"lr": 5e-4})
    assert constant.lines[1] == "lr: 0.0005 from step 40 on (the new --lr)"


def test_a_constant_lr_has_nothing_to_say_about_steps():
    plan = resume.plan(saved(lr_decay_to=1.0), 40, {"steps": 300})
    assert len(plan.lines) == 1 and plan.changes["steps"] == 300
    assert resume.plan(saved(), 40, {"steps": 100, "k": 3}).lines[1:] == ()     # steps unchanged: no lr line


def test_the_option_tables():
    """The command line's names for the config's fields (demo --help lists them)."""
    assert resume.CHANGEABLE == {"steps": "steps", "lr": "lr", "k": "k", "loss": "loss", "optimizer": "optimizer",
                                 "penalty": "penalty", "gamma": "gamma", "clip": "clip"}
    assert resume.FIXED == {"dataset": "dataset", "batch_size": "m", "seed": "seed"}


def test_steps_exactly_at_the_schedules_end_and_several_changes_at_once():
    at_end = resume.plan(saved(lr_until=80), 50, {"steps": 80})        # the run now ends where the lr does
    assert at_end.lines == ("resuming at step 50 with steps 100 -> 80 (kept in the checkpoint's list of configs)",)
    two = resume.plan(saved(), 50, {"k": 2, "loss": "lsgan"})
    assert two.lines[0] == ("resuming at step 50 with k 1 -> 2, loss 'non_saturating' -> 'lsgan' (kept in the "
                            "checkpoint's list of configs)")
    constant = resume.plan(saved(lr_decay_to=1.0, lr_until=150), 40, {"k": 2})     # no decay: nothing on the lr
    assert len(constant.lines) == 1
