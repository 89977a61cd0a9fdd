"""Every test here runs against the seeded test database (see tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _uses_test_database(test_database: str) -> str:
    return test_database
