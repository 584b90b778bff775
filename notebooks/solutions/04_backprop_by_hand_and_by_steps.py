# Solutions to lesson 4. Each section replaces the exercise cell of the same id.

# SOLUTION 04-hand-neuron
o = math.tanh(2.0 * -0.5 + 0.5)
do_dw = (1 - o**2) * 2.0
do_db = 1 - o**2

# SOLUTION 04-paths-and-accumulation
paths = 4
dy_dx = 3 * 2.0**2 + 1
after_three_backwards = 3 * dy_dx
