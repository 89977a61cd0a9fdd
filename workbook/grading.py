"""Grading: load the module under test, materialize it, and report per requirement.

The graders are pytest modules in ``tests/grading/`` (one per phase). Each test is one graded
requirement, named ``test_<requirement>``; its title and hints live in
``tests/grading/requirements.toml``. ``workbook check N`` runs one module through pytest with the
``Reporter`` plugin below, which prints ✓/✗ per requirement with a hint and saves the results
for ``workbook progress``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import tomllib
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from workbook.db import REPO_ROOT

GRADING_DIR = REPO_ROOT / "tests" / "grading"
REQUIREMENTS_FILE = GRADING_DIR / "requirements.toml"
RESULTS_FILE = REPO_ROOT / ".workbook" / "results.json"

PHASES = {
    1: "phase1_basic_assets",
    2: "phase2_asset_graph",
    3: "phase3_partitions",
    4: "phase4_dbt_assets",
    5: "phase5_automation",
}
TARGETS = ("solutions", "exercises")


class PhaseLoadError(Exception):
    """The module under test does not import. The message says where and why."""


@dataclass(frozen=True)
class Requirement:
    phase: int
    id: str
    title: str
    hints: tuple[str, ...]


@cache
def requirements() -> dict[int, dict[str, Requirement]]:
    """Every graded requirement, by phase and id, from requirements.toml."""
    data = tomllib.loads(REQUIREMENTS_FILE.read_text())
    out: dict[int, dict[str, Requirement]] = {}
    for phase_key, reqs in data.items():
        phase = int(phase_key.removeprefix("phase"))
        out[phase] = {
            rid: Requirement(phase, rid, r["title"], tuple(r.get("hints", ())))
            for rid, r in reqs.items()
        }
    return out


def phase_path(phase: int, target: str, exercises_dir: Path | None = None) -> Path:
    name = PHASES[phase] + ".py"
    if target == "solutions":
        return REPO_ROOT / "solutions" / name
    return (exercises_dir or REPO_ROOT) / name


_loaded: dict[Path, ModuleType] = {}


def load_phase(phase: int, target: str, exercises_dir: Path | None = None) -> ModuleType:
    """Import the phase module under test from its file (once per process and path)."""
    path = phase_path(phase, target, exercises_dir).resolve()
    if path in _loaded:
        return _loaded[path]
    name = f"_graded_{target}_{PHASES[phase]}_{len(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or not path.exists():
        raise PhaseLoadError(f"{path.relative_to(REPO_ROOT)} is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pydantic resolve types through sys.modules
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:
        del sys.modules[name]
        raise PhaseLoadError(explain_load_error(exc, path)) from exc
    _loaded[path] = module
    return module


def explain_load_error(exc: BaseException, path: Path) -> str:
    """One or two lines that say where a phase file breaks, for a learner."""
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    if type(exc).__name__ == "DbtProjectError":  # the dbt project does not parse (Phase 4)
        return str(exc)
    if isinstance(exc, SyntaxError):
        where = f"{shown}, line {exc.lineno}"
        return f"{where} has a syntax error: {exc.msg}\n    {(exc.text or '').strip()}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    line = f", line {frames[-1].lineno}" if frames else ""
    kind = "is missing an import" if isinstance(exc, NameError | ImportError) else "fails to load"
    return f"{shown}{line} {kind}: {type(exc).__name__}: {exc}"


def explain_failure(result, asset_name: str) -> str:
    """Why a materialization failed, in the words of the learner's own exception."""
    for event in result.all_events:
        if event.is_step_failure and asset_name in (event.step_key or ""):
            err = event.step_failure_data.error
            cause = err.cause or err
            while cause.cause is not None and "NotImplementedError" not in cause.cls_name:
                cause = cause.cause
            text = cause.message.strip().splitlines()[-1] if cause.message else cause.cls_name
            return f"{asset_name} failed: {text}"
    return f"{asset_name} did not materialize"


# --- the reporter used by `workbook check` ---------------------------------------------------


@dataclass
class Outcome:
    requirement: Requirement
    passed: bool
    message: str = ""
    details: str = ""


class Reporter:
    """A pytest plugin that collects one outcome per requirement."""

    def __init__(self, phase: int):
        self.phase = phase
        self.outcomes: dict[str, Outcome] = {}
        self.started = time.monotonic()

    def _requirement(self, nodeid: str) -> Requirement:
        rid = nodeid.rsplit("::", 1)[-1].removeprefix("test_").split("[")[0]
        known = requirements().get(self.phase, {})
        return known.get(rid) or Requirement(self.phase, rid, rid.replace("_", " "), ())

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            req = self._requirement(report.nodeid)
            if report.passed:
                self.outcomes[req.id] = Outcome(req, True)
            else:
                message = ""
                if hasattr(report.longrepr, "reprcrash") and report.longrepr.reprcrash:
                    message = report.longrepr.reprcrash.message
                else:
                    message = str(report.longrepr).strip().splitlines()[-1]
                message = message.removeprefix("Failed: ").removeprefix("AssertionError: ")
                message = message.split("\nassert ")[0]
                self.outcomes[req.id] = Outcome(req, False, message, str(report.longrepr))


def save_results(phase: int, target: str, outcomes: list[Outcome]) -> None:
    """Remember the last grade of each phase, for `workbook progress`."""
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    try:
        saved = json.loads(RESULTS_FILE.read_text())
    except (OSError, ValueError):
        saved = {}
    saved.setdefault(target, {})[str(phase)] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "requirements": {o.requirement.id: o.passed for o in outcomes},
    }
    RESULTS_FILE.write_text(json.dumps(saved, indent=2))


def run(
    phase: int,
    target: str = "exercises",
    extra: list[str] | None = None,
    exercises_dir: Path | None = None,
) -> list[Outcome]:
    """Grade one phase in this process; returns one outcome per requirement."""
    import pytest

    reporter = Reporter(phase)
    args = [
        str(GRADING_DIR / f"test_phase{phase}.py"),
        f"--target={target}",
        *([f"--exercises-dir={exercises_dir}"] if exercises_dir else []),
        "-o", "addopts=",
        "-p", "no:cacheprovider",
        "-p", "no:terminal",
        # Speed (measured in Phase 4): pytest rewrites the asserts of every module of a plugin
        # installed through an entry point (faker: ~100 modules, recompiled on every run because
        # these machines write no bytecode), and collects garbage twice at exit to find
        # unraisable exceptions. The graders need neither.
        "-p", "no:faker", "-p", "no:anyio", "-p", "no:platformdirs",
        "-p", "no:unraisableexception",
        *(extra or []),
    ]  # fmt: skip
    code = pytest.main(args, plugins=[reporter])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise RuntimeError(f"the grader could not run (pytest exit code {int(code)})")
    known = requirements().get(phase, {})
    outcomes = [reporter.outcomes[r] for r in known if r in reporter.outcomes]
    outcomes += [o for r, o in reporter.outcomes.items() if r not in known]
    for rid, req in known.items():
        if rid not in reporter.outcomes:
            outcomes.append(Outcome(req, False, "this requirement's test did not run"))
    return outcomes


if __name__ == "__main__":
    # python -m workbook.grading PHASE DIR [DIR ...]: grade the exercise files in each DIR, one
    # JSON line of outcomes per DIR. One process grades them all, so the import and warm-up cost
    # is paid once (used by the self-test for stubs and mutants).
    phase_arg, *dirs = sys.argv[1:]
    for d in dirs:
        found = run(int(phase_arg), "exercises", exercises_dir=Path(d))
        print(json.dumps([{"id": o.requirement.id, "passed": o.passed, "message": o.message}
                          for o in found]), flush=True)  # fmt: skip
