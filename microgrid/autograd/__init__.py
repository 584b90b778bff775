"""What is built on the engine's backward: the modes (no_grad, detect_anomaly, ...),
gradients of gradients (grad, hessian, jacobian, hvp, jvp), checks against finite
differences, backward step by step, and explain. Each module imports the engine; the
engine imports none of them at load (it reaches steps, functional and copying lazily)."""

from microgrid.autograd.explain import explain
from microgrid.autograd.functional import grad, hessian, hvp, jacobian, jvp
from microgrid.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from microgrid.autograd.modes import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from microgrid.autograd.steps import Step

__all__ = [
    'GradcheckError',
    'Step',
    'detect_anomaly',
    'enable_grad',
    'explain',
    'grad',
    'gradcheck',
    'gradgradcheck',
    'hessian',
    'hvp',
    'is_grad_enabled',
    'jacobian',
    'jvp',
    'no_grad',
    'set_grad_enabled',
]
