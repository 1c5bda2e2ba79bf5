"""Writes crates/emt-core/tests/fixtures/numpy_weights.safetensors with numpy + safetensors.

Elman weights under PyTorch's names with values given by a formula the Rust test recomputes:
  weight_ih_l0 (4, 3) f32, weight_hh_l0 (4, 4) f64, bias_ih_l0 / bias_hh_l0 (4,) f32,
  weight (2, 4) f32, bias (2,) f64; element [i, j] = (10 * i + j + 1) / 8 (vectors: (i + 1) / 8),
  bias_hh_l0 = -(i + 1) / 16. Metadata: task "255,0,0", s 8, d 8, seed 3, step 7.
weight_hh_l0 is built Fortran-ordered on purpose and passed through np.ascontiguousarray:
safetensors' numpy writer copies the raw buffer, so a Fortran-ordered array would be stored
transposed. Run: python3 tools/make_numpy_fixture.py  (needs numpy, safetensors)
"""
import numpy as np
from safetensors.numpy import save_file


def grid(rows, cols, dtype):
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return ((10 * i + j + 1) / 8).astype(dtype)


hh = np.asfortranarray(grid(4, 4, np.float64))
tensors = {
    "weight_ih_l0": grid(4, 3, np.float32),
    "weight_hh_l0": np.ascontiguousarray(hh),
    "bias_ih_l0": (np.arange(4) + 1).astype(np.float32) / 8,
    "bias_hh_l0": -(np.arange(4) + 1).astype(np.float32) / 8 / 2,
    "weight": grid(2, 4, np.float32),
    "bias": (np.arange(2) + 1).astype(np.float64) / 8,
}
meta = {"task": "255,0,0", "s": "8", "d": "8", "seed": "3", "step": "7"}
save_file(tensors, "crates/emt-core/tests/fixtures/numpy_weights.safetensors", metadata=meta)
print("wrote", len(tensors), "tensors")
