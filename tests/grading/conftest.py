"""Fixtures shared by the graders: the module under test, and how to materialize it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from workbook import grading


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--target")


@pytest.fixture(scope="session")
def load_phase(request: pytest.FixtureRequest, target: str):
    """``load_phase(n)``: the phase module under test; a load error fails with its reason."""
    exercises_dir = request.config.getoption("--exercises-dir")

    def load(phase: int):
        try:
            return grading.load_phase(phase, target, Path(exercises_dir) if exercises_dir else None)
        except grading.PhaseLoadError as exc:
            pytest.fail(str(exc), pytrace=False)

    return load


@pytest.fixture(scope="module")
def instance():
    """One Dagster instance for every run of a grader module: creating one costs 0.2-0.5 s."""
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst
