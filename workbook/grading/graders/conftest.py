"""Fixtures shared by the graders: the test database, the module under test, a Dagster instance."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest

from workbook.course.phases import TARGETS, PhaseLoadError, load_phase
from workbook.grading.database import TEST_TIMEZONE, use_test_database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--target",
        choices=TARGETS,
        default="solutions",
        help="which phase modules the graders grade (default: solutions)",
    )
    parser.addoption(
        "--exercises-dir",
        default=None,
        help="grade the exercise files in this directory instead of the repository root",
    )


@pytest.fixture(scope="session", autouse=True)
def test_database() -> str:
    return use_test_database()


@pytest.fixture(scope="session", autouse=True)
def local_time_zone_not_utc():
    """Grade with the process's local time zone set to Chicago, as the database session's is.

    Code that takes a day from local time (``observed_at.astimezone().date()``) is wrong, but
    passes on a machine that runs in UTC; here it fails, as it would for a learner elsewhere.
    """
    if not hasattr(time, "tzset"):  # Windows: no way to change it in-process
        yield
        return
    saved = os.environ.get("TZ")
    os.environ["TZ"] = TEST_TIMEZONE
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--target")


@pytest.fixture(scope="session")
def phase_module(request: pytest.FixtureRequest, target: str):
    """``phase_module(n)``: the phase module under test; a load error fails with its reason."""
    exercises_dir = request.config.getoption("--exercises-dir")

    def load(phase: int):
        try:
            return load_phase(phase, target, Path(exercises_dir) if exercises_dir else None)
        except PhaseLoadError as exc:
            pytest.fail(str(exc), pytrace=False)

    return load


@pytest.fixture(scope="module")
def instance():
    """One Dagster instance for every run of a grader module: creating one costs 0.2-0.5 s."""
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst
