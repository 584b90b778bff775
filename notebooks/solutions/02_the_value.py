# Solutions to lesson 2. Each section replaces the exercise cell of the same id.

# SOLUTION 02-divide-rule
d_by_da = 1 / 2  # 1 / b
d_by_db = -3 / 2**2  # -a / b²

# SOLUTION 02-predict-sigmoid
s = 0.5  # sigmoid(0.5 * 2 - 1) = sigmoid(0)
dy_dw = s * (1 - s) * 2.0
dy_db = s * (1 - s)

# SOLUTION 02-build-graph
ea, eb = Value(3.0), Value(1.0)
((ea + eb) * (ea - eb)).backward()
