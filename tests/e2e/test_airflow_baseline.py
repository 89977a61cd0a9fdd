"""The Airflow baseline produces exactly what Dagster Phase 3 produces, on the same data."""

from __future__ import annotations

import os

import pytest

from workbook.comparison import baseline, compare

pytestmark = pytest.mark.skipif(
    not baseline.installed() and not os.environ.get("CI"),
    reason="the Airflow baseline is not installed (uv run workbook airflow install); CI runs this",
)


def test_airflow_and_dagster_write_identical_tables_for_three_days():
    result = compare.equivalence(3, log=lambda *_: None)
    assert result["rows"] == 3 * 12
    assert result["identical"], result["problems"]
    assert result["airflow"]["edges"] == 3  # extract >> validate >> aggregate >> load, by hand


def test_lines_of_code_ignore_comments_and_docstrings(tmp_path):
    f = tmp_path / "x.py"
    f.write_text(
        '"""Doc\\nstring."""\n\n# comment\nx = 1  # trailing\n\ndef f():\n    """Doc."""\n    return x\n'
    )
    assert compare.code_lines(f) == 3
