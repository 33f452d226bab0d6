"""minigan.nn: the pieces networks are built from.

- module.py      Module (parameters, names, train/eval, state_dict, moving backends), Parameter
- init.py        initial weights: Glorot uniform, N(0, 0.02), He
- layers.py      Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, Maxout
- containers.py  Sequential, MLP (a generator or a discriminator in one line)
"""
from minigan.nn.containers import MLP, Sequential, activation
from minigan.nn.layers import Dropout, LeakyReLU, Linear, Maxout, ReLU, Sigmoid, Tanh
from minigan.nn.module import Module, Parameter

__all__ = [
    "MLP", "Dropout", "LeakyReLU", "Linear", "Maxout", "Module", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Tanh", "activation",
]
