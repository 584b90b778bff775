"""Nothing silently wrong (issue 13): NaN travels, saves are atomic, loads stay cheap,
compile notices what it cannot replay, optimizers never half-apply a step, and the CLI
stays fast and traceback-free on big or hostile inputs."""

import math

import pytest

from microgrid import losses
from microgrid.engine import Value

NAN, INF = float('nan'), float('inf')


# -- losses.mse refuses non-finite targets, as hinge and bce do ------------------------


@pytest.mark.parametrize('bad', [NAN, INF, -INF])
def test_mse_refuses_a_non_finite_target(bad):
    with pytest.raises(ValueError, match=r'mse: target 1 is not finite'):
        losses.mse([Value(1.0), Value(2.0)], [0.0, bad])
    with pytest.raises(ValueError, match=r'mse: target 0 is not finite'):
        losses.mse([[Value(1.0), Value(2.0)]], [[0.0, bad]])
