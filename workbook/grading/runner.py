"""Grade a phase: run its grader module through pytest and collect one outcome per requirement.

The graders are pytest modules in ``workbook/grading/graders/`` (one per phase). Each test is one
graded requirement, named ``test_<requirement>``; its title and hints live in
``workbook/course/requirements.toml``. ``workbook check N`` and ``workbook watch`` call ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from workbook.course.requirements import requirements
from workbook.course.results import Outcome
from workbook.grading.reporter import Reporter
from workbook.platform.paths import GRADERS


def run(
    phase: int,
    target: str = "exercises",
    exercises_dir: Path | None = None,
    only: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Grade one phase in this process; returns one outcome per requirement (or per ``only``).

    ``progress``, when given, is called with the requirement being checked as it starts.
    Every outcome carries its full traceback in ``details`` (``check -v`` prints it), so no
    pytest option is needed for it: pytest's terminal plugin, which owns the output options
    (``--tb``, ``-v``, ``-q``), is disabled here, and passing one of them is a usage error.
    """
    import pytest

    from workbook.grading.warmup import cache_migration_scripts

    cache_migration_scripts()
    reporter = Reporter(phase, progress)
    module = str(GRADERS / f"test_phase{phase}.py")
    args = [
        *([f"{module}::test_{rid}" for rid in only] if only else [module]),
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
        "-p", "no:unraisableexception", "-p", "no:xdist",
    ]  # fmt: skip
    code = pytest.main(args, plugins=[reporter])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise RuntimeError(f"the grader could not run (pytest exit code {int(code)})")
    known = {r: q for r, q in requirements().get(phase, {}).items() if not only or r in only}
    outcomes = [reporter.outcomes[r] for r in known if r in reporter.outcomes]
    outcomes += [o for r, o in reporter.outcomes.items() if r not in known]
    for rid, req in known.items():
        if rid not in reporter.outcomes:
            outcomes.append(Outcome(req, False, "this requirement's test did not run"))
    return outcomes
