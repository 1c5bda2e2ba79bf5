"""The figures: the same bytes as `emt plot` draws from the same file and settings."""

import pytest

import emt
from conftest import MODELS, TORCH, cli


@pytest.mark.parametrize("path", [MODELS / "ctgru_rotation.safetensors", TORCH / "gru2.safetensors"])
def test_fixed_point_portrait_equals_the_cli(tmp_path, path):
    m = emt.load(path)
    emt.plot_fixed_points(m, emt.find_fixed_points(m, n_inits=8, threads=1), tmp_path / "py.svg")
    cli("plot", "fixed-points", "--weights", path, "--starts", 8, "--threads", 1, "--out", tmp_path / "cli.svg")
    svg = (tmp_path / "py.svg").read_bytes()
    assert svg == (tmp_path / "cli.svg").read_bytes() and b"@font-face" in svg


def test_lyapunov_figure_equals_the_cli(tmp_path):
    path = MODELS / "ctgru_rotation.safetensors"
    s = emt.lyapunov_spectrum(emt.load(path), steps=2000)
    emt.plot_lyapunov(s, tmp_path / "py.png", title=f"Lyapunov spectrum of the ctgru cell (per time), {path}")
    cli("plot", "lyapunov", "--weights", path, "--steps", 2000, "--out", tmp_path / "cli.png")
    assert (tmp_path / "py.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_a_bad_figure_path_is_refused_by_name(tmp_path):
    m = emt.load(MODELS / "ctgru_rotation.safetensors")
    fps = emt.find_fixed_points(m, n_inits=4)
    with pytest.raises(emt.ParameterError, match="jpg"):
        emt.plot_fixed_points(m, fps, tmp_path / "f.jpg")
    with pytest.raises(OSError, match="missing"):
        emt.plot_fixed_points(m, fps, tmp_path / "missing" / "f.png")
