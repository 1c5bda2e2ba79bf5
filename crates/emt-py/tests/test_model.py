"""emt.Model: loading, PyTorch parity (committed fixtures of torch's own numbers), round trips."""

import pickle

import numpy as np
import pytest

import emt
from conftest import MODELS, TORCH, FakeTensor, fake_module, read_safetensors

CASES = ["lstm_bias", "lstm_nobias", "lstm_proj", "lstm3", "gru2", "relu", "module"]


def _h0(io):
    return (io["h0"], io["c0"]) if "c0" in io else io["h0"]


@pytest.mark.parametrize("case", CASES)
def test_simulate_matches_torch_from_the_file(case):
    # The file is torch's state_dict as safetensors.torch.save_file wrote it.
    options = {"prefix": "rnn", "readout": "fc"} if case == "module" else {}
    m = emt.load(TORCH / f"{case}.safetensors", **options)
    io = read_safetensors(TORCH / f"{case}.io.safetensors")
    t = m.simulate(io["inputs"], h0=_h0(io))
    np.testing.assert_allclose(t.hidden, io["output"], rtol=0, atol=1e-12)
    if "readout" in io:
        np.testing.assert_allclose(t.outputs, io["readout"], rtol=0, atol=1e-12)
    assert t.states.shape[:2] == io["inputs"].shape[:2] and t.states.shape[2] == m.state_dim


@pytest.mark.parametrize("case", ["lstm_bias", "lstm_proj", "gru2", "relu", "lstm3"])
def test_from_torch_with_duck_typed_tensors_matches_torch(case):
    state = read_safetensors(TORCH / f"{case}.safetensors")
    io = read_safetensors(TORCH / f"{case}.io.safetensors")
    rnn = {k: v for k, v in state.items() if k not in ("weight", "bias")}
    kind = {"lstm": "LSTM", "gru": "GRU", "rel": "RNN"}[case[:4] if case.startswith("lstm") else case[:3]]
    extra = {"nonlinearity": "relu"} if kind == "RNN" else {}
    module = fake_module(kind, rnn, bidirectional=False, **extra)
    readout = fake_module("Linear", {"weight": state["weight"], "bias": state["bias"]}) if "weight" in state else None
    m = emt.Model.from_torch(module, readout=readout)
    assert m.cell == {"LSTM": "lstm", "GRU": "gru", "RNN": "elman"}[kind]
    assert m.nonlinearity == ("relu" if kind == "RNN" else "tanh")
    # torch's batch_first layout, and h0 given as torch tensors too.
    h0 = tuple(FakeTensor(a) for a in _h0(io)) if "c0" in io else FakeTensor(io["h0"])
    t = m.simulate(io["inputs"].transpose(1, 0, 2), h0=h0, batch_first=True)
    np.testing.assert_allclose(t.hidden, io["output"].transpose(1, 0, 2), rtol=0, atol=1e-12)
    if readout is not None:
        np.testing.assert_allclose(t.outputs, io["readout"].transpose(1, 0, 2), rtol=0, atol=1e-12)


def test_a_whole_module_state_dict_needs_its_prefixes_named():
    state = {k: FakeTensor(v) for k, v in read_safetensors(TORCH / "module.safetensors").items()}
    m = emt.Model.from_state_dict(state, prefix="rnn", readout="fc")
    assert (m.cell, m.num_layers, m.output_dim, m.state_dim) == ("lstm", 2, 2, 20)
    # The one Linear is found without naming it; a tensor no part of the model uses is an error
    # naming it, never ignored.
    assert emt.Model.from_state_dict(state, prefix="rnn") == m
    state["decoder.scale"] = FakeTensor(np.ones(2))
    with pytest.raises(emt.FormatError, match="decoder.scale"):
        emt.Model.from_state_dict(state, prefix="rnn", readout="fc")


def test_float32_tensors_are_stored_as_f32_and_ints_are_refused():
    sd = {"weight_ih_l0": np.ones((3, 1), np.float32), "weight_hh_l0": np.eye(3, dtype=np.float32)}
    assert emt.Model.from_state_dict(sd).dtype == "f32"
    with pytest.raises(emt.FormatError, match="int64"):
        emt.Model.from_state_dict({"weight_ih_l0": np.ones((3, 1), np.int64), "weight_hh_l0": np.eye(3)})


def test_properties_of_the_shipped_models():
    m = emt.load(MODELS / "ctgru_rotation.safetensors")
    assert (m.cell, m.state_dim, m.input_dim, m.output_dim, m.num_layers) == ("ctgru", 2, 0, 0, 1)
    assert m.is_flow and m.step_time == pytest.approx(0.1) and m.metadata["dt"] == "0.1"
    z3 = emt.load(MODELS / "z3.safetensors")
    assert (z3.cell, z3.is_flow, z3.state_dim, z3.input_dim) == ("oscillator", False, 2, 100)
    assert "ctgru" in repr(m)


def test_round_trips_bytes_pickle_save_and_state_dict(tmp_path):
    m = emt.load(TORCH / "gru2.safetensors")
    assert emt.Model.from_bytes(m.to_bytes()) == m
    back = pickle.loads(pickle.dumps(m))
    assert back == m and hash(back) == hash(m)
    m.save(tmp_path / "m.safetensors")
    assert emt.load(tmp_path / "m.safetensors") == m
    m.save(tmp_path / "m32.safetensors", dtype="f32")
    assert emt.load(tmp_path / "m32.safetensors").dtype == "f32"
    sd = m.state_dict()
    assert emt.Model.from_state_dict(sd, cell="gru") .to_bytes() == m.to_bytes()


def test_step_and_jacobian_agree_with_finite_differences():
    m = emt.load(TORCH / "lstm_bias.safetensors")
    rng = np.random.default_rng(0)
    x, u = rng.normal(size=m.state_dim) * 0.5, rng.normal(size=m.input_dim)
    j = m.jacobian(x, u)
    eps = 1e-6
    fd = np.stack([(m.step(x + eps * e, u) - m.step(x - eps * e, u)) / (2 * eps) for e in np.eye(m.state_dim)], axis=1)
    np.testing.assert_allclose(j, fd, atol=1e-8)
    ju = m.input_jacobian(x, u)
    fdu = np.stack([(m.step(x, u + eps * e) - m.step(x, u - eps * e)) / (2 * eps) for e in np.eye(m.input_dim)], axis=1)
    np.testing.assert_allclose(ju, fdu, atol=1e-8)
    # One simulated step is the step map, and its readout the readout of that state.
    t = m.simulate(u[None, None, :], h0=x[None, :])
    np.testing.assert_allclose(t.states[0, 0], m.step(x, u), atol=1e-15)
    np.testing.assert_allclose(t.outputs[0], m.readout(t.states[0]), atol=1e-15)


def test_a_flow_has_a_field_and_its_step_is_euler():
    m = emt.load(MODELS / "ctgru_rotation.safetensors")
    x, u = np.array([0.3, -0.2]), np.zeros(0)
    np.testing.assert_allclose(m.step(x, u), x + 0.1 * m.field(x, u), atol=1e-15)
    with pytest.raises(emt.ParameterError, match="map"):
        emt.load(TORCH / "relu.safetensors").field(np.zeros(5), np.zeros(3))


def test_start_state_is_the_files_h0_or_a_small_seeded_state():
    m = emt.load(TORCH / "relu.safetensors")
    a, b = m.start_state(3), m.start_state(3)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= 0.05 and np.any(a != 0)
