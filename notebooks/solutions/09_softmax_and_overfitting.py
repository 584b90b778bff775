# Solutions to lesson 9. Each section replaces the exercise cell of the same id.

# SOLUTION 09-softmax-grad
exps = [math.exp(z) for z in (1.0, 2.0, 0.5)]
probs = [e / sum(exps) for e in exps]
grads = [probs[0] - 1.0, probs[1], probs[2]]

# SOLUTION 09-l2-grad
l2_grad = 2 * 0.01 * 0.5
