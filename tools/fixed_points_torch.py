"""FixedPointFinder's algorithm in PyTorch, on the problem emt solves in its fixed-point bench.

FixedPointFinder (Golub & Sussillo) minimises q = 1/2 |F(x) - x|^2 over a batch of seeds with
Adam (its defaults: lr 1.0, Adam epsilon 0.01, learning rate decayed by 0.95 when q stops
improving, max_iters 5000, tol_q 1e-12, tol_dq 1e-20, tol_unique 1e-3) and no polishing. This
script runs exactly that loop with torch.nn.GRUCell (float64, CPU) on the GRU and the 100 seeds
that `cargo run --release -p emt-dynamics --example fpf_problem -- DIR` writes, and prints the
wall time, how many seeds converged, the distinct fixed points and the worst q.

Run: python tools/fixed_points_torch.py DIR [threads]   (needs torch and safetensors)
Not reproduced: FPF's adaptive gradient-norm clipping (it only slows Adam further).
"""
import sys
import time

import torch
from safetensors.torch import load_file

directory = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(threads)

model = load_file(f"{directory}/gru128.safetensors")
seeds = load_file(f"{directory}/seeds.safetensors")["seeds"].double()
n = model["weight_hh_l0"].shape[1]
cell = torch.nn.GRUCell(model["weight_ih_l0"].shape[1], n, bias=False).double()
with torch.no_grad():
    cell.weight_ih.copy_(model["weight_ih_l0"])
    cell.weight_hh.copy_(model["weight_hh_l0"])
for p in cell.parameters():
    p.requires_grad_(False)

x = seeds.clone().requires_grad_(True)
u = torch.zeros(x.shape[0], cell.weight_ih.shape[1], dtype=torch.float64)
opt = torch.optim.Adam([x], lr=1.0, eps=0.01)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.95, patience=5)

start = time.perf_counter()
prev = float("inf")
iters = 0
for iters in range(1, 5001):
    opt.zero_grad()
    q = 0.5 * ((cell(u, x) - x) ** 2).sum(dim=1)
    loss = q.mean()
    loss.backward()
    opt.step()
    sched.step(loss.item())
    value = loss.item()
    if q.max().item() < 1e-12 or abs(prev - value) < 1e-20:
        break
    prev = value
elapsed = time.perf_counter() - start

with torch.no_grad():
    q = 0.5 * ((cell(u, x) - x) ** 2).sum(dim=1)
converged = x[q < 1e-12].detach()
unique = []
for row in converged:
    if all(torch.linalg.norm(row - other) >= 1e-3 for other in unique):
        unique.append(row)
print(
    f"torch FPF-style Adam: {iters} iterations, {elapsed:.2f} s ({threads} thread(s)); "
    f"{int((q < 1e-12).sum())}/{x.shape[0]} seeds below tol_q, {len(unique)} distinct fixed points, "
    f"median q {q.median().item():.1e}, worst q {q.max().item():.1e}"
)
