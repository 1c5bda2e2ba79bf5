"""Shared helpers: the repository's files, the `emt` binary for CLI parity, a safetensors reader."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
MODELS = ROOT / "docs" / "models"
TORCH = ROOT / "crates" / "emt-core" / "tests" / "fixtures" / "torch_layers"


def emt_binary() -> str:
    """The `emt` CLI the README's test command builds (`cargo test --workspace`): $EMT_BIN, else
    target/debug or target/release, else one on PATH. Missing is a failure, never a skip."""
    candidates = [os.environ.get("EMT_BIN")]
    candidates += [str(ROOT / "target" / p / "emt") for p in ("debug", "release")]
    candidates.append(shutil.which("emt"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    pytest.fail("no emt binary: run `cargo test --workspace` (or `cargo build --bin emt`) first, or set EMT_BIN")


def cli(*args: str) -> dict:
    """Runs `emt ARGS` and returns its last stdout line, the JSON summary."""
    out = subprocess.run([emt_binary(), *map(str, args)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"emt {' '.join(map(str, args))} failed: {out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


_DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64}


def read_safetensors(path: Path) -> dict:
    """The tensors of a safetensors file as numpy arrays (a test helper, not emt's reader)."""
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    body = data[8 + size :]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        lo, hi = entry["data_offsets"]
        out[name] = np.frombuffer(body[lo:hi], dtype=_DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return out


class FakeTensor:
    """Quacks like a CPU torch tensor: `.detach().cpu().numpy()` (CI never downloads torch)."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = np.asarray(array)

    def detach(self) -> "FakeTensor":
        return self

    def cpu(self) -> "FakeTensor":
        return self

    def numpy(self) -> np.ndarray:
        return self._array


def fake_module(class_name: str, state: dict, **attributes):
    """An object whose class is called `class_name` (LSTM, GRU, RNN, Linear) with `state_dict()`."""

    def state_dict(self):
        return {k: FakeTensor(v) for k, v in state.items()}

    cls = type(class_name, (), {"state_dict": state_dict})
    module = cls()
    for k, v in attributes.items():
        setattr(module, k, v)
    return module
