# Solutions to lesson 13. Each section replaces the exercise cell of the same id.

# SOLUTION 13-second-difference
def second(fn, x, h):
    return (fn(x + h) - 2 * fn(x) + fn(x - h)) / h**2

# SOLUTION 13-third-derivative
x3 = Value(0.5)
(g1,) = grad(x3.tanh(), x3, create_graph=True)
(g2,) = grad(g1, x3, create_graph=True)
(d3,) = grad(g2, x3)

# SOLUTION 13-newton-step
def newton_direction(g, H):
    (a, c), (_, e) = H
    det = a * e - c * c
    return [(e * g[0] - c * g[1]) / det, (a * g[1] - c * g[0]) / det]
