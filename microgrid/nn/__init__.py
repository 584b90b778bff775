"""microgrid.nn: networks on the engine, and what trains them.

- module.py: Module, the base class that finds, names and zeroes parameters;
- layers.py: Neuron, Layer, MLP (a neuron's weighted sum is ONE engine ``dot`` node);
- losses.py, optim.py: losses, optimizers and learning-rate schedules;
- data.py: small data sets and batches; training.py: fit() and accuracy();
- serialization.py: save() and load(), validated JSON written atomically (never pickle);
- interop.py: to_torch(), the same network in PyTorch.

``from microgrid import nn, losses, optim, data`` keeps working: ``microgrid.losses`` and
its siblings are aliases of the modules here.
"""

from microgrid.nn.interop import to_torch
from microgrid.nn.layers import ACTIVATIONS, INITS, LEAKY_SLOPE, MLP, Layer, Neuron
from microgrid.nn.module import Module
from microgrid.nn.serialization import LOAD_MAX_PARAMETERS, load, save

__all__ = [
    'ACTIVATIONS',
    'INITS',
    'LEAKY_SLOPE',
    'LOAD_MAX_PARAMETERS',
    'MLP',
    'Layer',
    'Module',
    'Neuron',
    'load',
    'save',
    'to_torch',
]
