"""The graders' database: ``workbook_test`` beside the learner's, seeded with the fixed dataset.

Grading never touches the learner's data: the graders (and the test suite) use their own
database on the same server, seeded once with the default dataset and re-seeded only when that
dataset changes. ``WORKBOOK_TEST_DATABASE_URL`` points them at another server instead. Under
pytest-xdist every worker gets its own database (``workbook_test_gw0``, ...), so parallel test
files never write the same tables.
"""

from __future__ import annotations

import os

from workbook.platform import db, generate

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
TEST_DB = "workbook_test" + (f"_{_WORKER}" if _WORKER else "")
# The graders run with a non-UTC session time zone on purpose: code that relies on the
# server's zone to find a day's boundaries is wrong, and should fail here, not in production.
TEST_TIMEZONE = "America/Chicago"
FINGERPRINT = (
    f"seed={generate.DEFAULT_SEED};start={generate.DEFAULT_START};days={generate.DEFAULT_DAYS};v1"
)


def test_database_url() -> str:
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


def use_test_database() -> str:
    """Point this process (and the code under test) at the seeded test database."""
    url = test_database_url()
    os.environ[db.ENV_VAR] = url
    _seed_once(url)
    return url
