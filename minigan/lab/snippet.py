"""The lab's "Python" panel: the minigan code that makes the run on the page.

``code(settings)`` is a script: the GANConfig of the current settings, the GAN built from
it, and Algorithm 1's loop. Run it and it trains the same GAN the page shows (the same
seed gives the same numbers, as long as the settings did not change while it trained).
"""
from __future__ import annotations

from minigan.gan.config import GANConfig

STEPS = 3000   # how long the script trains


def code(settings, steps: int = STEPS) -> str:
    """A runnable script for ``settings`` (a LabSettings)."""
    config = settings.config()
    default = GANConfig()
    fields = {"dataset": config.dataset}   # the fields that differ from GANConfig's defaults (the ring recipe)
    for name, value in config.to_dict().items():
        if name not in ("dataset", "steps") and value != default.to_dict()[name]:
            fields[name] = tuple(value) if isinstance(value, list) else value
    arguments = ",\n    ".join("points=points" if name == "points" else f"{name}={value!r}"
                                 for name, value in fields.items())
    lines = ["from minigan import gan", ""]
    if "points" in fields:
        lines.append("# the drawn points: each one the centre of a small Gaussian (the ring's networks train on them)")
        lines.append(f"points = {[list(p) for p in config.points]!r}")
        lines.append("")
    lines.append(f"config = gan.GANConfig(\n    {arguments},\n)")
    lines.append("model = gan.build(config)            # G, D, p_data, p_z and both optimizers")
    if settings.lr_d != settings.lr_g:
        lines.append(f"model.opt_D.lr = {settings.lr_d!r}             # D's own learning rate (config.lr is G's)")
    lines += ["",
              f"for step in range({steps}):            # Algorithm 1",
              "    record = model.train_step()         # k steps of D, then one of G",
              "    if record.step % 500 == 0:",
              "        print(record.step, float(record.d_loss), float(record.g_loss))",
              "",
              "# slow motion, as the buttons do: model.discriminator_step(), model.generator_step()",
              "samples = model.generate(2500)          # (2500, dim) NumPy array"]
    return "\n".join(lines) + "\n"
