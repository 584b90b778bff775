"""What is built on the engine's backward: the modes (no_grad, detect_anomaly, ...),
gradients of gradients (grad, hessian, jacobian, hvp, jvp), checks against finite
differences, backward step by step, and explain. Each module imports the engine; the
engine imports none of them at load (it reaches steps, functional and copying lazily).

``explain`` and ``gradcheck`` are modules of this package here (their functions are
``microgrid.explain`` and ``microgrid.gradcheck``), so the package does not re-export them."""

from microgrid.autograd.functional import grad, hessian, hvp, jacobian, jvp
from microgrid.autograd.gradcheck import GradcheckError, gradgradcheck
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
    'grad',
    'gradgradcheck',
    'hessian',
    'hvp',
    'is_grad_enabled',
    'jacobian',
    'jvp',
    'no_grad',
    'set_grad_enabled',
]
