"""dot() node creation, the engine before this branch against this branch's, in turns.

Run from the worktree: git show 8307587:microgrid/engine.py > /tmp/e2_engine_old.py
and then PYTHONPATH=$PWD python notes/e2-autograd-bench-dot.py
"""

import importlib.util
import statistics
import sys
import timeit

sys.path.insert(0, '.')
import microgrid.engine as new  # noqa: E402

spec = importlib.util.spec_from_file_location('old_engine', '/tmp/e2_engine_old.py')
assert spec is not None and spec.loader is not None
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)


def cases(engine):
    ws = [engine.Value(0.1 * i) for i in range(16)]
    xs = [engine.Value(0.2 * i) for i in range(16)]
    data = [0.3 * i for i in range(16)]
    with_bias = [*xs[:15], 1.0]
    return {
        'A 16 w.data': lambda: engine.dot(ws, data),
        'B 16 w.x': lambda: engine.dot(ws, xs),
        'B 2': lambda: engine.dot(ws[:2], xs[:2]),
        'mixed 16 w.[x,1]': lambda: engine.dot(ws, with_bias),
    }


before, after = cases(old), cases(new)
times: dict = {k: ([], []) for k in before}
for _ in range(15):
    for k in before:
        times[k][0].append(min(timeit.repeat(before[k], number=1000, repeat=3)) / 1000 * 1e9)
        times[k][1].append(min(timeit.repeat(after[k], number=1000, repeat=3)) / 1000 * 1e9)
for k, (a, b) in times.items():
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{k:18s} old {ma:7.0f} ns  new {mb:7.0f} ns  ratio {mb / ma:.3f}")
