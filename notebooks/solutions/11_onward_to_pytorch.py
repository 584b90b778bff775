# Solutions to lesson 11. Each section replaces the exercise cell of the same id.

# SOLUTION 11-outer
delta_, x_ = [0.5, -1.0], [2.0, 0.0, -3.0]
dL_dW = [[d * xj for xj in x_] for d in delta_]

# SOLUTION 11-torch-grad
t = torch.tensor(1.5, requires_grad=True)
(t**3 + 2 * t).backward()
torch_slope = t.grad.item()
