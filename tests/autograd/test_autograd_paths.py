"""The autograd modules' import paths: the new ones, and the documented old ones."""

from __future__ import annotations

import importlib
import subprocess
import sys


def test_old_module_paths_are_aliases_of_the_new_ones() -> None:
    from microgrid.autograd import explain, functional, gradcheck

    assert importlib.import_module('microgrid.higher') is functional
    assert importlib.import_module('microgrid.explain') is explain
    assert importlib.import_module('microgrid.gradcheck') is gradcheck
    from microgrid import higher
    from microgrid.explain import paths

    assert higher is functional and paths is explain.paths
    assert higher.SYMBOLIC is importlib.import_module('microgrid.autograd.symbolic').SYMBOLIC_RULES


def test_top_level_functions_stay_callable_after_importing_their_modules() -> None:
    """microgrid.explain and microgrid.gradcheck are functions, in a fresh interpreter."""
    code = (
        "import microgrid.explain, microgrid.gradcheck, microgrid.higher\n"
        "import microgrid\n"
        "from microgrid import Value\n"
        "assert callable(microgrid.explain) and callable(microgrid.gradcheck)\n"
        "x = Value(2.0, label='x'); y = x * x; y.backward()\n"
        "assert microgrid.explain(x, y).endswith('= 4.0')\n"
        "assert microgrid.gradcheck(lambda v: v * v, [Value(1.5)])\n"
    )
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import microgrid.explain
    import microgrid.gradcheck

    assert callable(microgrid.explain) and callable(microgrid.gradcheck)


def test_importing_autograd_patches_nothing_on_value() -> None:
    """grad_value and backward(create_graph=True) are declared on Value, not installed."""
    code = (
        "import sys\n"
        "from microgrid import engine\n"
        "from microgrid.engine import Value\n"
        "before, names = dict(vars(Value)), dict(vars(engine))\n"
        "assert isinstance(before['grad_value'], property)\n"
        "import microgrid.autograd.functional, microgrid.autograd.symbolic\n"
        "import microgrid.autograd.gradcheck, microgrid.autograd.explain\n"
        "assert dict(vars(Value)) == before and dict(vars(engine)) == names\n"
        "x = Value(3.0); (x * x).backward(create_graph=True)\n"
        "assert x.grad_value.data == 6.0\n"
    )
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
