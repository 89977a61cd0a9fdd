"""No SQL statement is built by string formatting: values go as parameters, names as
``sql.Identifier`` (and the rare literal as ``sql.Literal``). A static check over every Python file
that talks to the database, learner stubs included, so a new f-string statement fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workbook.platform.paths import REPO_ROOT

SOURCES = sorted(
    p
    for pattern in (
        "workbook/**/*.py",
        "solutions/*.py",
        "phase*.py",
        "data/*.py",
        "benchmarks/*.py",
        "airflow_baseline/**/*.py",
        "tests/**/*.py",
    )
    for p in REPO_ROOT.glob(pattern)
)
# The argument that carries the statement, by method name.
STATEMENT_ARG = {
    "execute": 0,
    "executemany": 0,
    "copy_expert": 0,
    "mogrify": 0,
    "execute_values": 1,
}


def _formatted(node: ast.expr) -> bool:
    """An f-string with a value, ``+``/``%`` on a string, or ``.format``/``.replace`` on SQL text
    (a string literal, or a constant named ``*_SQL``); ``sql.SQL(...).format`` is composition."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp):  # "..." + x or "..." % x; sql.SQL(...) + sql.SQL(...) composes
        return any(
            isinstance(side, ast.JoinedStr)
            or (isinstance(side, ast.Constant) and isinstance(side.value, str))
            for side in (node.left, node.right)
        )
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("format", "replace"):
        text = node.func.value
        name = getattr(text, "attr", getattr(text, "id", ""))
        return isinstance(text, (ast.Constant, ast.JoinedStr)) or name.endswith("_SQL")
    return False


def _offenders(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        index = STATEMENT_ARG.get(name)
        if index is not None and len(node.args) > index and _formatted(node.args[index]):
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)[:100]}")
    return found


def test_the_check_sees_the_sources():
    names = {p.relative_to(REPO_ROOT).as_posix() for p in SOURCES}
    assert {"workbook/platform/db.py", "solutions/phase5_automation.py"} <= names


@pytest.mark.parametrize(
    "code",
    [
        'cur.execute(f"select * from t where a = {a}")',
        'cur.execute("select * from t where a = " + a)',
        'cur.execute("select * from t where a = %s" % a)',
        'cur.execute("select * from {}".format(t))',
        'execute_values(cur, f"insert into {t} values %s", rows)',
        'cur.copy_expert("copy t from stdin".replace("t", name), buf)',
        'cur.copy_expert(generate.COPY_SQL.replace("source.x", "floor"), buf)',
    ],
)
def test_the_check_catches_formatted_statements(tmp_path, code):
    path = tmp_path / "probe.py"
    path.write_text(code + "\n")
    assert _offenders(path)


def test_no_statement_is_built_by_string_formatting():
    offenders = [o for p in SOURCES for o in _offenders(p)]
    assert not offenders, "SQL built by string formatting:\n" + "\n".join(offenders)


def test_composed_statements_pass(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text(
        'cur.execute(sql.SQL("select * from {}").format(sql.Identifier("a", "b")))\n'
        'cur.execute("select * from t where a = %s", (a,))\n'
        'cur.execute(f"select 1")\n'
    )
    assert _offenders(path) == []
