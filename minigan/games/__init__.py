"""minigan.games: games small enough to solve on paper, to see how GAN training moves.

- dirac_gan.py  the Dirac-GAN of Mescheder, Geiger & Nowozin (2018): p_data = delta_0,
                G = delta_theta, D(x) = psi * x. Its gradient vector field for the GAN
                and WGAN losses, R1, instance noise and WGAN-GP; the Jacobian at the
                equilibrium and its eigenvalues; simultaneous and alternating steps.

Everything here is two numbers (theta, psi), computed with NumPy on the host, in float64.
"""
from minigan.games import dirac_gan

__all__ = ["dirac_gan"]
