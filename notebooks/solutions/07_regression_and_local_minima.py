# Solutions to lesson 7. Each section replaces the exercise cell of the same id.

# SOLUTION 07-backward-by-hand
dL_dw12 = dL_dz[0] * x2

# SOLUTION 07-mse
def mse(preds, targets):
    return sum((s - t) ** 2 for s, t in zip(preds, targets)) / len(preds)
