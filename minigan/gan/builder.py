"""From a GANConfig to a GAN ready to train: its data, networks and optimizers, the
schedules the config asks for, and a saved run rebuilt from its checkpoint.

    model = gan.build(gan.recipe("ring"))                 # (gan.build is builder.build)
    model.train(3000, callbacks=gan.schedules(config, model))
    model = gan.resume("runs/run-001/checkpoint.npz")     # the same run, at its step

The trainer itself, Algorithm 1, is minigan/gan/algorithm1.py; what a config holds is minigan/gan/config.py.
"""
from __future__ import annotations

from minigan import data, nn, optim

from minigan.backend import get_backend
from minigan.gan import checkpoint
from minigan.gan.callbacks import LinearSchedule
from minigan.gan.config import GANConfig, run_id
from minigan.nn.discrete import CategoricalGenerator
from minigan.gan.algorithm1 import GAN


def make_dataset(config: GANConfig):
    """p_data for ``config.dataset`` (each with its default parameters)."""
    if config.dataset == "gaussian1d":
        return data.gaussian_1d()
    if config.dataset == "ring":
        return data.ring()
    if config.dataset == "grid":
        return data.grid()
    if config.dataset == "digits":
        return data.digits()
    if config.dataset == "categorical":
        return data.categorical()
    if config.dataset == "faces":
        return data.faces()
    if config.dataset == "points":
        return data.points(config.points)
    return data.mnist(config.dataset_path)


def build(config: GANConfig, check_every: int = 25) -> GAN:
    """G, D, p_data, p_z and both optimizers as ``config`` says, ready to train.

    One generator, ``backend.random(config.seed)``, draws G's and D's initial weights and
    then every minibatch, so the seed fixes the whole run.
    """
    if not isinstance(config, GANConfig):
        raise TypeError(f"config: got {type(config).__name__}, wanted a GANConfig")
    backend = get_backend(config.backend)
    rng = backend.random(config.seed)
    p_data = make_dataset(config)
    if config.dataset == "categorical":   # G: K logits, fed Gumbel noise z (minigan.nn.discrete)
        p_z, G = data.gumbel_noise(p_data.dim), CategoricalGenerator(p_data.dim, config.g_output, backend=backend)
    elif config.arch == "dcgan":        # images: transposed convolutions up, strided ones down (minigan.nn.dcgan)
        p_z = data.normal_noise(config.noise_dim) if config.noise == "normal" else data.uniform_noise(config.noise_dim)
        G = nn.dcgan_generator(config.noise_dim, config.g_hidden, p_data.image_shape, config.g_output,
                               rng=rng, backend=backend)
    else:
        p_z = data.normal_noise(config.noise_dim) if config.noise == "normal" else data.uniform_noise(config.noise_dim)
        G = nn.MLP([config.noise_dim, *config.g_hidden, p_data.dim], config.g_activation, config.g_output,
                   rng=rng, backend=backend)
    if config.arch == "dcgan":
        D = nn.dcgan_discriminator(config.d_hidden, p_data.image_shape, minibatch_std=config.minibatch_std, rng=rng,
                                   backend=backend)
    else:
        D = nn.MLP([p_data.dim, *config.d_hidden, 1], config.d_activation, rng=rng, backend=backend)
    if config.optimizer == "adam":
        opt_G = optim.Adam(G.parameters(), lr=config.lr, betas=config.betas)
        opt_D = optim.Adam(D.parameters(), lr=config.lr, betas=config.betas)
    else:
        opt_G = optim.SGD(G.parameters(), lr=config.lr, momentum=config.momentum)
        opt_D = optim.SGD(D.parameters(), lr=config.lr, momentum=config.momentum)
    gan = GAN(G, D, p_data, p_z, opt_G, opt_D, k=config.k, m=config.m, loss=config.loss, rng=rng,
              penalty=config.penalty, gamma=config.gamma, clip=config.clip,
              check_every=check_every, config=config, threads=config.threads)
    gan.run_id, gan.configs, gan.start_norm = run_id(config), [{"step": 0, "config": config.to_dict()}], gan.parameter_norm()
    return gan


def schedules(config: GANConfig, gan: GAN) -> list:
    """The callbacks ``config`` asks for: the lr decay and (SGD) the momentum ramp.

    The lr falls linearly from ``lr`` at step ``lr_since`` to ``lr * lr_decay_to`` at
    ``lr_end``, then stays there; the momentum rises from step 0 to ``momentum_end``. Both
    are functions of the step alone, so a resumed run follows the same schedule.
    """
    optimizers = [gan.opt_G, gan.opt_D]
    result = []
    if config.lr_decay_to != 1.0:
        result.append(LinearSchedule(optimizers, "lr", config.lr, config.lr * config.lr_decay_to, config.lr_end,
                                     begin=config.lr_since))
    if config.optimizer == "sgd" and config.momentum_final != config.momentum:
        result.append(LinearSchedule(optimizers, "momentum", config.momentum, config.momentum_final,
                                     config.momentum_end))
    return result


def resume(path: str, backend: str | None = None, changes: dict | None = None, threads=None) -> GAN:
    """The GAN saved in checkpoint ``path``, rebuilt from its config, at its step.

    ``backend`` moves it (a checkpoint written on the GPU resumes on a laptop); ``threads``
    (BLAS threads: "auto" or a number) changes how it is computed, not what.
    ``changes`` are config fields to change from here on (``resume.plan`` says which may
    change); the new config is added to ``gan.configs`` with the step it starts at. A new
    optimizer starts with an empty state (no momentum, no Adam moments).
    """
    saved = checkpoint.read(path)
    if saved.config is None:
        raise checkpoint.CheckpointError(f"checkpoint {path}: holds no config; build the GAN yourself and use checkpoint.load")
    try:
        config = GANConfig.from_dict(saved.config)
        how = {"backend": backend, "threads": threads}
        config = config.replace(**{k: v for k, v in how.items() if v is not None}, **(changes or {}))
    except (TypeError, ValueError) as error:
        raise checkpoint.CheckpointError(f"checkpoint {path}: its config is not valid here: {error}") from None
    gan = build(config)
    same_optimizer = config.optimizer == saved.config.get("optimizer", config.optimizer)
    checkpoint.restore(saved, gan, optimizer_state=same_optimizer)
    if same_optimizer and "lr" in (changes or {}):
        for opt in (gan.opt_G, gan.opt_D):
            if config.optimizer == "sgd":      # SGD's velocity has the old lr inside it (parameter units):
                ratio = config.lr / opt.lr     # rescale it, or the old lr's momentum carries on
                opt.buffers["velocity"] = [v * ratio for v in opt.buffers["velocity"]]
            opt.lr = config.lr                 # the restored state held the old lr (a constant lr has no schedule to reset it)
    if run_id(config) != run_id(GANConfig.from_dict(saved.config)):  # threads alone is no change of the run
        gan.configs = [*gan.configs, {"step": saved.step, "config": config.to_dict()}]
    return gan
