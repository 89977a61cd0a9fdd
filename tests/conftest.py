"""Test-suite plumbing: every test runs against the graders' seeded test database.

Tests never touch the learner's data (see ``workbook.grading.database``).
"""

from __future__ import annotations

import pytest

from workbook.grading.database import use_test_database


@pytest.fixture(scope="session", autouse=True)
def test_database() -> str:
    """Point the whole session (and the code under test) at the seeded test database."""
    return use_test_database()
