"""dbt plumbing for Phase 4: the connection, the project variant, the manifest, readable errors.

Everything that runs dbt (the Dagster resource, the grader, ``workbook dbt ...``) goes through
this module, so dbt always talks to the same database as the rest of the workbook:

* ``env()`` derives the ``WORKBOOK_PG_*`` variables that ``dbt_project/profiles.yml`` reads from
  ``workbook.platform.db.database_url()`` (the embedded server, or ``WORKBOOK_DATABASE_URL``).
* ``project_dir_for(phase_file)`` is the dbt project that belongs to a phase file. The learner's
  ``phase4_dbt_assets.py`` uses ``dbt_project/`` itself. The reference solution, and exercise
  files graded from another directory (``--exercises-dir``), use an *overlay*: a small copy of
  ``dbt_project/`` under ``.workbook/`` with their own SQL files laid over it. Copies are only
  rewritten when a file differs, so dbt's partial parsing keeps working.
* ``prepare(project_dir)`` makes sure ``target/manifest.json`` exists and matches the project
  files: a learner never runs ``dbt parse``. It parses in-process (dbt is already imported by
  dagster-dbt) only when the files changed.
* ``explain(text, project_dir)`` turns dbt's error output into one line that names the model,
  its file and the line in that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workbook.platform import db
from workbook.platform.paths import DBT_OVERLAYS as OVERLAYS
from workbook.platform.paths import DBT_PROJECT, REPO_ROOT, SOLUTIONS, SOLUTIONS_DBT, shown

ENV_NAMES = ("WORKBOOK_PG_HOST", "WORKBOOK_PG_PORT", "WORKBOOK_PG_USER", "WORKBOOK_PG_PASSWORD",
             "WORKBOOK_PG_DBNAME")  # fmt: skip
# Not part of the project: dbt's outputs, and our own bookkeeping.
SKIP = {"target", "logs", "dbt_packages", ".user.yml"}
STAMP = "workbook_manifest.json"

# dbt settings for every invocation: no network (the workbook is offline), no usage stats.
DBT_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "DBT_PARTIAL_PARSE": "true",
    "DO_NOT_TRACK": "1",
}


class DbtProjectError(RuntimeError):
    """The dbt project does not parse; the message names the file and the line."""


# --- the connection --------------------------------------------------------------------------


def env(url: str | None = None) -> dict[str, str]:
    """The variables profiles.yml reads, for the workbook's database (or ``url``)."""
    p = db.parse_url(url or db.database_url())
    values = (p["host"] or "localhost", p["port"], p["user"], p["password"], p["dbname"])
    return {**dict(zip(ENV_NAMES, values)), **DBT_ENV}


def apply_env(url: str | None = None) -> dict[str, str]:
    """Set those variables in this process, so dbt (in-process or a subprocess) inherits them."""
    values = env(url)
    os.environ.update(values)
    return values


# --- which project: the learner's, the solution's, or an overlay ------------------------------


def _files(root: Path) -> dict[str, Path]:
    """The project's files by relative path, without dbt's outputs."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIP or rel.parts[0].startswith(".") or not path.is_file():
            continue
        out[rel.as_posix()] = path
    return out


def _sync(dest: Path, wanted: dict[str, Path]) -> None:
    """Make ``dest`` hold exactly ``wanted`` (plus dbt's outputs); rewrite only what differs."""
    for rel, src in wanted.items():
        target = dest / rel
        data = src.read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(target)
    for rel in set(_files(dest)) - set(wanted):
        (dest / rel).unlink()


def project_dir_for(phase_file: str | Path) -> Path:
    """The dbt project that goes with a phase file (see the module docstring)."""
    home = Path(phase_file).resolve().parent
    if home == REPO_ROOT:
        return DBT_PROJECT
    if home == SOLUTIONS:
        overlay_src, dest = SOLUTIONS_DBT, OVERLAYS / "solutions"
    else:  # an exercises directory laid out like the repository
        overlay_src, dest = home / "dbt_project", home / ".workbook" / "dbt_project"
    wanted = _files(DBT_PROJECT)
    if overlay_src.is_dir():
        wanted.update(_files(overlay_src))
    with _lock(dest):
        _sync(dest, wanted)
    return dest


def source_file(project_dir: Path, rel: str) -> Path:
    """Where a file of a (possibly overlaid) project really comes from, for messages."""
    project_dir = Path(project_dir)
    if project_dir == OVERLAYS / "solutions":
        candidate = SOLUTIONS_DBT / rel
    elif project_dir.parent.name == ".workbook":  # the overlay of an exercises directory
        candidate = project_dir.parent.parent / "dbt_project" / rel
    else:
        return project_dir / rel
    return candidate if candidate.is_file() else DBT_PROJECT / rel


# --- the manifest ------------------------------------------------------------------------------


@contextlib.contextmanager
def _lock(project_dir: Path):
    """One preparer at a time per project (the UI and a grader may start together)."""
    from filelock import FileLock

    (project_dir / "target").mkdir(parents=True, exist_ok=True)
    with FileLock(project_dir / "target" / ".workbook.lock"):
        yield


def fingerprint(project_dir: Path) -> str:
    """A hash of every project file: the manifest is stale when this changes."""
    digest = hashlib.sha256()
    for rel, path in _files(project_dir).items():
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def manifest_path(project_dir: Path) -> Path:
    return project_dir / "target" / "manifest.json"


def is_fresh(project_dir: Path) -> bool:
    stamp = project_dir / "target" / STAMP
    try:
        saved = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return manifest_path(project_dir).exists() and saved.get("fingerprint") == fingerprint(
        project_dir
    )


def prepare(project_dir: Path) -> Path:
    """Parse the project when its manifest is missing or stale; the manifest's path.

    Raises ``DbtProjectError`` (naming the file and line) when the project does not parse.
    """
    project_dir = Path(project_dir)
    if is_fresh(project_dir):
        return manifest_path(project_dir)
    with _lock(project_dir):
        if not is_fresh(project_dir):  # another process may have prepared it meanwhile
            _parse(project_dir)
    return manifest_path(project_dir)


def _parse(project_dir: Path) -> None:
    """``dbt parse`` into a private target path, then move the results into target/ atomically."""
    stamp = fingerprint(project_dir)
    scratch = project_dir / "target" / f".parse-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    restore_partial_parse(scratch, None)
    apply_env(url_or_placeholder())
    # Silent: dbt's own copy of an error has no line; the caller reports it once, located.
    args = ["parse", "--log-level", "none", "--target-path", str(scratch), "--project-dir",
            str(project_dir), "--profiles-dir", str(project_dir), "--log-path", str(scratch)]  # fmt: skip
    try:
        result, output = run_in_process(args, project_dir)
        if not result.success:
            raise DbtProjectError(explain(output, project_dir) or output.strip()[-2000:])
        save_partial_parse(scratch, None)
        for name in ("manifest.json", "partial_parse.msgpack"):
            if (scratch / name).exists():
                (scratch / name).replace(project_dir / "target" / name)
        (project_dir / "target" / STAMP).write_text(json.dumps({"fingerprint": stamp}))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def url_or_placeholder() -> str | None:
    """Parsing needs no database; use the real one if reachable, else a harmless placeholder."""
    try:
        return db.database_url()
    except db.DatabaseError:
        return "postgresql://postgres@localhost:5432/workbook"


def run_in_process(args: list[str], project_dir: Path):
    """A dbt command run in this process (dbt is imported already): (dbt's result, its errors)."""
    from dbt.cli.main import dbtRunner

    messages: list[str] = []

    def collect(event) -> None:
        if getattr(event.info, "level", "") == "error":
            messages.append(event.info.msg)

    cwd = os.getcwd()
    try:
        os.chdir(project_dir)
        result = dbtRunner(callbacks=[collect]).invoke(args)
    finally:
        os.chdir(cwd)
    if result.exception is not None:
        messages.append(str(result.exception))
    return result, "\n".join(messages)


# --- partial parsing across runs ---------------------------------------------------------------
# dbt re-parses the whole project when the --vars differ from the ones its saved state was parsed
# with, and Dagster passes a new window with every partition. dagster-dbt also runs every
# invocation in a fresh target directory. So we keep dbt's partial-parse state per --vars value
# (one small file each, shared by every variant of the project: dbt checks each file's checksum
# and re-parses only what differs), put it where the next run with the same --vars finds it,
# and save it back when that run ends. A grader run then parses nothing it parsed before.

PARSE_CACHE = OVERLAYS / "partial_parse"


def _cache_file(dbt_vars: str | None) -> Path:
    key = hashlib.sha256((dbt_vars or "").encode()).hexdigest()[:16]
    return PARSE_CACHE / f"{key}.msgpack"


def restore_partial_parse(target_path: Path, dbt_vars: str | None) -> None:
    cached = _cache_file(dbt_vars)
    dest = Path(target_path) / "partial_parse.msgpack"
    if cached.exists() and not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, dest)


def save_partial_parse(target_path: Path, dbt_vars: str | None) -> None:
    produced = Path(target_path) / "partial_parse.msgpack"
    if produced.exists():
        cached = _cache_file(dbt_vars)
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
        shutil.copyfile(produced, tmp)
        tmp.replace(cached)


def vars_arg(args: list[str]) -> str | None:
    """The value of ``--vars`` in a dbt command line, if any."""
    for i, arg in enumerate(args):
        if arg == "--vars" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--vars="):
            return arg.split("=", 1)[1]
    return None


# --- readable errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class DbtErrorSite:
    """Where dbt's first error is: the kind of error, the node, its source file and line."""

    kind: str  # Compilation, Database, Runtime, Parsing, or Ref (a ref() to a missing model)
    node: str  # model, test, ...
    name: str
    where: str  # the source file as shown to a learner, with ", line N" when known
    message: str

    def __str__(self) -> str:
        return f"dbt {self.node} {self.name} ({self.where}): {self.message}"


_REF = re.compile(
    r"Model '[\w.]+' \((?P<path>[^)]+\.sql)\) depends on a node named '(?P<missing>\w+)' which "
    r"was not found"
)
_NODE = re.compile(
    r"(?P<kind>Compilation|Database|Runtime|Parsing) Error in (?P<type>model|test|seed|snapshot|"
    r"source|sql_operation)? ?(?P<name>[\w.]+)? ?\((?P<path>[^)]+\.(?:sql|yml))\)\s*(?P<rest>.*)",
    re.S,
)
_LINE = re.compile(r"(?:line|LINE) (\d+)")


def locate_error(text: str, project_dir: Path | None = None) -> DbtErrorSite | None:
    """The first error in dbt's output, located in its source file; None when there is none.

    ``text`` is anything dbt printed: dagster-dbt's ``DagsterDbtCliRuntimeError`` message, dbt's
    stdout, or its log events. Jinja errors carry the template's own line; a database error
    points into the *compiled* SQL, and is mapped back to the source line whose text matches.
    Files of an overlaid project are named where they really come from.
    """
    project_dir = Path(project_dir or DBT_PROJECT)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # dbt colours its output
    ref = _REF.search(text)
    if ref:
        src = source_file(project_dir, ref["path"])
        pattern = re.compile(rf"ref\(\s*['\"]{ref['missing']}['\"]")
        line = next((n for n, ln in _numbered(src) if pattern.search(ln)), None)
        where = f"{shown(src)}, line {line}" if line else shown(src)
        return DbtErrorSite(
            "Ref", "model", Path(ref["path"]).stem, where, f"ref('{ref['missing']}') names no model"
        )
    match = _NODE.search(text)
    if not match:
        return None
    rel = match["path"].strip()
    src = source_file(project_dir, rel)
    rest = [line.strip() for line in match["rest"].strip().splitlines() if line.strip()]
    reason = next((x for x in rest if not x.lower().startswith(("compiled code", "line "))), "")
    line = _source_line(src, rest, match["kind"])
    where = f"{shown(src)}, line {line}" if line else shown(src)
    name = match["name"] or Path(rel).stem
    return DbtErrorSite(
        match["kind"], match["type"] or "model", name, where, reason or f"{match['kind']} error"
    )


def explain(text: str, project_dir: Path | None = None) -> str:
    """One line from dbt's error output (see ``locate_error``); "" when it holds no error."""
    site = locate_error(text, project_dir)
    return str(site) if site else ""


def _numbered(path: Path) -> list[tuple[int, str]]:
    try:
        return list(enumerate(path.read_text().splitlines(), 1))
    except OSError:
        return []


def _source_line(src: Path, rest: list[str], kind: str) -> int | None:
    """The line of the source file the error points at ("line 12", or "LINE 3: <compiled>")."""
    for text in rest:
        m = _LINE.search(text)
        if not m:
            continue
        if kind == "Compilation" and text.lower().startswith("line"):
            return int(m.group(1))
        snippet = text.split(":", 1)[1].strip() if ":" in text else ""
        if snippet:
            found = _compiled_line_in_source(src, snippet)
            if found:
                return found
        if kind == "Compilation":
            return int(m.group(1))
    return None


def _compiled_line_in_source(src: Path, compiled_line: str) -> int | None:
    """The source line that renders to ``compiled_line`` (a Jinja expression matches anything)."""
    target = compiled_line.strip()
    for n, line in _numbered(src):
        parts = re.split(r"\{\{.*?\}\}", line.strip())
        if "".join(parts).strip() and re.fullmatch(".*?".join(map(re.escape, parts)), target):
            return n
    head = target.strip(". ")[:40]
    return next((n for n, line in _numbered(src) if head and head in line), None)


# --- `workbook dbt ...` --------------------------------------------------------------------


def run_cli(args: list[str]) -> int:
    """Run dbt by hand in the learner's project, connected to the workbook's database."""
    values = apply_env()
    if args[:1] == ["env"]:  # `eval "$(workbook dbt env)"` for a shell of your own
        for k, v in values.items():
            print(f"export {k}={shlex.quote(v)}")  # quoted for the shell, whatever v holds
        return 0
    prepare(DBT_PROJECT)
    return subprocess.call([executable(), *args], cwd=DBT_PROJECT)


def executable() -> str:
    """The dbt installed next to this Python (found even when the venv is not on PATH)."""
    exe = Path(sys.executable).with_name("dbt.exe" if sys.platform == "win32" else "dbt")
    return str(exe) if exe.exists() else "dbt"
