"""One GRU, LSTM (and Elman) training step in PyTorch and JAX, timed on this machine: the peers of
emt's `train_step_cells` and `train_step` benches (benches/train_step.rs).

A step is what emt's bench times: forward over T steps (h0 = 0), readout Linear(N, d_out),
MSE over the scored steps, backward (BPTT), global-norm clipping at 1.0 and one Adam update.
GRU shapes (N, d, T, B): (128, 6, 35, 64) scored from t = 7, and (100, 100, 50, 128) scored
on the last 5 steps (the SET-task shape); LSTM (128, 6, 35, 64) from t = 7 (h0 = c0 = 0). Elman (tanh, no biases, as EMT's networks):
(128, 6, 35, 64), (64, 6, 35, 64), (256, 6, 35, 64) from t = 7 and (128, 8, 108, 64) from
t = 8. Inputs are random signs, fixed before timing.

PyTorch: torch.nn.GRU / nn.LSTM (their fused CPU kernels) + nn.Linear, float32, torch.set_num_threads.
JAX: the same cells (PyTorch's gate conventions) under lax.scan, the whole step jit-compiled
with optax (clip_by_global_norm + adam), float32; XLA uses the machine's cores.

Run: python tools/bench_peers.py [--threads 2] [--seconds 5] [--cells gru,lstm,elman]
Prints one JSON line per (framework, shape) with the median step time and steps/s.
"""
import argparse
import json
import os
import statistics
import time

# N, d, T, B, first, last+1
SHAPES = {
    "gru": [(128, 6, 35, 64, 7, 35), (100, 100, 50, 128, 45, 50)],
    "lstm": [(128, 6, 35, 64, 7, 35)],
    "elman": [(128, 6, 35, 64, 7, 35), (64, 6, 35, 64, 7, 35), (256, 6, 35, 64, 7, 35), (128, 8, 108, 64, 8, 108)],
}


def timeit(step, seconds):
    for _ in range(5):
        step()
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 10:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def bench_torch(cell, threads, seconds):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for n, d, t_len, b, first, last in SHAPES[cell]:
        if cell == "gru":
            rnn, lin = torch.nn.GRU(d, n), torch.nn.Linear(n, d)
        elif cell == "lstm":
            rnn, lin = torch.nn.LSTM(d, n), torch.nn.Linear(n, d)
        else:
            rnn, lin = torch.nn.RNN(d, n, bias=False), torch.nn.Linear(n, d, bias=False)
        params = list(rnn.parameters()) + list(lin.parameters())
        opt = torch.optim.Adam(params, lr=1e-3)
        x = torch.sign(torch.randn(t_len, b, d))
        y = torch.sign(torch.randn(t_len, b, d))
        h0 = torch.zeros(1, b, n)
        if cell == "lstm":
            h0 = (h0, torch.zeros(1, b, n))

        def step():
            opt.zero_grad()
            h, _ = rnn(x, h0)
            loss = torch.mean((lin(h[first:last]) - y[first:last]) ** 2)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()

        med, count = timeit(step, seconds)
        report("pytorch " + torch.__version__, cell, threads, (n, d, t_len, b), med, count)


def bench_jax(cell_name, threads, seconds):
    import jax
    import jax.numpy as jnp
    import optax

    for n, d, t_len, b, first, last in SHAPES[cell_name]:
        key = jax.random.PRNGKey(0)
        ks = jax.random.split(key, 8)
        k = 1.0 / n**0.5
        u = lambda kk, shape: jax.random.uniform(kk, shape, jnp.float32, -k, k)
        g = {"gru": 3, "lstm": 4}.get(cell_name, 1)
        params = {
            "w_ih": u(ks[0], (g * n, d)), "w_hh": u(ks[1], (g * n, n)),
            "b_ih": u(ks[2], (g * n,)), "b_hh": u(ks[3], (g * n,)),
            "w_r": u(ks[4], (d, n)), "b_r": u(ks[5], (d,)),
        }
        if cell_name == "elman":
            params = {k: v * 0 if k.startswith("b") else v for k, v in params.items()}
        x = jnp.sign(jax.random.normal(ks[6], (t_len, b, d)))
        y = jnp.sign(jax.random.normal(ks[7], (t_len, b, d)))
        tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
        state = tx.init(params)

        def loss_fn(p):
            xin = x @ p["w_ih"].T + p["b_ih"]

            def elman(h, xi):
                h = jnp.tanh(xi + h @ p["w_hh"].T)
                return h, h

            def cell(h, xi):
                rec = h @ p["w_hh"].T + p["b_hh"]
                r = jax.nn.sigmoid(xi[:, :n] + rec[:, :n])
                z = jax.nn.sigmoid(xi[:, n:2 * n] + rec[:, n:2 * n])
                c = jnp.tanh(xi[:, 2 * n:] + r * rec[:, 2 * n:])
                h = (1 - z) * c + z * h
                return h, h

            def lstm(hc, xi):
                h, c = hc
                a = xi + h @ p["w_hh"].T + p["b_hh"]
                i, f = jax.nn.sigmoid(a[:, :n]), jax.nn.sigmoid(a[:, n:2 * n])
                gg, o = jnp.tanh(a[:, 2 * n:3 * n]), jax.nn.sigmoid(a[:, 3 * n:])
                c = f * c + i * gg
                h = o * jnp.tanh(c)
                return (h, c), h

            zero = jnp.zeros((b, n), jnp.float32)
            if cell_name == "lstm":
                _, hs = jax.lax.scan(lstm, (zero, zero), xin)
            else:
                _, hs = jax.lax.scan(cell if cell_name == "gru" else elman, zero, xin)
            o = hs[first:last] @ p["w_r"].T + p["b_r"]
            return jnp.mean((o - y[first:last]) ** 2)

        @jax.jit
        def train_step(p, s):
            g = jax.grad(loss_fn)(p)
            upd, s = tx.update(g, s, p)
            return optax.apply_updates(p, upd), s

        holder = [params, state]

        def step():
            p, s = train_step(holder[0], holder[1])
            jax.block_until_ready(p)
            holder[0], holder[1] = p, s

        med, count = timeit(step, seconds)
        report("jax " + jax.__version__, cell_name, threads, (n, d, t_len, b), med, count)


def report(framework, cell, threads, shape, med, count):
    print(json.dumps({"framework": framework, "cell": cell, "threads": threads, "shape": shape,
                      "median_ms": round(med * 1e3, 4), "steps_per_second": round(1.0 / med, 1),
                      "samples": count}), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--cells", default="gru,elman")
    a = ap.parse_args()
    # Must be set before XLA starts: one intra-op pool of `threads`.
    os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={a.threads}")
    for c in a.cells.split(","):
        bench_torch(c, a.threads, a.seconds)
        bench_jax(c, a.threads, a.seconds)
