"""The checked-in type stubs (_emt.pyi) describe the built extension exactly."""

import ast
import inspect
from pathlib import Path

import emt
from emt import _emt

STUB = Path(emt.__file__).with_name("_emt.pyi")


def _params(node):
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args]
    kwonly = [p.arg for p in a.kwonlyargs]
    return [n for n in names if n != "self"], kwonly


def _runtime(obj):
    sig = inspect.signature(obj)
    pos = [p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    kw = [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]
    return [n for n in pos if n != "self"], kw


def test_every_stubbed_function_and_method_matches_the_extension():
    tree = ast.parse(STUB.read_text())
    stubbed = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stubbed.add(node.name)
            assert _params(node) == _runtime(getattr(_emt, node.name)), node.name
        elif isinstance(node, ast.ClassDef):
            stubbed.add(node.name)
            cls = getattr(_emt, node.name)
            for item in node.body:
                if not isinstance(item, ast.FunctionDef):
                    continue
                attr = getattr(cls, item.name)
                if any(isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list):
                    assert not callable(attr), f"{node.name}.{item.name} is a property in the stub"
                    continue
                assert _params(item) == _runtime(attr), f"{node.name}.{item.name}"
            public = {k for k in vars(cls) if not k.startswith("_")}
            assert public <= {i.name for i in node.body if isinstance(i, ast.FunctionDef)} or issubclass(
                cls, BaseException
            ), public
        elif isinstance(node, (ast.AnnAssign, ast.Assign)):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            stubbed.add(target.id)
    runtime = {k for k in dir(_emt) if not k.startswith("_")}
    assert runtime <= stubbed, f"not in the stub: {sorted(runtime - stubbed)}"


def test_the_package_is_typed():
    assert Path(emt.__file__).with_name("py.typed").exists()
