"""The library's layers and what each may import (and how long any function of the repository may be).

- the numeric core (cnnviz/*.py) and cnnviz/lessons/ compute with numpy: no plotly, torch or streamlit;
- cnnviz/draw/ draws (plotly, PIL): no streamlit, no torch;
- cnnviz/lenet/ is the only place that imports torch;
- nothing under cnnviz/ imports streamlit or the app's `ui` package; lessons never import draw, and the
  core imports neither draw nor lenet.

Checked twice: by reading every file's import statements (including imports inside functions), and by
importing each layer in a fresh interpreter and looking at `sys.modules`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnnviz"
LAYERS = ("core", "lessons", "draw", "lenet")
EVERYWHERE = {"streamlit", "ui"}
FORBIDDEN = {  # top-level packages, and cnnviz sub-packages, that a layer may not import
    "core": EVERYWHERE | {"plotly", "torch", "torchvision", "cnnviz.draw", "cnnviz.lenet"},
    "lessons": EVERYWHERE | {"plotly", "torch", "torchvision", "cnnviz.draw", "cnnviz.lenet"},
    "draw": EVERYWHERE | {"torch", "torchvision", "cnnviz.lenet"},
    "lenet": EVERYWHERE,
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else "core"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in the file names, absolute."""
    names = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the file's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def breaks(name: str, forbidden: set[str]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_file_is_in_a_layer():
    assert FILES
    assert {layer_of(p) for p in FILES} <= set(LAYERS)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_imports_stay_inside_the_layer(path):
    forbidden = FORBIDDEN[layer_of(path)]
    bad = sorted(name for name in imported_names(path) if breaks(name, forbidden))
    assert not bad, f"{path.relative_to(ROOT)} ({layer_of(path)}) imports {', '.join(bad)}"


def test_only_lenet_imports_torch():
    users = {p for p in FILES if any(breaks(n, {"torch"}) for n in imported_names(p))}
    assert users and all(layer_of(p) == "lenet" for p in users)


@pytest.mark.parametrize(
    "layer", [pytest.param(layer, marks=[pytest.mark.slow] if layer == "lenet" else []) for layer in LAYERS]
)
def test_importing_a_layer_loads_nothing_it_may_not_use(layer):
    modules = [module_name(p) for p in FILES if layer_of(p) == layer]
    outside = sorted(f for f in FORBIDDEN[layer] if not f.startswith("cnnviz."))
    inside = sorted(f for f in FORBIDDEN[layer] if f.startswith("cnnviz."))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {outside!r}"
        f" or any(m == f or m.startswith(f + '.') for f in {inside!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )  # lenet: torch loads, ~3 s
    assert out.stdout.strip() == "[]", f"importing cnnviz's {layer} loads {out.stdout.strip()}"


MAX_FUNCTION_LINES = 80  # a function a reader takes in at once
REPO_SOURCES = ("app.py", "cnnviz", "ui", "pages", "tests", "benchmarks", "scripts")


def python_files() -> list[Path]:
    """Every Python file of the repository (the app, the library, the tests, the benchmarks, the scripts)."""
    files = []
    for name in REPO_SOURCES:
        where = ROOT / name
        files += [where] if where.is_file() else sorted(where.rglob("*.py"))
    return files


def test_no_function_in_the_repository_is_longer_than_80_lines():
    long = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert len(python_files()) > 100 and not long, "split these: " + "; ".join(long)
