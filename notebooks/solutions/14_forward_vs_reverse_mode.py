# Solutions to lesson 14. Each section replaces the exercise cell of the same id.

# SOLUTION 14-gradient-by-jvp
def gradient_by_jvp(fn, point):
    n = len(point)
    return [jvp(fn, point, [1.0 if k == i else 0.0 for k in range(n)])[1] for i in range(n)]

# SOLUTION 14-passes
passes = {
    'forward mode, 1000 inputs -> 1 output (a loss)': 1000,
    'reverse mode, 1000 inputs -> 1 output (a loss)': 1,
    'forward mode, 1 input -> 1000 outputs': 1,
    'reverse mode, 1 input -> 1000 outputs': 1000,
}

# SOLUTION 14-dual-mul
class Dual:
    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    def __add__(self, other):
        return Dual(self.value + other.value, self.tangent + other.tangent)

    def sin(self):
        return Dual(math.sin(self.value), math.cos(self.value) * self.tangent)

    def __mul__(self, other):
        return Dual(self.value * other.value,
                    self.tangent * other.value + self.value * other.tangent)
