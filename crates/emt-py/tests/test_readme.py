"""The README's Python block runs as written (from the repository root), and the package's
docstring examples hold."""

import doctest
import os
import re

import emt
from conftest import ROOT


def test_the_readme_python_example_runs_as_written(capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no ```python block"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "27 fixed points (8 stable)" in out
    assert (ROOT / "out" / "flipflop_fixed_points.png").stat().st_size > 10_000


def test_docstring_examples():
    for module in (emt, emt.reproduce, emt._model):
        failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failed == 0, module.__name__
