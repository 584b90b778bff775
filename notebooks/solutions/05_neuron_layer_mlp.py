# Solutions to lesson 5. Each section replaces the exercise cell of the same id.

# SOLUTION 05-neuron-forward
def neuron_forward(w, b, x):
    return math.tanh(sum(wi * xi for wi, xi in zip(w, x)) + b)

# SOLUTION 05-param-count
n_params = (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1

# SOLUTION 05-he-std
he_std = math.sqrt(2 / 50)
