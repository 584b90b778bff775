"""The course's helpers: exercise checks, an engine checker, and the lessons as HTML.

- ``check`` (microgrid.course.exercises): a lesson's exercise check, printing ✓ or ✗.
- ``check_engine`` (microgrid.course.engine_check): a student's Value class against microgrid's.
- ``check_mlp``, ``check_training`` (microgrid.course.nn_check): a student's Neuron/Layer/MLP
  and training loop.
- ``build_html`` (microgrid.course.html): ``python -m microgrid.course html [notebooks] [out]``.

All of them are light (nbformat and nbconvert load inside ``build_html``).
"""

from microgrid.course.engine_check import EngineCheck, check_engine
from microgrid.course.exercises import check
from microgrid.course.html import build_html, student_notebook
from microgrid.course.nn_check import check_mlp, check_training

__all__ = [
    'EngineCheck',
    'build_html',
    'check',
    'check_engine',
    'check_mlp',
    'check_training',
    'student_notebook',
]
