"""Every analysis on small models: ground truths, and the same numbers as the `emt` CLI on the same
file and seeds."""

import json
import math
import subprocess
import warnings

import numpy as np
import pytest

import emt
from conftest import MODELS, TORCH, cli, emt_binary, read_safetensors


@pytest.fixture(scope="module")
def uncoupled(tmp_path_factory):
    """x' = tanh(3 x) per unit, N = 2: 3^2 = 9 fixed points, 2^2 = 4 stable."""
    path = tmp_path_factory.mktemp("m") / "three.safetensors"
    emt.Model.from_state_dict({"weight_ih_l0": np.zeros((2, 1)), "weight_hh_l0": 3 * np.eye(2)}).save(path)
    return path


def test_fixed_points_ground_truth_and_fixedpointfinder_interface(uncoupled):
    m = emt.load(uncoupled)
    fps = emt.find_fixed_points(m, n_inits=16, threads=1)
    assert (len(fps), fps.n_stable, fps.state_dim) == (9, 4, 2)
    root = 1.0
    for _ in range(200):  # tanh(3 r) = r, a contraction near r = 1
        root = math.tanh(3 * root)
    assert set(np.round(np.abs(fps.xstar).ravel(), 12)) == {0.0, round(root, 12)}
    assert np.all(fps.qstar < 1e-12)
    # FixedPointFinder's attributes: Jacobians, their eigenvalues, stability per point.
    for x, j, ev in zip(fps.xstar, fps.J_xstar, fps.eigval_J_xstar):
        np.testing.assert_allclose(j, m.jacobian(x), atol=1e-14)
        np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(np.linalg.eigvals(j)), atol=1e-12)
    stable = fps[fps.is_stable]
    assert len(stable) == 4 and np.all(np.abs(stable.xstar) > 0.99) and stable.slow is None
    assert len(fps[0]) == 1 and len(fps[2:5]) == 3
    assert fps.eigvec_J_xstar.shape == (9, 2, 2) and fps.eigval_J_xstar.dtype == np.complex128
    with pytest.raises(IndexError):
        fps[9]
    d = fps.to_dict()
    assert len(d["xstar"]) == 9 and len(d["eigval_J_xstar"][0][0]) == 2  # complex as [re, im]
    assert "9 fixed points (4 stable)" in repr(fps)


def test_fixed_points_equal_the_cli(uncoupled):
    for path in (uncoupled, TORCH / "gru2.safetensors"):
        j = cli("fixed-points", "--weights", path, "--starts", 8, "--threads", 1, "--seed", 3)
        fps = emt.find_fixed_points(emt.load(path), n_inits=8, seed=3, threads=2)
        assert (len(fps), fps.n_stable, fps.n_seeds, fps.n_outliers) == (
            j["count"],
            j["stable_count"],
            j["seeds"],
            j["outliers"],
        )
        assert len(fps.slow) == len(j["slow_points"])
        for p, q, lead in zip(j["fixed_points"], fps.xstar, fps.eigval_J_xstar[:, 0]):
            np.testing.assert_allclose(q, p["state"], rtol=0, atol=1e-12)
            assert lead == pytest.approx(complex(*p["leading_eigenvalue"]), abs=1e-12)
        assert list(fps.is_stable) == [p["stable"] for p in j["fixed_points"]]


def test_a_large_model_gets_a_smaller_default_seeding_with_a_warning(tmp_path):
    # As `emt fixed-points` without --starts: above 256 unknowns the recipe keeps about
    # 1344 (256 / n)^3 seeds (n = 800: 2 starts, 42 seeds), and says so.
    n = 800
    path = tmp_path / "elman800.safetensors"
    emt.Model.from_state_dict({"weight_ih_l0": np.zeros((n, 1)), "weight_hh_l0": 0.5 * np.eye(n)}).save(path)
    with pytest.warns(UserWarning, match="800 unknowns: minimising 42 seeds"):
        fps = emt.find_fixed_points(emt.load(path), threads=2, compute_jacobians=False, decompose_jacobians=False)
    j = cli("fixed-points", "--weights", path, "--threads", 2)
    assert (fps.n_seeds, len(fps), fps.n_stable) == (j["seeds"], j["count"], j["stable_count"]) == (42, 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert emt.find_fixed_points(emt.load(path), n_inits=1, threads=2, compute_jacobians=False).n_seeds == 21


def test_fixed_points_from_sampled_states_and_an_input_per_seed(uncoupled, tmp_path):
    m = emt.load(TORCH / "relu.safetensors")
    t = m.simulate(np.random.default_rng(1).normal(size=(30, 4, 3)))
    seeds = emt.sample_states(t.states, 16, noise_scale=0.01, seed=2)
    assert seeds.shape == (16, 5)
    np.testing.assert_array_equal(seeds, emt.sample_states(t.states, 16, noise_scale=0.01, seed=2))
    inputs = np.repeat([[0.0, 0.0, 0.0], [0.5, -0.2, 0.1]], 8, axis=0)
    fps = emt.find_fixed_points(m, seeds, inputs, threads=1)
    assert fps.n_inputs == 2 and fps.inputs.shape == (len(fps), 3)
    for x, u in zip(fps.xstar, fps.inputs):
        np.testing.assert_allclose(m.step(x, u), x, atol=1e-9)


def test_lyapunov_equals_the_cli_and_is_descending():
    path = MODELS / "ctgru_rotation.safetensors"
    j = cli("lyapunov", "--weights", path, "--steps", 3000, "--transient", 500)
    s = emt.lyapunov_spectrum(emt.load(path), steps=3000, transient=500)
    np.testing.assert_allclose(s.exponents, j["exponents"], rtol=0, atol=1e-13)
    assert s.time_unit == "time" and s.kaplan_yorke == j["kaplan_yorke"]
    assert np.all(np.diff(s.exponents) <= 0) and s.trace.shape[1] == 2
    l1 = emt.lambda_max(emt.load(path), steps=3000, transient=500)
    assert l1 == pytest.approx(j["lambda_max_two_trajectories"], abs=1e-13)


def test_a_stable_linear_map_has_its_log_eigenvalues_as_exponents():
    # h' = W h with the identity activation is not expressible in a state dict; relu on a
    # positive orthant is: W = diag(0.9, 0.5) keeps positive states positive.
    m = emt.Model.from_state_dict(
        {"weight_ih_l0": np.zeros((2, 1)), "weight_hh_l0": np.diag([0.9, 0.5])}, nonlinearity="relu"
    )
    s = emt.lyapunov_spectrum(m, np.array([1.0, 1.0]), steps=500, transient=10)
    np.testing.assert_allclose(s.exponents, [math.log(0.9), math.log(0.5)], atol=1e-9)
    assert s.sum_rule_reference == pytest.approx(math.log(0.45), abs=1e-9)


def test_attractor_and_limit_cycle_of_the_rotation_ctgru():
    path = MODELS / "ctgru_rotation.safetensors"
    m = emt.load(path)
    a = emt.classify_attractor(m)
    j = cli("cycle", "--weights", path)
    assert a.kind == j["kind"] == "limit_cycle"
    assert a.period == pytest.approx(j["period"], abs=1e-12)
    np.testing.assert_allclose(a.floquet, [complex(*z) for z in j["floquet"]], atol=1e-12)
    c = emt.limit_cycle(m)
    # docs/DYNAMICS.md's ground truth: period 12.8325, non-trivial multiplier 0.0375.
    assert c.period == pytest.approx(12.8325, abs=1e-3) and c.stable
    assert abs(c.multipliers[0]) == pytest.approx(0.0375, abs=2e-4)
    assert abs(c.trivial_multiplier - 1) < 1e-6
    with pytest.raises(emt.ParameterError, match="map"):
        emt.limit_cycle(emt.load(MODELS / "z3.safetensors"))


def test_phase_response_equals_the_cli_and_the_z3_truth():
    pulses = read_safetensors(MODELS / "colours.safetensors")
    r = emt.phase_response(emt.load(MODELS / "z3.safetensors"), pulses)
    j = cli("phase", "--weights", MODELS / "z3.safetensors", "--pulses", MODELS / "colours.safetensors")
    assert r.period == pytest.approx(j["period"]) and r.kind == j["kind"]
    for name, curve in r.curves.items():
        assert curve.mean == pytest.approx(j["shifts"][name], abs=1e-12)
        assert curve.spread < 1e-7
    means = sorted(c.mean for c in r.curves.values())
    np.testing.assert_allclose(means, [-2 * math.pi / 3, 0.0, 2 * math.pi / 3], atol=1e-6)


def test_sweep_finds_the_hopf_point_as_the_cli_does():
    path = MODELS / "ctgru_rotation.safetensors"
    s = emt.sweep(emt.load(path), "weight_hh_l0[4,0]", 0.0, 2.5, 11, continuation=True)
    args = ["--param", "weight_hh_l0[4,0]", "--from", 0, "--to", 2.5, "--steps", 11, "--continuation"]
    j = cli("sweep-param", "--weights", path, *args)
    assert [(b.kind, round(b.parameter, 9)) for b in s.bifurcations] == [
        (b["kind"], round(b["parameter"], 9)) for b in j["bifurcations"]
    ]
    # The per-value lines: attractor, period, range as the CLI prints them.
    lines = subprocess.run(
        [emt_binary(), "sweep-param", "--weights", str(path), *map(str, args)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[:-1]
    rows = [json.loads(line) for line in lines]
    assert s.attractors == [r["attractor"] for r in rows]
    np.testing.assert_allclose(s.periods, [np.nan if r["period"] is None else r["period"] for r in rows], atol=1e-12)
    np.testing.assert_allclose(s.ranges, [r["range"] for r in rows], atol=1e-12)
    assert s.period_divergence == j["period_divergence"]
    assert len(s.branches) == len(j["branches"]) and s.attractors[-1] == "limit_cycle"
    hopf = [b for b in s.bifurcations if b.kind == "hopf"]
    assert len(hopf) == 1 and hopf[0].parameter == pytest.approx(4 - 2 * math.sqrt(2), abs=1e-7)
    assert len(s.parameters) == 11 and s.counts.min() >= 1


def test_certified_census_of_the_rotation_ctgru():
    c = emt.certified_fixed_points(emt.load(MODELS / "ctgru_rotation.safetensors"))
    assert c.complete and c.undecided == 0 and len(c.xstar) == 1
    np.testing.assert_allclose(c.xstar[0], [0.0, 0.0], atol=1e-12)
    assert not c.is_stable[0]  # eigenvalues 0.2071 +- 0.7071i
    with pytest.raises(emt.ParameterError, match="ctgru"):
        emt.certified_fixed_points(emt.load(TORCH / "gru2.safetensors"))


def test_an_automaton_from_a_rotation_is_z3():
    angle = 2 * math.pi / 3
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2, size=(12, 6))
    states = np.zeros((12, 7, 2))
    for b, w in enumerate(words):
        k = np.concatenate([[0], np.cumsum(w)])
        states[b] = np.stack([np.cos(angle * k), np.sin(angle * k)], axis=1)
    a = emt.extract_automaton(states, words, 2, min_share=0.0)
    assert (a.states, a.letters) == (3, 2)
    assert a.cyclic_group(3) is not None and a.cyclic_group(2) is None
    assert a.labels.shape == (12, 7)
    assert a.run([1, 1, 1]) == a.start and a.run([1]) != a.start
    with pytest.raises(emt.ParameterError, match="letter"):
        emt.extract_automaton(states, words + 5, 2)


def test_the_variable_basis_of_the_linear_repeat_copy_circuit_is_exact(tmp_path):
    c = emt.circuit("repeat_copy", 4, 2, kind="linear", hidden=12)
    assert c.realizable and c.model.cell == "elman" and c.model.state_dim == 12
    b = emt.variable_basis(c.model)
    assert b.task == "3,0,0" and (b.s, b.d) == (4, 2)
    assert b.phi_error < 1e-8 and b.decoding_accuracy == 1.0 and b.accuracy_h200 == 1.0
    assert b.psi.shape == (12, 8) and b.psi_dual.shape == (8, 12)
    c.model.save(tmp_path / "c.safetensors")
    j = cli("analyze", "--weights", tmp_path / "c.safetensors")
    assert b.phi_error == pytest.approx(j["phi_error"], abs=1e-15)
    assert b.decoding_accuracy == j["decoding_accuracy"] and b.accuracy_h200 == j["accuracy_h200"]
    assert set(b.methods) == set(j["methods"])
    t = emt.circuit("repeat_copy", 4, 2, kind="tanh")
    assert t.realizable and t.model.state_dim == 96


def test_training_equals_the_cli_byte_for_byte(tmp_path):
    events = []
    m, report = emt.train(flipflop=2, hidden=6, max_steps=4, horizon=12, seed=5, callback=events.append, progress=False)
    out = tmp_path / "ff.safetensors"
    j = cli("train", "--flipflop", 2, "--hidden", 6, "--max-steps", 4, "--horizon", 12, "--seed", 5, "--threads", 1, "--out", out)
    assert out.read_bytes() == m.to_bytes()
    assert report.steps == j["steps"] == 4 and report.stop == j["stop"]
    assert report.eval_accuracy == j["eval_accuracy"] and report.final_loss == j["final_loss"]
    assert events and all(e["event"] == "eval" for e in events)


def test_a_callback_can_stop_training_and_its_exception_propagates():
    m, report = emt.train(flipflop=1, hidden=4, max_steps=400, horizon=10, callback=lambda e: False, progress=False)
    assert report.stop == "observer" and report.steps < 400 and m.state_dim == 4

    def boom(event):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        emt.train(flipflop=1, hidden=4, max_steps=400, horizon=10, callback=boom, progress=False)


def test_reproduce_gru_quick_returns_the_cli_report(tmp_path):
    lines = []
    r = emt.reproduce.gru(quick=True, out=tmp_path / "py", say=lines.append)
    j = cli("reproduce", "gru", "--quick", "--out", tmp_path / "cli")
    assert set(r.keys()) == set(j) and lines
    for key in set(j) - {"seconds"}:
        assert _without_paths(r[key]) == _without_paths(j[key]), key
    with pytest.raises(emt.ParameterError, match="bogus"):
        emt.reproduce.gru(quick=True, bogus=1)


def _without_paths(value):
    if isinstance(value, dict):
        return {k: _without_paths(v) for k, v in value.items() if k not in ("seconds", "saved", "out")}
    if isinstance(value, list):
        return [_without_paths(v) for v in value]
    if isinstance(value, str) and "/" in value:
        return "<path>"
    return value


def test_reproduce_gating_and_phase_codes_quick_return_the_cli_reports(tmp_path):
    g = emt.reproduce.gating(quick=True)
    j = cli("reproduce", "gating", "--quick")
    assert set(g.keys()) == set(j)
    for key in set(j) - {"seconds"}:
        assert _without_paths(g[key]) == _without_paths(j[key]), key
    p = emt.reproduce.phase_codes(quick=True, out=tmp_path / "py")
    j = cli("reproduce", "phase-codes", "--quick", "--out", tmp_path / "cli")
    assert set(p.keys()) == set(j)
    for key in set(j) - {"seconds", "out"}:
        assert _without_paths(p[key]) == _without_paths(j[key]), key
    assert (tmp_path / "py").is_dir() and p.networks == j["networks"]


def test_results_pickle_and_convert_to_plain_data(uncoupled):
    import pickle

    m = emt.load(uncoupled)
    fps = emt.find_fixed_points(m, n_inits=16, threads=1)
    back = pickle.loads(pickle.dumps(fps))
    np.testing.assert_array_equal(back.xstar, fps.xstar)
    assert back.n_stable == 4 and len(back.slow) == len(fps.slow)
    s = emt.lyapunov_spectrum(m, steps=200, transient=10)
    assert pickle.loads(pickle.dumps(s)).exponents.tolist() == s.exponents.tolist()
    for result in (fps, s, emt.classify_attractor(m)):
        json.dumps(result.to_dict())  # JSON-ready: no arrays, no complex numbers left
