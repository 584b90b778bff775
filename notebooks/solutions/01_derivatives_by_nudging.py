# Solutions to lesson 1. Each section replaces the exercise cell of the same id.

# SOLUTION 01-central-difference
def central(fn, x, h):
    return (fn(x + h) - fn(x - h)) / (2 * h)

# SOLUTION 01-partials
dq_da = 2 * 3 * -2  # 2ab
dq_db = 3**2  # a²

# SOLUTION 01-chain-rule
x = 0.8
dy_dx = math.cos(x**2) * 2 * x
