"""Long calls release the GIL, and Ctrl-C (SIGINT) stops them with KeyboardInterrupt."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import emt
from conftest import MODELS


def _random_elman(n, gain, seed):
    rng = np.random.default_rng(seed)
    return emt.Model.from_state_dict(
        {"weight_ih_l0": np.zeros((n, 1)), "weight_hh_l0": rng.normal(size=(n, n)) * gain / np.sqrt(n)}
    )


def test_another_python_thread_runs_during_a_search():
    m = _random_elman(48, 1.5, 0)
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = count[0]
        start = time.perf_counter()
        emt.find_fixed_points(m, n_inits=16, threads=1)
        elapsed = time.perf_counter() - start
        during = count[0] - before
    finally:
        stop.set()
        t.join()
    # Holding the GIL for the whole call would leave the spinning thread (almost) nothing.
    assert elapsed > 0.05, f"the search was too short to tell ({elapsed:.3f} s)"
    assert during > 10_000, f"only {during} increments in {elapsed:.2f} s: the GIL was not released"


SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import numpy as np
    import emt

    rng = np.random.default_rng(0)
    n = 200
    m = emt.Model.from_state_dict(
        {"weight_ih_l0": np.zeros((n, 1)), "weight_hh_l0": rng.normal(size=(n, n)) * 1.5 / np.sqrt(n)}
    )
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        emt.find_fixed_points(m, n_inits=512, threads=2)   # minutes, uninterrupted
        print("finished")
    except KeyboardInterrupt:
        print(f"interrupted {time.perf_counter() - start:.2f}")
    three = emt.Model.from_state_dict({"weight_ih_l0": np.zeros((2, 1)), "weight_hh_l0": 3 * np.eye(2)})
    print("after", len(emt.find_fixed_points(three, n_inits=16, threads=1)))
    """
)


def test_ctrl_c_stops_a_long_search_and_leaves_the_interpreter_usable():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0].startswith("interrupted"), out.stdout
    assert float(lines[0].split()[1]) < 5.0, out.stdout
    assert lines[1] == "after 9", out.stdout


TRAIN_SCRIPT = textwrap.dedent(
    """
    import os, signal, threading, warnings
    import emt

    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, report = emt.train(s=8, d=8, hidden=32, max_steps=10**7, progress=False)
    print(report.stop, report.steps < 10**7, model.state_dim, len(caught))
    """
)


def test_ctrl_c_stops_training_and_returns_the_model_so_far():
    out = subprocess.run([sys.executable, "-c", TRAIN_SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["interrupted", "True", "32", "1"], out.stdout + out.stderr


def test_progress_reaches_every_seed_and_a_failing_callback_stops_the_search(capfd):
    m = emt.load(MODELS / "flipflop_gru16.safetensors")
    calls = []
    raw = emt._emt.find_fixed_points(m._m, n_inits=8, threads=2, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1] == (raw["n_seeds"], raw["n_seeds"])
    assert all(d1 <= d2 for (d1, _), (d2, _) in zip(calls, calls[1:]))

    def boom(done, total):
        raise RuntimeError("stop from progress")

    start = time.perf_counter()
    try:
        emt._emt.find_fixed_points(m._m, threads=1, progress=boom)
        raise AssertionError("the callback's exception was not raised")
    except RuntimeError as e:
        assert "stop from progress" in str(e)
    assert time.perf_counter() - start < 5
    emt.find_fixed_points(m, n_inits=8, progress=True)
    assert "seeds" in capfd.readouterr().err
