import random, time, statistics
import microgrid
from microgrid import nn
random.seed(0)
m = nn.MLP(2, [16, 16, 1], activation='tanh', seed=0) if 'activation' in nn.MLP.__init__.__code__.co_varnames else nn.MLP(2, [16, 16, 1])
X = [[random.uniform(-1, 1), random.uniform(-1, 1)] for _ in range(30)]
Y = [1.0 if a * b > 0 else -1.0 for a, b in X]
ws = m.parameters()[:10]
def f(*w):
    for p, v in zip(ws, w): pass
    saved = [p for p in ws]
    # replace the first 10 weights by the leaves
    n0 = m.layers[0].neurons
    k = 0
    for n in n0:
        for i in range(len(n.w)):
            if k < 10: n.w[i] = w[k]; k += 1
    loss = microgrid.sum([(1 - y * m(x)).relu() for x, y in zip(X, Y)])
    k = 0
    for n in n0:
        for i in range(len(n.w)):
            if k < 10: n.w[i] = saved[k]; k += 1
    return loss
t = []
for _ in range(5):
    s = time.perf_counter(); H = microgrid.hessian(f, [p.data for p in ws]); t.append(time.perf_counter() - s)
print(f"median {statistics.median(t)*1e3:.1f} ms, H[0][:3] = {H[0][:3]}")
