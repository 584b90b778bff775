import timeit, statistics, sys, importlib.util
sys.path.insert(0, '.')
import microgrid.engine as new
spec = importlib.util.spec_from_file_location('old_engine', '/tmp/e2_engine_old.py'); old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old)
def cases(E):
    ws=[E.Value(0.1*i) for i in range(16)]; xs=[E.Value(0.2*i) for i in range(16)]; xd=[0.3*i for i in range(16)]; xb=xs[:15]+[1.0]
    return {'A 16 w.data': lambda: E.dot(ws, xd), 'B 16 w.x': lambda: E.dot(ws, xs), 'B 2': lambda: E.dot(ws[:2], xs[:2]), 'mixed 16 w.[x,1]': lambda: E.dot(ws, xb)}
co, cn = cases(old), cases(new)
res = {k: ([], []) for k in co}
for _ in range(15):
    for k in co:
        res[k][0].append(min(timeit.repeat(co[k], number=1000, repeat=3))/1000*1e9)
        res[k][1].append(min(timeit.repeat(cn[k], number=1000, repeat=3))/1000*1e9)
for k,(a,b) in res.items():
    print(f"{k:18s} old {statistics.median(a):7.0f} ns  new {statistics.median(b):7.0f} ns  ratio {statistics.median(b)/statistics.median(a):.3f}")
