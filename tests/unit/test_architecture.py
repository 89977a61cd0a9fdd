"""Imports run one way (docs/architecture.md); no module of workbook/ grows past 400 lines."""

from __future__ import annotations

import ast

import pytest

from workbook.platform.paths import AIRFLOW_DAGS, REPO_ROOT

WORKBOOK = REPO_ROOT / "workbook"
# What each layer may import of the workbook (besides itself).
ALLOWED = {
    "platform": set(),
    "course": {"platform"},
    "grading": {"course", "platform"},
    "learner": {"grading", "course", "platform"},
    "maintainer": {"course", "platform"},
    "comparison": {"course", "platform"},
    "definitions": {"course", "platform"},
}


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "workbook" and len(parts) > 1 else None


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer):
    files = [WORKBOOK / f"{layer}.py"] if layer == "definitions" else []
    files += sorted((WORKBOOK / layer).rglob("*.py")) if (WORKBOOK / layer).is_dir() else []
    assert files
    for path in files:
        used = {_layer(m) for m in _imports(path)} - {None, layer}
        wrong = used - ALLOWED[layer]
        assert not wrong, f"{path.relative_to(REPO_ROOT)} imports {wrong}"


def test_nothing_imports_solutions_but_the_course_loader():
    for path in [*WORKBOOK.rglob("*.py"), *AIRFLOW_DAGS.rglob("*.py")]:
        assert not any(m.split(".")[0] == "solutions" for m in _imports(path)), path


def test_the_airflow_dags_import_only_the_platform():
    for path in AIRFLOW_DAGS.rglob("*.py"):
        layers = {_layer(m) for m in _imports(path)} - {None}
        assert layers <= {"platform"}, f"{path.name} imports {layers}"


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in WORKBOOK.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, long
