"""GANs the seed article talks about, built on Algorithm 1 (minigan.gan).

    semi_supervised.py  a K-class discriminator that is also a classifier (Salimans et al. 2016)
    conditional.py      G(z, y) and D(x, y): ask for a class, get it
    dirac_gan.py        the smallest GAN game, solved in closed form: does training converge?
"""
