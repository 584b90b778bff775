# Solutions to lesson 5. Each section replaces the exercise cell of the same id.

# SOLUTION 05-neuron-forward
def neuron_forward(w, b, x):
    return math.tanh(sum(wi * xi for wi, xi in zip(w, x)) + b)

# SOLUTION 05-he-std
he_std = math.sqrt(2 / 50)

# SOLUTION 05-build-mlp
class MyNeuron:
    def __init__(self, nin, linear=False):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.linear = linear

    def __call__(self, x):
        s = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return s if self.linear else s.tanh()

    def parameters(self):
        return self.w + [self.b]


class MyLayer:
    def __init__(self, nin, nout, linear=False):
        self.neurons = [MyNeuron(nin, linear) for _ in range(nout)]

    def __call__(self, x):
        return [n(x) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MyMLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [MyLayer(sizes[i], sizes[i + 1], linear=i == last) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
