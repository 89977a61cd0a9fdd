"""Test-suite plumbing: the --target option and an isolated, seeded test database.

Tests never touch the learner's data: they use their own database (``workbook_test``) on the
same server, seeded with the fixed default dataset. ``WORKBOOK_TEST_DATABASE_URL`` points them at
another server instead.
"""

from __future__ import annotations

import os

import pytest

from workbook import db, generate

# One database per pytest-xdist worker (workbook_test_gw0, ...), so parallel test files never
# write the same tables; plain `pytest` and `workbook check` use workbook_test.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_DB = "workbook_test" + (f"_{_WORKER}" if _WORKER else "")
# The graders run with a non-UTC session time zone on purpose: code that relies on the
# server's zone to find a day's boundaries is wrong, and should fail here, not in production.
TEST_TIMEZONE = "America/Chicago"
FINGERPRINT = (
    f"seed={generate.DEFAULT_SEED};start={generate.DEFAULT_START};days={generate.DEFAULT_DAYS};v1"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--target",
        choices=("solutions", "exercises"),
        default="solutions",
        help="which phase modules the graders grade (default: solutions)",
    )
    parser.addoption(
        "--exercises-dir",
        default=None,
        help="grade the exercise files in this directory instead of the repository root",
    )


def _test_database_url() -> str:
    explicit = os.environ.get("WORKBOOK_TEST_DATABASE_URL")
    if explicit:
        return explicit
    return db.sibling_database(TEST_DB, timezone=TEST_TIMEZONE)


def _seed_once(url: str) -> None:
    """Seed the fixed dataset unless this exact dataset is already there."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("create table if not exists public.workbook_dataset (fingerprint text)")
        cur.execute("select fingerprint from public.workbook_dataset")
        if cur.fetchone() == (FINGERPRINT,) and generate.source_row_count(url) > 0:
            return
    generate.load(url=url)  # replaces, so a concurrent second seeding is harmless
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("delete from public.workbook_dataset")
        cur.execute("insert into public.workbook_dataset values (%s)", (FINGERPRINT,))


@pytest.fixture(scope="session", autouse=True)
def test_database() -> str:
    """Point the whole session (and the code under test) at the seeded test database."""
    url = _test_database_url()
    os.environ[db.ENV_VAR] = url
    _seed_once(url)
    return url
