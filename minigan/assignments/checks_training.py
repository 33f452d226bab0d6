"""Checks for A3 (Algorithm 1's loop); A4's are in checks_experiment.py.

A3: the student's process calls the copy's ``GAN.discriminator_step`` (A3.1) or
``GAN.generator_step`` (A3.2) a few times on a small seeded GAN (probes.small_gan) and
reports the losses they returned, what the last call returned, every parameter, and how
often each optimizer stepped. The grader runs Algorithm 1's steps written out here
(``reference_d_step``, ``reference_g_step``) on an identical GAN with its own minigan and
compares, parameter by parameter, and the return value item by item. When they differ, it
replays the common mistakes (D_MISTAKES, G_MISTAKES) to name the one made.

"""
from __future__ import annotations

from . import probes
from .checks import CheckFailed, expect, expect_close, get

ITERATIONS = 3


# ---- A3.1 and A3.2 ------------------------------------------------------------------------------------
OPTIONS = (({}, "the plain GAN"), ({"penalty": "r1", "gamma": 1.0, "clip": 0.5}, "with R1 (gamma 1) and clip 0.5"))


def reference_d_step(model, order: str = "xz", mistake: str | None = None):
    """Algorithm 1's discriminator step, written out by the grader; returns (loss_D, real, fake).

    ``mistake`` (one of D_MISTAKES) writes it wrong on purpose, the way a student might, so
    that the feedback can name the mistake whose numbers the student's run reproduces.
    """
    from minigan import losses
    from minigan.gan import update

    G, D, m = model.G, model.D, model.m
    if order == "xz":
        x, z = model.sample(model.p_data, m), model.sample(model.p_z, m)
    else:
        z, x = model.sample(model.p_z, m), model.sample(model.p_data, m)
    fakes = G(z).detach()
    real, fake = D(x), D(fakes)
    if mistake == "losses swapped":
        loss_D = losses.discriminator_loss(fake, real, form=model.d_form)
    else:
        loss_D = losses.discriminator_loss(real, fake, form=model.d_form)   # returned without the penalty
    if mistake == "penalty points swapped":
        penalty = model.penalty_term(fakes, x)
    else:
        penalty = model.penalty_term(x, fakes)   # the grader's own GAN: its penalty and clipping are trusted
    if mistake in ("no penalty", "no penalty, no clip") or penalty is None:
        descended = loss_D
    else:
        descended = loss_D + penalty
    if mistake == "clip before":
        model.clip_weights()
    update(model.opt_D, -descended if mistake == "ascends" else descended)
    if mistake not in ("no clip", "no penalty, no clip", "clip before"):
        model.clip_weights()
    if mistake == "penalty returned":
        return descended, real, fake
    if mistake == "only the loss":
        return loss_D
    if mistake == "real and fake swapped":
        return loss_D, fake, real
    if mistake == "probabilities":
        return loss_D, real.sigmoid(), fake.sigmoid()
    return loss_D, real, fake


# the mistakes the feedback can name, with what it says (each is tested: tests/test_assignments.py)
D_MISTAKES = {
    "penalty returned": "the loss you returned includes the penalty; return L_D without it (the penalty is added "
                        "only to what D descends)",
    "no penalty": "D descended L_D without the penalty: descend loss_D + self.penalty_term(x, fakes) "
                  "(it is None when the GAN has no penalty)",
    "no clip": "D's weights were not clipped after its update: call self.clip_weights() after it",
    "no penalty, no clip": "D descended L_D without the penalty, and its weights were not clipped after the update: "
                           "add self.penalty_term(x, fakes) to the loss D descends, and call self.clip_weights() "
                           "after the update",
    "clip before": "D's weights were clipped before its update; clip them after it",
    "penalty points swapped": "self.penalty_term was given (fakes, x); it takes the real samples first: "
                              "penalty_term(x, fakes)",
    "ascends": "D climbed L_D instead of descending it: update(opt, loss) takes a step down the loss it is given",
    "losses swapped": "discriminator_loss got the fake logits first; it takes (real logits, fake logits)",
    "only the loss": "discriminator_step returned only the loss; return (loss_D, real, fake): train_step unpacks "
                     "all three, and records D(x) and D(G(z)) from the logits",
    "real and fake swapped": "discriminator_step returned (loss_D, fake, real); return (loss_D, real, fake), the "
                             "real samples' logits first",
    "probabilities": "discriminator_step returned D's probabilities; return the logits D(x) and D(G(z)) as D "
                     "gave them (train_step applies the sigmoid when it records them)",
}


def reference_g_step(model, form: str | None = None, mistake: str | None = None):
    """Algorithm 1's generator step, written out by the grader (``mistake``: one of G_MISTAKES)."""
    from minigan import losses
    from minigan.gan import update

    z = model.sample(model.p_z, model.m)
    fakes = model.G(z).detach() if mistake == "fakes detached" else model.G(z)
    loss_G = losses.generator_loss(model.D(fakes), form=form or model.loss)
    update(model.opt_G, -loss_G if mistake == "ascends" else loss_G)
    return None if mistake == "returns nothing" else loss_G


G_MISTAKES = {
    "other form": "the generator's step used the other loss form; use self.loss",
    "ascends": "G climbed its loss instead of descending it: update(opt, loss) takes a step down the loss it "
               "is given",
    "fakes detached": "G's parameters did not move: G(z) was detached, so no gradient reached G; feed D with "
                      "G(z) itself in the generator's step",
    "returns nothing": "generator_step returned None; return loss_G (train_step records it)",
}


def reference_run(loss, options, step) -> dict:
    """What probes.steps reports, computed by the grader with one of its own steps."""
    return probes.run_steps(probes.small_gan(1, loss, **options), step, ITERATIONS)


def _differences(student: dict, reference: dict) -> str | None:
    """The first parameter, returned loss or returned value where the student's run differs
    from a reference run, or None."""
    try:
        for name, wanted in reference["params"].items():
            expect_close(f"{name[0]}'s parameter {name[2:]}", get(student, "params", name), wanted,
                         rtol=1e-4, atol=1e-6)
        wanted = reference["returned"]
        got = get(student, "returned")
        expect(get(got, "type") == wanted["type"] and get(got, "length") == wanted["length"],
               f"it returned a {_kind(got)}, wanted a {_kind(wanted)}")
        if wanted["type"] in ("tuple", "Tensor"):   # a mistake's reference may return no loss at all
            expect_close("the loss it returned", get(student, "losses"), reference["losses"], rtol=1e-4, atol=1e-6)
        for i, item in enumerate(wanted["items"]):
            if item is not None:
                expect_close(f"item {i} of what it returned", get(got, "items", i), item, rtol=1e-4, atol=1e-6)
    except CheckFailed as difference:
        return str(difference)
    return None


def _kind(returned: dict) -> str:
    """"tuple of 3" or "Tensor": what a step returned, in words."""
    if not isinstance(returned, dict):
        return "value the grader cannot read"
    kind = str(returned.get("type"))[:40]
    return f"{kind} of {returned.get('length')}" if kind == "tuple" else kind


def _first_match(run: dict, loss: str, options: dict, variants: dict) -> str | None:
    """The name of the first variant whose reference run equals the student's, or None."""
    for name, step in variants.items():
        if _differences(run, reference_run(loss, options, step)) is None:
            return name
    return None


def _mistake_variants(mistakes: dict, step, **keywords) -> dict:
    return {name: (lambda model, name=name: step(model, mistake=name, **keywords)) for name in mistakes}


def check_discriminator_step(student) -> str:
    for options, label in OPTIONS:
        for loss in ("non_saturating", "minimax"):
            setting = f"{label}, loss={loss!r}, m=32"
            run = student.run("steps", method="discriminator_step", loss=loss, iterations=ITERATIONS,
                              options=options)
            counts = get(run, "counts")
            expect(get(counts, "D") == ITERATIONS and get(counts, "G") == 0,
                   f"{setting}: {ITERATIONS} calls made {counts['D']} discriminator and {counts['G']} generator "
                   "updates, wanted one discriminator update each and none of G")
            expect(get(counts, "D steps that reached G") == 0,
                   f"{setting}: the discriminator's loss sent gradients into G's parameters; "
                   "feed D with G(z).detach()")
            found = _first_match(run, loss, options, {"xz": reference_d_step,
                                                      "zx": lambda m: reference_d_step(m, "zx")})
            if found:
                continue  # sampling z before x is Algorithm 1 too
            for order in ("xz", "zx"):
                mistake = _first_match(run, loss, options, _mistake_variants(D_MISTAKES, reference_d_step,
                                                                             order=order))
                if mistake:
                    raise CheckFailed(f"{setting}: {D_MISTAKES[mistake]}")
            difference = _differences(run, reference_run(loss, options, reference_d_step))
            raise CheckFailed(f"{setting}, after {ITERATIONS} discriminator steps, Algorithm 1 disagrees: {difference}")
    return (f"one D update per call on x ~ p_data and G(z) detached, equal to Algorithm 1's after "
            f"{ITERATIONS} steps, plain and with R1 and clipping, returning (loss_D, real, fake)")


def check_generator_step(student) -> str:
    for loss in ("non_saturating", "minimax"):
        setting = f"loss={loss!r}, m=32"
        run = student.run("steps", method="generator_step", loss=loss, iterations=ITERATIONS, options={})
        counts = get(run, "counts")
        expect(get(counts, "G") == ITERATIONS and get(counts, "D") == 0,
               f"{setting}: {ITERATIONS} calls made {counts['G']} generator and {counts['D']} discriminator "
               "updates, wanted one generator update each and none of D")
        if _differences(run, reference_run(loss, {}, reference_g_step)) is None:
            continue
        other = "minimax" if loss == "non_saturating" else "non_saturating"
        variants = {"other form": lambda m: reference_g_step(m, form=other)}
        variants.update(_mistake_variants({k: v for k, v in G_MISTAKES.items() if k != "other form"},
                                          reference_g_step))
        mistake = _first_match(run, loss, {}, variants)
        if mistake:
            raise CheckFailed(f"{setting}: {G_MISTAKES[mistake]}")
        difference = _differences(run, reference_run(loss, {}, reference_g_step))
        raise CheckFailed(f"{setting}, after {ITERATIONS} generator steps, Algorithm 1 disagrees: {difference}")
    return f"one G update per call on fresh noise, D fixed, equal to Algorithm 1's after {ITERATIONS} steps (both forms)"
