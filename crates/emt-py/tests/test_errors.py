"""Each exception class from a bad input, with the Rust message naming the value or path."""

import pickle

import numpy as np
import pytest

import emt
from conftest import MODELS, TORCH


@pytest.fixture
def relu():
    return emt.load(TORCH / "relu.safetensors")


def test_the_hierarchy():
    for cls in (
        emt.ShapeError,
        emt.NonFiniteError,
        emt.ParameterError,
        emt.TaskIdError,
        emt.SingularError,
        emt.FormatError,
        emt.NotConvergedError,
        emt.ParseError,
        emt.DivergedError,
    ):
        assert issubclass(cls, emt.EmtError) and issubclass(cls, ValueError)
        assert cls.__module__ == "emt"
        e = pickle.loads(pickle.dumps(cls("message")))
        assert type(e) is cls and str(e) == "message"


def test_shape(relu):
    with pytest.raises(emt.ShapeError, match=r"inputs.*\(T, B, 3\)"):
        relu.simulate(np.zeros((4, 2, 5)))
    with pytest.raises(emt.ShapeError, match="h0"):
        relu.simulate(np.zeros((4, 2, 3)), h0=np.zeros((3, 5)))
    with pytest.raises(emt.ShapeError, match="initial_states"):
        emt.find_fixed_points(relu, np.zeros((4, 7)))


def test_non_finite(relu):
    with pytest.raises(emt.NonFiniteError, match="NaN in state"):
        relu.step(np.full(5, np.nan), np.zeros(3))
    with pytest.raises(emt.NonFiniteError, match="inputs"):
        relu.simulate(np.full((2, 1, 3), np.inf))
    with pytest.raises(emt.NonFiniteError, match="weight_hh_l0"):
        emt.Model.from_state_dict({"weight_ih_l0": np.zeros((2, 1)), "weight_hh_l0": np.full((2, 2), np.nan)})


def test_parameter(relu):
    with pytest.raises(emt.ParameterError, match="tol_q"):
        emt.find_fixed_points(relu, tol_q=-1.0)
    with pytest.raises(emt.ParameterError, match="steps"):
        emt.lyapunov_spectrum(relu, steps=0)
    with pytest.raises(emt.ParameterError, match="dtype"):
        relu.save("/tmp/never.safetensors", dtype="f16")
    with pytest.raises(emt.ParameterError, match="optimizer"):
        emt.train(optimizer="sgd", progress=False)


def test_task_id_and_parse():
    with pytest.raises(emt.TaskIdError, match="1,2,3"):
        emt.circuit("1,2,3", 2, 2)
    with pytest.raises(emt.ParseError, match="banana"):
        emt.load(MODELS / "z3.safetensors", cell="banana")
    with pytest.raises(emt.ParseError, match="sigmoid"):
        emt.train(nonlinearity="sigmoid", progress=False)


def test_singular():
    zero = emt.Model.from_state_dict(
        {"weight_ih_l0": np.zeros((4, 1)), "weight_hh_l0": np.zeros((4, 4)), "weight": np.zeros((1, 4))}
    )
    with pytest.raises(emt.SingularError, match="memory basis"):
        emt.variable_basis(zero, "repeat_copy", 2, 1)


def test_format_and_files(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(emt.FormatError, match="bad.safetensors"):
        emt.load(bad)
    with pytest.raises(FileNotFoundError) as e:
        emt.load(tmp_path / "missing.safetensors")
    assert e.value.filename.endswith("missing.safetensors")
    with pytest.raises(emt.FormatError, match="not a regular file"):
        emt.load(tmp_path)
    m = emt.load(MODELS / "z3.safetensors")
    with pytest.raises(OSError, match="no-such-dir"):
        m.save(tmp_path / "no-such-dir" / "m.safetensors")
    sd = m.state_dict()
    with pytest.raises(emt.FormatError, match="colour"):
        emt.Model.from_state_dict(sd, metadata={**m.metadata, "colour": "red"})


def test_not_converged_and_diverged():
    with pytest.raises(emt.NotConvergedError, match="iterations"):
        emt.limit_cycle(emt.load(MODELS / "ctgru_rotation.safetensors"), max_iters=1, tol=1e-300)
    blowup = emt.Model.from_state_dict(
        {"weight_ih_l0": np.ones((2, 1)), "weight_hh_l0": 1e3 * np.eye(2)}, nonlinearity="relu"
    )
    with pytest.raises(emt.DivergedError, match="step"):
        blowup.simulate(np.ones((300, 1, 1)))


def test_wrong_python_types_are_type_errors():
    with pytest.raises(TypeError):
        emt.find_fixed_points("not a model")
    with pytest.raises(TypeError):
        emt.Model(object())


def test_a_simulation_larger_than_memory_is_refused_not_attempted():
    m = emt.load(TORCH / "gru2.safetensors")
    huge = np.broadcast_to(np.zeros((1, 1, 3)), (10**11, 1, 3))  # a view: no memory behind it
    with pytest.raises(emt.ParameterError, match="GiB"):
        m.simulate(huge)
