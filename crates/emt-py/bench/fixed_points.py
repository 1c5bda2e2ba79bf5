"""Python against Rust on the same fixed-point search: is a call from Python as fast as the library?

Trains (or loads) the 3-bit flip-flop GRU, N = 16, then times `emt.find_fixed_points` (median of
`--repeats` calls) and the same search in-process in Rust (`examples/time_fixed_points.rs`, the
same seeding recipe, settings, eigenvectors and Jacobians), and prints both with their ratio.

    pip install ./crates/emt-py          # the release build, as a user gets it
    python crates/emt-py/bench/fixed_points.py [--model out/flipflop_gru16.safetensors] [--threads 1]
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import emt

ROOT = Path(__file__).resolve().parents[3]

parser = argparse.ArgumentParser()
parser.add_argument("--model", default=str(ROOT / "out" / "flipflop_gru16.safetensors"))
parser.add_argument("--n-inits", type=int, default=64)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--repeats", type=int, default=7)
args = parser.parse_args()

model_path = Path(args.model)
if not model_path.exists():
    model_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"training the 3-bit flip-flop GRU (N = 16) -> {model_path}")
    model, report = emt.train(flipflop=3, cell="gru", hidden=16, max_steps=3000, lr=1e-2, seed=0, progress=False)
    print(f"  {report.steps} steps, eval accuracy {report.eval_accuracy:.4f} ({report.stop})")
    model.save(model_path)
model = emt.load(model_path)

times = []
for _ in range(args.repeats):
    start = time.perf_counter()
    fps = emt.find_fixed_points(model, n_inits=args.n_inits, seed=args.seed, threads=args.threads)
    times.append(time.perf_counter() - start)
python_median = statistics.median(times)

rust = subprocess.run(
    [
        "cargo", "run", "--quiet", "--release", "--example", "time_fixed_points", "--",
        str(model_path), str(args.n_inits), str(args.seed), str(args.threads), str(args.repeats),
    ],
    cwd=ROOT, capture_output=True, text=True, check=True,
)
r = json.loads(rust.stdout.strip().splitlines()[-1])
assert (r["count"], r["stable_count"]) == (len(fps), fps.n_stable), (r, fps)
print(
    json.dumps(
        {
            "model": os.fspath(model_path),
            "fixed_points": len(fps),
            "stable": fps.n_stable,
            "seeds": fps.n_seeds,
            "threads": args.threads,
            "python_median_seconds": python_median,
            "python_min_seconds": min(times),
            "rust_median_seconds": r["median_seconds"],
            "rust_min_seconds": r["min_seconds"],
            "python_over_rust": python_median / r["median_seconds"],
        }
    )
)
