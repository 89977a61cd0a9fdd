"""Learner mistakes explained: where (file and line), what went wrong, and a "fix:" line.

Every grader failure, every phase that does not load (in ``workbook check`` and as the UI's
``load_error`` asset) and every dbt error goes through this module, so a mistake reads the same
wherever it shows up. ``workbook check -v`` still shows the full traceback.
"""

from __future__ import annotations

import importlib
import re
import sys
import traceback
from pathlib import Path

from workbook.platform.paths import shown as _shown

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
    "PostgresResource": "from workbook.platform.resources import PostgresResource",
    "RESOURCES": "from workbook.platform.resources import RESOURCES",
}


# A learner's value can be huge (a whole table in a type-check message): every message that can
# hold one is cut here, line by line and in lines, before it reaches the terminal or a report.
MAX_LINE = 500  # a grader's own sentence fits; a learner's table does not
MAX_LINES = 40


def cut(text: str, width: int = MAX_LINE, lines: int = MAX_LINES) -> str:
    """``text`` with each line cut to ``width`` characters and at most ``lines`` lines."""
    out = []
    for line in text.splitlines()[:lines]:
        if len(line) > width:
            line = f"{line[:width]}… ({len(line) - width:,} more characters)"
        out.append(line)
    hidden = len(text.splitlines()) - lines
    if hidden > 0:
        out.append(f"… ({hidden:,} more lines)")
    return "\n".join(out)


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


def explain_load_error(exc: BaseException, path: Path) -> str:
    """Where and why a phase file does not import, with what to do: a few lines for a learner."""
    return cut(_explain_load_error(exc, path))


def _explain_load_error(exc: BaseException, path: Path) -> str:
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


_PG_EXTRA = re.compile(r"^(DETAIL|HINT|CONTEXT|LINE \d+|QUERY):")


def _postgres_error(message: str, cls_name: str) -> str | None:
    """A PostgreSQL error as its primary message plus DETAIL (or the LINE it points at), or None.

    Postgres puts the cause first and the CONTEXT (or a caret under the query) last: the last
    line alone says "COPY daily_readings, line 278" or "^", not what went wrong.
    """
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    if len(lines) < 2 or not any(_PG_EXTRA.match(line) for line in lines[1:]):
        return None
    primary = lines[0].removeprefix(f"{cls_name}: ")
    primary = re.sub(r"^psycopg2\.errors\.\w+: ", "", primary)
    extra = next((x for x in lines[1:] if x.startswith("DETAIL:")), None)
    extra = extra or next((x for x in lines[1:] if re.match(r"LINE \d+:", x)), None)
    return primary + (f"\n  {' '.join(extra.split())}" if extra else "")


def explain_error(cls_name: str, message: str, stack: list[str] | None = None) -> str:
    """One exception (by class name, message and formatted stack) explained for a learner."""
    return cut(_explain_error(cls_name, message, stack))


def _type_check(message: str, at: str) -> str | None:
    """Dagster's type-check failure (it quotes the whole value) as one line and a fix."""
    match = re.search(
        r'expected type "([^"]+)".*?(?:Value of type <class \'(\w+)\'>|of python type "(\w+)")',
        message,
        re.S,
    )
    declared = match.group(1) if match else ""
    got = (match.group(2) or match.group(3)) if match else ""
    if not match:  # Dagster cuts a long value (and the type after it) at 500,000 characters
        cut_value = re.search(r'expected type "([^"]+)"\. Description: Value "(.)', message)
        if not cut_value:
            return None
        declared = cut_value.group(1)
        got = {"{": "dict", "[": "list", "(": "tuple", "'": "str"}.get(cut_value.group(2), "")
        if not got:
            return None
    declared = "list" if declared.startswith("[") else declared.split("[")[0].lower()
    return (
        f"{at}the asset returned a {got}, but its return annotation says {declared}\n"
        f"  fix: return what the annotation says, or annotate the function with the type it "
        f"returns (e.g. `-> {got}`)"
    )


def _explain_error(cls_name: str, message: str, stack: list[str] | None) -> str:
    message = message.strip()
    last = message.splitlines()[-1] if message else cls_name
    last = _postgres_error(message, cls_name) or last.removeprefix(f"{cls_name}: ")
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
        found = _type_check(message, at)
        if found:
            return found
    if "which does not have an Output annotation" in message:
        return (
            f"{at}the asset returns dg.Output(...), but its return annotation is not an Output\n"
            "  fix: annotate it `-> dg.Output[list]` (or drop the annotation), or return the rows "
            "and add metadata with context.add_output_metadata"
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
    return f"{asset_name} did not materialize{_upstream_cause(result)}"


def _upstream_cause(result) -> str:
    """Why a step never ran: the checks that failed before it, or the step that failed first."""
    checks = []
    if hasattr(result, "get_asset_check_evaluations"):
        checks = sorted(
            {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
        )
    named = ", ".join(checks[:3]) + (f" and {len(checks) - 3} more" if len(checks) > 3 else "")
    for event in result.all_events:
        if event.is_step_failure:
            if checks:
                return (
                    f": it was skipped because {event.step_key} failed first: its check(s) "
                    f"{named} failed, and a failure upstream stops everything downstream"
                )
            err = event.step_failure_data.error
            cause = err.cause or err
            while cause.cause is not None:
                cause = cause.cause
            text = explain_error(cause.cls_name or "Error", cause.message or "", cause.stack)
            return f": it was skipped because {event.step_key} failed first: {text}"
    if checks:
        return (
            f": it was skipped because the check(s) {named} failed upstream, and a failing "
            "blocking check stops everything downstream"
        )
    return ""


# --- dbt errors (Phase 4) ------------------------------------------------------------------

_DBT_FIX = {
    "Compilation": "a Jinja error: check the {{ }} / {% %} brackets and ref()/source() calls",
    "Ref": "check the model name (the file name without .sql) in dbt_project/models/",
    "Database": "Postgres rejected the SQL: `uv run workbook dbt compile` (from the repository "
    "root) shows the SQL dbt sends, in dbt_project/target/compiled/",
}


def explain_dbt_error(text: str, project_dir: Path | None = None) -> str | None:
    """dbt's error output as 'dbt model X (file, line N): what' plus a fix; None if no error."""
    from workbook.platform import dbt  # only when there is a dbt error: not on every grade

    site = dbt.locate_error(text, project_dir)
    if site is None:
        return None
    fix = _DBT_FIX.get(site.kind, "read the model's SQL around that line")
    return cut(f"{site}\n  fix: {fix}")
