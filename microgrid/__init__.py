"""microgrid: a scalar reverse-mode autodiff engine for learning backpropagation.

The engine and the light instruments are imported at once. compile, draw, explain and
gradcheck share their module's name, and importing them here lets the function own the
name (``microgrid.draw`` is the function). Their heavy imports (numpy, graphviz) happen
inside functions; the other modules load on first use, so ``import microgrid`` stays fast.
"""

from importlib import import_module
from typing import Any

# The alias modules first: importing one later would re-bind the function of its name
from microgrid import compile as _compile_module  # noqa: F401
from microgrid import explain as _explain_module  # noqa: F401
from microgrid import gradcheck as _gradcheck_module  # noqa: F401
from microgrid.autograd.explain import explain
from microgrid.autograd.functional import grad, hvp, jacobian, jvp
from microgrid.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from microgrid.autograd.modes import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from microgrid.autograd.steps import Step
from microgrid.compiler.api import TraceMismatchError, compile
from microgrid.compiler.second_order import hessian  # eager, or a replay when exact
from microgrid.draw import draw
from microgrid.engine import Value, dot, sum
from microgrid.text import name_of

__version__ = "0.1.0"

# public name -> the module that defines it (imported when first used)
_LAZY = {
    'fit': 'microgrid.training',
    'backprop_player': 'microgrid.viz.player',
    'backprop_frames': 'microgrid.viz.player',
    'backprop_gif': 'microgrid.viz.player',
    'check_engine': 'microgrid.course.engine_check',
}
_SUBMODULES = {'higher', 'nn', 'losses', 'optim', 'data', 'plot', 'training', 'player', 'cli'}

__all__ = [
    'GradcheckError', 'Step', 'TraceMismatchError', 'Value', 'compile', 'detect_anomaly', 'dot',
    'draw', 'enable_grad', 'explain', 'grad', 'gradcheck', 'gradgradcheck', 'hessian', 'hvp',
    'is_grad_enabled', 'jacobian', 'jvp', 'name_of', 'no_grad', 'set_grad_enabled', 'sum',
    *_LAZY, *sorted(_SUBMODULES),
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f'microgrid.{name}')
    raise AttributeError(f"module 'microgrid' has no attribute {name!r}")
