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
import re
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
    points: int = 1  # for classroom reports; `points = N` in requirements.toml overrides


@cache
def requirements() -> dict[int, dict[str, Requirement]]:
    """Every graded requirement, by phase and id, from requirements.toml."""
    data = tomllib.loads(REQUIREMENTS_FILE.read_text())
    out: dict[int, dict[str, Requirement]] = {}
    for phase_key, reqs in data.items():
        phase = int(phase_key.removeprefix("phase"))
        out[phase] = {
            rid: Requirement(
                phase, rid, r["title"], tuple(r.get("hints", ())), int(r.get("points", 1))
            )
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


def forget_loaded() -> None:
    """Forget every loaded phase module, so the next ``load_phase`` re-imports from disk.

    The watch worker calls this before each re-grade: the learner's file has changed, while
    dagster, pytest and the workbook stay imported (that is what makes a re-grade fast).
    """
    import linecache

    for path in list(_loaded):
        sys.modules.pop(_loaded.pop(path).__name__, None)
    for name in [n for n in sys.modules if n.startswith("_graded_")]:
        del sys.modules[name]
    linecache.checkcache()  # tracebacks must show the file as it is now
    requirements.cache_clear()


# --- errors explained for a learner ----------------------------------------------------------
# Every explanation is a short text: where (file and line), what went wrong, and a "fix:" line.
# ``workbook check -v`` still shows the full traceback.

DIAGNOSED = (
    "syntax or indentation error in a phase file (file, line, the code, what to check)",
    "missing import at module level or inside an asset (NameError: which import to add)",
    "an import that does not exist (ImportError: did you mean ...?; ModuleNotFoundError)",
    "asset parameter that names no asset (Dagster's 'Input asset ... is not produced')",
    "asset function without its context parameter, or context not first",
    "return annotation that does not match the value returned (Dagster type check)",
    "a call with the wrong arguments (TypeError: missing/unexpected argument)",
    "an exception in the learner's asset code, with the file and line in the learner's file",
    "a TODO left in place (NotImplementedError: the TODO's text)",
    "the database is not reachable (which URL, what to run)",
    "dbt errors: compile (Jinja), missing ref/source, database errors, mapped to model and line",
)

# Names a learner commonly uses without importing them, and the import that defines them.
_IMPORTS = {
    "dg": "import dagster as dg",
    "dagster": "import dagster",
    "dagster_dbt": "import dagster_dbt",
    "Any": "from typing import Any",
    "PostgresResource": "from workbook.resources import PostgresResource",
    "RESOURCES": "from workbook.resources import RESOURCES",
}


def _shown(path: Path | str) -> str:
    path = Path(path)
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _import_for(name: str) -> str:
    if name in _IMPORTS:
        return f"add `{_IMPORTS[name]}` at the top of the file"
    if name in sys.stdlib_module_names:
        return f"add `import {name}` at the top of the file"
    return f"define `{name}` or import it, and check the spelling"


def _name_error(message: str, where: str) -> str:
    match = re.search(r"name '(\w+)' is not defined", message)
    name = match.group(1) if match else "?"
    if name == "context":
        return (
            f"{where}: `context` is used but is not a parameter of the asset function.\n"
            "  fix: make `context: dg.AssetExecutionContext` the function's first parameter"
        )
    return f"{where}: NameError: {message}\n  fix: {_import_for(name)}"


def given(module: ModuleType, name: str):
    """A grader's access to a name the phase file must keep; a clear failure when it is gone."""
    import pytest

    try:
        return getattr(module, name)
    except AttributeError:
        file = Path(module.__file__ or "the phase file").name
        pytest.fail(f"{file} has no {name}: keep the given names", pytrace=False)


def explain_load_error(exc: BaseException, path: Path) -> str:
    """Where and why a phase file does not import, with what to do: a few lines for a learner."""
    shown = _shown(path)
    if type(exc).__name__ == "DbtProjectError":  # the dbt project does not parse (Phase 4)
        return str(exc)
    if isinstance(exc, SyntaxError):
        kind = "indentation error" if isinstance(exc, IndentationError) else "syntax error"
        return (
            f"{shown}, line {exc.lineno}: {kind}: {exc.msg}\n    {(exc.text or '').strip()}\n"
            "  fix: that line, or the one before it (a missing ':' or ')' is often reported "
            "one line late)"
        )
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    where = f"{shown}, line {frames[-1].lineno}" if frames else shown
    code = f"\n    {frames[-1].line}" if frames and frames[-1].line else ""
    if isinstance(exc, NameError):
        return _name_error(str(exc), where)
    if isinstance(exc, ModuleNotFoundError):
        return (
            f"{where}: there is no module named {exc.name!r}{code}\n"
            "  fix: check the spelling; the workbook has dagster, dagster_dbt, psycopg2, the "
            "standard library and `workbook` installed"
        )
    if isinstance(exc, ImportError):
        match = re.search(r"cannot import name '(\w+)' from '([\w.]+)'", str(exc))
        if match:
            name, module = match.groups()
            near = _close_names(name, module)
            return (
                f"{where}: {module} has nothing named {name!r}{code}\n"
                f"  fix: {'did you mean ' + near + '?' if near else 'check the name and spelling'}"
            )
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    if '"context" is not a valid name' in text:
        return (
            f"{where}: `context` is not the first parameter of an asset function{code}\n"
            "  fix: put `context: dg.AssetExecutionContext` first; the other parameters name "
            "upstream assets"
        )
    return f"{where} fails to load: {text}{code}"


def _close_names(name: str, module: str) -> str:
    import difflib

    try:
        candidates = dir(sys.modules.get(module) or importlib.import_module(module))
    except Exception:  # noqa: BLE001 - a suggestion is optional
        return ""
    return ", ".join(difflib.get_close_matches(name, candidates, n=1, cutoff=0.6))


def _learner_frame(stack: list[str]) -> str:
    """'phase1_basic_assets.py, line 80' for the innermost frame in a phase file, or ''."""
    found = ""
    for frame in stack:
        match = re.search(r'File "([^"]+)", line (\d+)', frame)
        if match and re.fullmatch(r"phase\d_\w+\.py", Path(match.group(1)).name):
            found = f"{_shown(match.group(1))}, line {match.group(2)}"
    return found


def _database_help(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "the database did not answer"
    return (
        f"The database is not reachable: {first}\n"
        "  fix: `uv run workbook db status` says which server is used; with "
        "WORKBOOK_DATABASE_URL set, start that server (e.g. `docker compose up -d`) or unset it"
    )


def explain_error(cls_name: str, message: str, stack: list[str] | None = None) -> str:
    """One exception (by class name, message and formatted stack) explained for a learner."""
    message = message.strip()
    last = message.splitlines()[-1] if message else cls_name
    last = last.removeprefix(f"{cls_name}: ")
    where = _learner_frame(stack or [])
    at = f"{where}: " if where else ""
    if cls_name in ("DatabaseError", "OperationalError") or "Cannot connect to" in message:
        return _database_help(message)
    if "Dbt" in cls_name or "dbt" in message.split("\n", 1)[0].lower():
        dbt = explain_dbt_error(message)
        if dbt:
            return dbt
    if cls_name == "NameError":
        return _name_error(last, where or "the asset code")
    if cls_name == "NotImplementedError":
        return f"NotImplementedError: {last}"
    if cls_name == "DagsterTypeCheckDidNotPass":
        match = re.search(r'expected type "([^"]+)".*?Value of type <class \'(\w+)\'>', message)
        if match:
            declared, got = match.groups()
            return (
                f"{at}the asset returned a {got}, but its return annotation says {declared}\n"
                f"  fix: annotate the function with the type it returns (e.g. `-> {got}`)"
            )
    if cls_name == "TypeError" and re.search(r"argument|positional|parameter", last):
        return (
            f"{at}TypeError: {last}\n"
            "  fix: compare the call with the function's signature (parameter names and count)"
        )
    match = re.search(r'Input asset "\[(.*?)\]" (?:for asset .*? )?is not produced', message)
    if match:
        name = match.group(1).replace('"', "").split(", ")[-1]
        return (
            f"an asset function has a parameter `{name}`, which Dagster reads as an upstream asset "
            f"named {name}, and no such asset exists\n"
            "  fix: a parameter (other than context and resources) must be named exactly like "
            "the upstream asset it reads; check the spelling"
        )
    return f"{at}{cls_name}: {last}"


def explain_exception(exc: BaseException) -> str:
    """An exception that escaped a grader (e.g. from ``dg.materialize``), explained."""
    stack = traceback.format_tb(exc.__traceback__)
    return explain_error(type(exc).__name__, str(exc), stack)


def explain_failure(result, asset_name: str) -> str:
    """Why a materialization failed, in the words of the learner's own exception, with the
    file and line in the learner's code and a fix where the mistake is a common one."""
    for event in result.all_events:
        if event.is_step_failure and asset_name in (event.step_key or ""):
            err = event.step_failure_data.error
            cause = err.cause or err
            while cause.cause is not None and "NotImplementedError" not in cause.cls_name:
                cause = cause.cause
            text = explain_error(cause.cls_name or "Error", cause.message or "", cause.stack)
            return f"{asset_name} failed: {text}"
    return f"{asset_name} did not materialize"


# --- dbt errors (Phase 4 uses this hook) -----------------------------------------------------

DBT_PROJECT = REPO_ROOT / "dbt_project"


def explain_dbt_error(text: str, project_dir: Path | None = None) -> str | None:
    """Turn dbt's error output into 'dbt model X (dbt_project/models/x.sql), line N: ...'.

    ``text`` is anything dbt printed: the message of dagster-dbt's ``DagsterDbtCliRuntimeError``
    (it carries dbt's error lines), dbt's stdout, or the ``msg`` of its JSON log events. Handles
    Jinja compile errors (their line is the source line), refs to missing models, and database
    errors (Postgres reports a line of the *compiled* SQL; it is mapped back to the source line
    whose text matches). Returns None when the text holds no dbt error.
    """
    project_dir = project_dir or DBT_PROJECT
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # dbt colours its output
    ref = re.search(
        r"Model '[\w.]+' \(([^)]+\.sql)\) depends on a node named '(\w+)' which was not found", text
    )
    if ref:
        path, missing = ref.groups()
        shown = _shown(project_dir / path)
        line = _line_containing(project_dir / path, re.compile(rf"ref\(\s*['\"]{missing}['\"]"))
        return (
            f"dbt model {Path(path).stem} ({shown}{f', line {line}' if line else ''}): "
            f"ref('{missing}') names no model\n"
            "  fix: check the model name (the file name without .sql) in dbt_project/models/"
        )
    head = re.search(
        r"(Compilation|Database|Runtime|Parsing) Error in (model|test|seed|snapshot|source) "
        r"(\w+) \(([^)]+)\)\n(.*)",
        text,
        re.S,
    )
    if not head:
        return None
    kind, node, name, path, rest = head.groups()
    lines = [ln.strip() for ln in rest.splitlines() if ln.strip()]
    message = lines[0] if lines else kind + " error"
    source = project_dir / path
    line = None
    jinja_line = re.search(r"^line (\d+)$", "\n".join(lines[1:3]), re.M)
    if jinja_line:
        line = int(jinja_line.group(1))
    compiled = re.search(r"^\s*LINE \d+: (.*)$", rest, re.M)
    if compiled and line is None:
        line = _source_line_for_compiled(source, compiled.group(1))
    where = f"{_shown(source)}{f', line {line}' if line else ''}"
    fix = {
        "Compilation": "a Jinja error: check the {{ }} / {% %} brackets and ref()/source() calls",
        "Database": "Postgres rejected the SQL: run `uv run dbt compile` in dbt_project/ and "
        "read the compiled SQL in dbt_project/target/compiled/",
    }.get(kind, "read the model's SQL around that line")
    return f"dbt {node} {name} ({where}): {message}\n  fix: {fix}"


def _line_containing(path: Path, pattern: re.Pattern) -> int | None:
    try:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                return n
    except OSError:
        pass
    return None


def _source_line_for_compiled(path: Path, compiled_line: str) -> int | None:
    """The source line that renders to ``compiled_line`` (Jinja expressions match anything)."""
    try:
        source = path.read_text().splitlines()
    except OSError:
        return None
    target = compiled_line.strip()
    for n, line in enumerate(source, 1):
        parts = re.split(r"\{\{.*?\}\}", line.strip())
        if "".join(parts).strip() and re.fullmatch(".*?".join(map(re.escape, parts)), target):
            return n
    return None


# --- the reporter used by `workbook check` ---------------------------------------------------


@dataclass
class Outcome:
    requirement: Requirement
    passed: bool
    message: str = ""
    details: str = ""
    seconds: float = 0.0


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
                self.outcomes[req.id] = Outcome(req, True, seconds=report.duration)
            else:
                message = ""
                if hasattr(report.longrepr, "reprcrash") and report.longrepr.reprcrash:
                    message = report.longrepr.reprcrash.message
                else:
                    message = str(report.longrepr).strip().splitlines()[-1]
                message = message.removeprefix("Failed: ").removeprefix("AssertionError: ")
                message = message.split("\nassert ")[0]
                longrepr = str(report.longrepr)
                self.outcomes[req.id] = Outcome(req, False, message, longrepr, report.duration)

    def pytest_exception_interact(self, node, call, report) -> None:
        """An exception other than a failed assertion escaped the grader: explain it."""
        exc = call.excinfo.value if call.excinfo else None
        if exc is None or isinstance(exc, AssertionError) or type(exc).__name__ in OUTCOMES:
            return
        req = self._requirement(report.nodeid)
        if req.id in self.outcomes and not self.outcomes[req.id].passed:
            self.outcomes[req.id].message = explain_exception(exc)


OUTCOMES = ("Failed", "Skipped", "XFailed", "Exit")


def render_outcomes(outcomes: list[Outcome], hints: int = 1, verbose: bool = False) -> list[str]:
    """✓/✗ per requirement, each failure with its diagnosis and ``hints`` hints.

    When every failure has the same cause (the file does not load, the database is down), the
    cause is printed once, above the list, instead of once per requirement.
    """
    failing = [o for o in outcomes if not o.passed]
    shared = (
        failing[0].message if len(failing) > 1 and len({o.message for o in failing}) == 1 else ""
    )
    lines = [""]
    if shared:
        lines = ["", "  Every requirement below fails for one reason:"]
        lines += [f"    {line}" for line in shared.splitlines()[:6]]
    for o in outcomes:
        lines.append(f"  {'✓' if o.passed else '✗'} {o.requirement.title}")
        if o.passed:
            continue
        if not shared:
            lines += [f"      {line}" for line in o.message.splitlines()[:4]]
        lines += [f"      hint: {h}" for h in o.requirement.hints[: 0 if shared else hints]]
        if verbose and o.details:
            lines.append(o.details)
    return lines


def load_results() -> dict:
    """The saved results: {target: {phase: {"when": ..., "requirements": {id: passed}}}}."""
    try:
        return json.loads(RESULTS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def save_results(phase: int, target: str, outcomes: list[Outcome]) -> None:
    """Remember the last grade of each phase, for `workbook progress`."""
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    saved = load_results()
    saved.setdefault(target, {})[str(phase)] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "requirements": {o.requirement.id: o.passed for o in outcomes},
    }
    tmp = RESULTS_FILE.with_name(RESULTS_FILE.name + ".tmp")
    tmp.write_text(json.dumps(saved, indent=2))
    tmp.replace(RESULTS_FILE)


def forget_results(phase: int, target: str = "exercises") -> None:
    """Drop a phase's saved results (after ``workbook reset``)."""
    saved = load_results()
    if saved.get(target, {}).pop(str(phase), None) is not None:
        RESULTS_FILE.write_text(json.dumps(saved, indent=2))


def run(
    phase: int,
    target: str = "exercises",
    extra: list[str] | None = None,
    exercises_dir: Path | None = None,
    only: list[str] | None = None,
) -> list[Outcome]:
    """Grade one phase in this process; returns one outcome per requirement (or per ``only``)."""
    import pytest

    reporter = Reporter(phase)
    module = str(GRADING_DIR / f"test_phase{phase}.py")
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
        *(extra or []),
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


if __name__ == "__main__":
    # python -m workbook.grading PHASE DIR[::REQ,REQ] ...: grade the exercise files in each DIR
    # (only the requirements REQ, when given), one JSON line of outcomes per DIR. One process
    # grades them all, so the import and warm-up cost is paid once (used by the self-test).
    phase_arg, *dirs = sys.argv[1:]
    for d in dirs:
        path, _, reqs = d.partition("::")
        found = run(int(phase_arg), "exercises", exercises_dir=Path(path),
                    only=reqs.split(",") if reqs else None)  # fmt: skip
        print(json.dumps([{"id": o.requirement.id, "passed": o.passed, "message": o.message}
                          for o in found]), flush=True)  # fmt: skip
