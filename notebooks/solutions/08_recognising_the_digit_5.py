# Solutions to lesson 8. Each section replaces the exercise cell of the same id.

# SOLUTION 08-softmax
def softmax(zs):
    m = max(zs)
    exps = [math.exp(z - m) for z in zs]
    total = sum(exps)
    return [e / total for e in exps]

# SOLUTION 08-cross-entropy
ce_value = -math.log(math.exp(0.0) / (math.exp(3.0) + math.exp(0.0) + math.exp(-1.0)))
