"""Algorithm 1, and what it takes to run it (the third layer, on the engine and the blocks).

    algorithm1.py  the GAN: k discriminator steps, then one generator step (Goodfellow et al. 2014)
    config.py      GANConfig, everything a run is made from, and the tested recipes
    builder.py     from a GANConfig to a GAN ready to train, and a saved run rebuilt
    callbacks.py   what is not Algorithm 1 (history, progress bar, schedules, checkpoints),
                   called between iterations
    checkpoint.py  a run saved to one .npz file and read back (no pickle)

The names a user needs are here, from the module that defines them:

    from minigan import gan
    config = gan.recipe("ring")
    model = gan.build(config)
    model.train(config.steps, callbacks=gan.schedules(config, model))

Imports point one way: config, then algorithm1, then builder (which needs both).
"""
from minigan.gan.algorithm1 import GAN, StepRecord, TrainingDiverged, update
from minigan.gan.config import DATASETS, PENALTIES, RECIPES, GANConfig, recipe, run_id
from minigan.gan.builder import build, make_dataset, resume, schedules

__all__ = ["DATASETS", "GAN", "GANConfig", "PENALTIES", "RECIPES", "StepRecord", "TrainingDiverged",
           "build", "make_dataset", "recipe", "resume", "run_id", "schedules", "update"]
