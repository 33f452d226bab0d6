"""minigan.nn: the pieces networks are built from.

- module.py      Module (parameters, buffers, names, train/eval, state_dict, moving backends), Parameter, Buffer
- init.py        initial weights: Glorot uniform, N(0, 0.02), He
- layers.py      Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, Maxout
- containers.py  Sequential, MLP (a generator or a discriminator in one line)
- conv.py        Conv2d, ConvTranspose2d, Flatten, Unflatten (images, DCGAN)
- batchnorm.py   BatchNorm1d, BatchNorm2d (running statistics as buffers)
- dcgan.py       DCGAN's generator and discriminator (Radford et al. 2016)
- minibatch_std.py  MinibatchStd: the batch's std as an extra channel for D (ProGAN, against mode collapse)
"""
from minigan.nn.batchnorm import BatchNorm1d, BatchNorm2d
from minigan.nn.containers import MLP, Sequential, activation
from minigan.nn.conv import Conv2d, ConvTranspose2d, Flatten, Unflatten
from minigan.nn.dcgan import dcgan_discriminator, dcgan_generator
from minigan.nn.minibatch_std import MinibatchStd
from minigan.nn.layers import Dropout, LeakyReLU, Linear, Maxout, ReLU, Sigmoid, Tanh
from minigan.nn.module import Buffer, Module, Parameter

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "Buffer", "Conv2d", "ConvTranspose2d", "Flatten", "Unflatten",
    "MLP", "Dropout", "LeakyReLU", "Linear", "Maxout", "MinibatchStd", "Module", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Tanh", "activation", "dcgan_discriminator", "dcgan_generator",
]
