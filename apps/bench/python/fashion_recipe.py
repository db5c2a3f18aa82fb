"""The main job's recipe in NumPy, for `pnpm bench`: the same steps, so the per-epoch times compare.

MLP 784-300-100-10: He truncated-normal init, dense -> batch norm (Keras: momentum 0.99,
eps 1e-3) -> ELU, Nadam (optax's nadam: b1 0.9, b2 0.999, eps 1e-8) on optax's linear 1cycle
schedule, batch 128, softmax cross-entropy, reshuffled every epoch. float32 throughout; OpenBLAS
matmuls. Reads the data the bench writes (raw uint8 pixels and labels) and prints one JSON line.

usage: fashion_recipe.py DATA_DIR EPOCHS PEAK_LR
"""
import json
import sys
import time

import numpy as np

data_dir, epochs, peak = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
f32 = np.float32


def load(name, n):
    x = np.fromfile(f"{data_dir}/{name}-images.u8", dtype=np.uint8).reshape(n, 784).astype(f32) / f32(255)
    y = np.fromfile(f"{data_dir}/{name}-labels.u8", dtype=np.uint8).astype(np.int64)
    return x, y


meta = json.load(open(f"{data_dir}/meta.json"))
x_train, y_train = load("train", meta["train"])
x_val, y_val = load("val", meta["val"])
x_test, y_test = load("test", meta["test"])
rng = np.random.default_rng(0)


def he(fan_in, fan_out):
    # Truncated normal at ±2σ, variance 2 / fan_in (the 0.8796 factor corrects the truncation).
    std = np.sqrt(2.0 / fan_in) / 0.87962566103423978
    w = rng.standard_normal((fan_in, fan_out))
    while True:
        bad = np.abs(w) > 2
        if not bad.any():
            break
        w[bad] = rng.standard_normal(bad.sum())
    return (w * std).astype(f32)


sizes = [784, 300, 100, 10]
params = []
for i in range(3):
    p = {"w": he(sizes[i], sizes[i + 1]) if i < 2 else (rng.uniform(-1, 1, (sizes[i], sizes[i + 1])) * np.sqrt(6 / (sizes[i] + sizes[i + 1]))).astype(f32),
         "b": np.zeros(sizes[i + 1], f32)}
    if i < 2:
        p["gamma"] = np.ones(sizes[i + 1], f32)
        p["beta"] = np.zeros(sizes[i + 1], f32)
    params.append(p)
moving = [{"mean": np.zeros(s, f32), "var": np.ones(s, f32)} for s in sizes[1:3]]
mu = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
nu = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
EPS_BN, MOM = f32(1e-3), f32(0.99)
B1, B2, EPS = 0.9, 0.999, 1e-8

batch = 128
n = len(x_train)
steps = epochs * ((n + batch - 1) // batch)


def onecycle(count):
    # optax.linear_onecycle_schedule: peak/25 -> peak at 0.3T -> peak/25 at 0.85T -> peak/25/1e4 at T.
    pts = [(0, peak / 25), (int(0.3 * steps), peak), (int(0.85 * steps), peak / 25), (steps, peak / 25 / 1e4)]
    for (s0, v0), (s1, v1) in zip(pts, pts[1:]):
        if count < s1:
            return v0 + (v1 - v0) * (count - s0) / (s1 - s0)
    return pts[-1][1]


def elu(z):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def forward(x, train):
    cache = []
    a = x
    for i, p in enumerate(params):
        z = a @ p["w"] + p["b"]
        if i == 2:
            return z, cache
        if train:
            m, v = z.mean(0), z.var(0)
            moving[i]["mean"] = MOM * moving[i]["mean"] + (1 - MOM) * m
            moving[i]["var"] = MOM * moving[i]["var"] + (1 - MOM) * v
        else:
            m, v = moving[i]["mean"], moving[i]["var"]
        inv = 1 / np.sqrt(v + EPS_BN)
        zhat = (z - m) * inv
        y = p["gamma"] * zhat + p["beta"]
        out = elu(y)
        cache.append((a, zhat, inv, y, out))
        a = out


def step(x, y, count):
    logits, cache = forward(x, True)
    nb = len(x)
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    loss = -np.log(prob[np.arange(nb), y] + 1e-30).mean()
    d = prob
    d[np.arange(nb), y] -= 1
    d /= nb
    grads = [None, None, None]
    a_prev = cache[1][4]
    grads[2] = {"w": a_prev.T @ d, "b": d.sum(0)}
    da = d @ params[2]["w"].T
    for i in (1, 0):
        a_in, zhat, inv, yb, out = cache[i]
        dy = da * np.where(yb > 0, 1, out + 1)
        g = {"gamma": (dy * zhat).sum(0), "beta": dy.sum(0)}
        dzhat = dy * params[i]["gamma"]
        dz = inv / nb * (nb * dzhat - dzhat.sum(0) - zhat * (dzhat * zhat).sum(0))
        g["w"] = a_in.T @ dz
        g["b"] = dz.sum(0)
        grads[i] = g
        if i > 0:
            da = dz @ params[i]["w"].T
    lr = onecycle(count)
    t = count + 1
    for i in range(3):
        for k, gk in grads[i].items():
            mu[i][k] = B1 * mu[i][k] + (1 - B1) * gk
            nu[i][k] = B2 * nu[i][k] + (1 - B2) * gk * gk
            mhat = B1 * mu[i][k] / (1 - B1 ** (t + 1)) + (1 - B1) * gk / (1 - B1**t)
            vhat = nu[i][k] / (1 - B2**t)
            params[i][k] -= (lr * mhat / (np.sqrt(vhat) + EPS)).astype(f32)
    return loss


def accuracy(x, y):
    logits, _ = forward(x, False)
    return float((logits.argmax(1) == y).mean())


times, val = [], []
count = 0
for epoch in range(epochs):
    t0 = time.perf_counter()
    order = rng.permutation(n)
    for s in range(0, n, batch):
        idx = order[s : s + batch]
        step(x_train[idx], y_train[idx], count)
        count += 1
    times.append(time.perf_counter() - t0)
    val.append(accuracy(x_val, y_val))
print(json.dumps({"seconds_per_epoch": times, "val_accuracy": val, "test_accuracy": accuracy(x_test, y_test)}))
