"""Fits the fast f32 tanh of emt-rnn: tanh(x) ~ x * P(x^2) / Q(x^2) on |x| <= CLAMP.

Linearised least squares on the relative error (P(z) - r(x) Q(z) = 0 with r = tanh(x)/x),
reweighted (Lawson-style) towards minimax. Q's constant term is fixed at 1. Prints the
coefficients in Rust syntax and the max relative error in float64 and after float32 rounding.
Run: python3 tools/fit_tanh.py   (needs numpy)
"""
import numpy as np

P_DEG, Q_DEG = 4, 4  # degrees in z = x^2 (scanned: higher degrees put poles of Q in range)
CLAMP = 9.0  # tanh(9) = 1 - 3e-8 rounds to 1.0 in f32

x = np.concatenate([np.linspace(1e-4, 1.0, 4000), np.linspace(1.0, CLAMP, 8000)])
z = x * x
r = np.tanh(x) / x
w = np.ones_like(x)
for it in range(80):
    # unknowns: p_0..p_P, q_1..q_Q ; equation p(z) - r q(z) = r (q_0 = 1)
    A = np.hstack([np.vander(z, P_DEG + 1, increasing=True), -(r[:, None] * np.vander(z, Q_DEG + 1, increasing=True)[:, 1:])])
    sw = np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(A * sw / r[:, None], (r * np.sqrt(w)) / r, rcond=None)
    p, q = coef[: P_DEG + 1], np.concatenate([[1.0], coef[P_DEG + 1 :]])
    approx = x * np.polyval(p[::-1], z) / np.polyval(q[::-1], z)
    err = np.abs(approx - np.tanh(x)) / np.tanh(x)
    w = w * (err / err.max()) ** 0.5 + 1e-12
    w /= w.mean()


def f32_eval(xs):
    xs = xs.astype(np.float32)
    zz = xs * xs
    pp = np.float32(0)
    for c in p[::-1].astype(np.float32):
        pp = pp * zz + c
    qq = np.float32(0)
    for c in q[::-1].astype(np.float32):
        qq = qq * zz + c
    return np.minimum(xs * pp / qq, np.float32(1.0))


grid = np.linspace(1e-6, CLAMP, 2_000_001)
e64 = np.max(np.abs(x * np.polyval(p[::-1], z) / np.polyval(q[::-1], z) - np.tanh(x)) / np.tanh(x))
e32 = np.max(np.abs(f32_eval(grid).astype(np.float64) - np.tanh(grid)))
print("const P: [f32; %d] = [%s];" % (P_DEG + 1, ", ".join("%.9e" % c for c in p)))
print("const Q: [f32; %d] = [%s];" % (Q_DEG + 1, ", ".join("%.9e" % c for c in q)))
assert np.polyval(q[::-1], grid * grid).min() >= 1.0 - 1e-12, "Q must stay positive: no poles"
print("max relative error (f64 evaluation): %.3e" % e64)
print("max absolute error (f32 evaluation on [0, 9]): %.3e" % e32)
