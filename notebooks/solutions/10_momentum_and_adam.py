# Solutions to lesson 10. Each section replaces the exercise cell of the same id.

# SOLUTION 10-momentum
w, v = 1.0, 0.0
for step in range(3):
    g = 2 * w
    v = g if step == 0 else 0.9 * v + g
    w -= 0.1 * v
w_after_three = w

# SOLUTION 10-adam-first-step
w_after_adam = 2.0 - 0.1  # the gradient 20 is divided by its own size
