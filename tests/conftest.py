"""Test-suite plumbing shared by every kind of test.

The tests mirror the code: ``unit/`` (pure functions: no database, no Dagster run),
``integration/`` (the real database and Dagster in-process), ``e2e/`` (real servers and
processes: the UI in a browser, the daemon, the Compose stack's commands, Airflow) and
``selftest/`` (the graders graded). Tests never touch the learner's data: everything that needs
a database uses the graders' seeded test database (see ``workbook.grading.database``).
"""

from __future__ import annotations

import pytest

from workbook.grading.database import use_test_database


@pytest.fixture(scope="session")
def test_database() -> str:
    """Point the whole session (and the code under test) at the seeded test database."""
    return use_test_database()
