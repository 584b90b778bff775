"""microgrid.compiler: trace a function of Values once, then replay it with numpy.

``microgrid.compile(fn)`` is :func:`microgrid.compiler.api.compile`; docs/compile.md says
how it works, what it promises and what its guards watch. The modules, one job each:
api (compile, CompiledFunction, CompiledValue), arguments (numbers and Values taken
apart), rules (NUMPY_RULES: each op on arrays), kernels (groups of nodes as numpy calls),
program (the trace as flat arrays; forward, backward), check (check=True), guards (when to
trace again), second_order (``hessian`` through the replay of the gradient graph).
"""

from microgrid.compiler.api import CompiledFunction, CompiledValue, TraceMismatchError, compile
from microgrid.compiler.second_order import hessian

__all__ = ['CompiledFunction', 'CompiledValue', 'TraceMismatchError', 'compile', 'hessian']
