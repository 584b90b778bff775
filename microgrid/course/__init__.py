"""The course's helpers: exercise checks, an engine checker, and the lessons as HTML.

- ``check`` (microgrid.course.exercises): a lesson's exercise check, printing ✓ or ✗.
- ``check_engine`` (microgrid.course.engine_check): a student's Value class against microgrid's.
- ``check_mlp`` (microgrid.course.nn_check): a student's Neuron/Layer/MLP and training loop.
- ``build_html`` (microgrid.course.html): ``python -m microgrid.course html [notebooks] [out]``.

Only ``check`` is imported at once; the others load on first use.
"""

from importlib import import_module
from typing import Any

from microgrid.course.exercises import check

_LAZY = {
    'EngineCheck': 'microgrid.course.engine_check',
    'check_engine': 'microgrid.course.engine_check',
    'check_mlp': 'microgrid.course.nn_check',
    'check_training': 'microgrid.course.nn_check',
    'build_html': 'microgrid.course.html',
    'student_notebook': 'microgrid.course.html',
}

__all__ = ['check', *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'microgrid.course' has no attribute {name!r}")
