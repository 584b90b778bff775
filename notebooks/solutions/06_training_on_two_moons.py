# Solutions to lesson 6. Each section replaces the exercise cell of the same id.

# SOLUTION 06-train-step
def train_step(model, X, y, opt):
    loss = losses.hinge([model(x) for x in X], y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.data

# SOLUTION 06-accuracy
def accuracy_of(scores, labels):
    return sum((s > 0) == (t > 0) for s, t in zip(scores, labels)) / len(labels)

# SOLUTION 06-train-loop
def train(model, xs, ys, steps=20, lr=0.05):
    recorded = []
    for _ in range(steps):
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        recorded.append(loss.data)
    return recorded
