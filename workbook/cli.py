"""The ``workbook`` command: grade, hint, manage the database and the stubs.

Built on click, like dbt, dagster and dg: ``workbook --help`` and ``workbook COMMAND --help``
show examples, a mistyped command gets a "did you mean", shell completion comes from click
(README: "Shell completion"), and every bad input ends in one line and exit status 2.
Nothing heavy is imported before a command runs, so a typo is answered at once.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from workbook.comparison.commands import airflow, compare

EXERCISES_DIR_HELP = "Use the phase files in DIR instead of the repository's (instructors, tests)."


class Phase(click.ParamType):
    """A phase number, 1 to 5."""

    name = "phase"

    def convert(self, value, param, ctx) -> int:
        from workbook.course.phases import PHASES

        if isinstance(value, int) or (str(value).isdigit() and int(value) in PHASES):
            return int(value)
        self.fail(f"phase must be one of {', '.join(map(str, PHASES))}, got {value!r}")

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        from workbook.course.phases import PHASES

        return [CompletionItem(str(p), help=m) for p, m in PHASES.items()
                if str(p).startswith(incomplete)]  # fmt: skip


PHASE = Phase()
EXERCISES_DIR = click.option(
    "--exercises-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help=EXERCISES_DIR_HELP,
)


class Workbook(click.Group):
    """The top-level group: commands in the order a learner meets them, and "did you mean"."""

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            near = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.5)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            ctx.fail(f"no command {name!r}.{hint} Commands: {', '.join(self.list_commands(ctx))}")
        return super().resolve_command(ctx, args)


@click.group(cls=Workbook, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """The Dagster weather workbook: grade your phases, get hints, run the database and dbt.

    \b
    Examples:
      uv run workbook watch            re-grade on every save (keys: h hint, n next, q quit)
      uv run workbook check 1          grade phase1_basic_assets.py once
      uv run workbook hint 1           hints for phase 1's failing requirements
      uv run workbook progress         passed/total per phase, UI steps, what is next
      uv run workbook chek 1           a typo: "Did you mean 'check'?"

    \b
    Shell completion (bash; zsh and fish alike, see README):
      eval "$(_WORKBOOK_COMPLETE=bash_source uv run workbook)"
    """


@cli.command()
@click.argument("phase", type=PHASE, required=False, metavar="PHASE")
@click.option("--all", "all_phases", is_flag=True, help="Grade every phase.")
@click.option("--solutions", is_flag=True, help="Grade the reference solutions instead.")
@click.option("-v", "--verbose", is_flag=True, help="Show the full traceback of each failure.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.xml|FILE.json",
    help="Also write a classroom report: JUnit XML (.xml) or JSON (.json).",
)
@EXERCISES_DIR
def check(phase, all_phases, solutions, verbose, report, exercises_dir) -> int:
    """Grade a phase: ✓/✗ per requirement, with its id, what is wrong, and a hint.

    Exit status 0 only when every requirement passes.

    \b
    Examples:
      uv run workbook check 1
      uv run workbook check 1 -v                       full tracebacks
      uv run workbook check --all --solutions          the reference passes
      uv run workbook check --all --report junit.xml   a classroom report
      uv run workbook check 2 --exercises-dir ~/student   grade another copy
    """
    import time

    from workbook.course.phases import PHASES, phase_path
    from workbook.course.requirements import requirements
    from workbook.course.results import save_results
    from workbook.grading.render import progress_line, render_outcomes
    from workbook.grading.runner import run

    target = "solutions" if solutions else "exercises"
    if phase is None and not all_phases:
        raise click.UsageError("give a phase (1-5) or --all")
    if report and report.suffix not in (".xml", ".json"):
        raise click.UsageError("--report must end in .xml (JUnit) or .json")
    failed = 0
    results = []
    for p in list(PHASES) if all_phases else [phase]:
        if all_phases and not requirements().get(p):
            continue  # a phase that is not written yet has nothing to grade
        started = time.monotonic()
        with progress_line(f"Phase {p}") as progress:
            outcomes = run(p, target, exercises_dir, progress=progress)
        if exercises_dir is None:
            save_results(p, target, outcomes)
        results.append((p, outcomes, time.monotonic() - started))
        print(f"Phase {p} ({phase_path(p, target, exercises_dir).name}, {target})")
        for line in render_outcomes(outcomes, verbose=verbose)[1:]:
            print(line)
        passed = sum(o.passed for o in outcomes)
        failed += len(outcomes) - passed
        print(f"  {passed}/{len(outcomes)} requirements pass.")
        if passed < len(outcomes):
            more = "" if verbose else f"   Full tracebacks: workbook check {p} -v"
            print(f"  More help: uv run workbook hint {p} [ID]{more}")
    if report:
        from workbook.grading import report as reports

        reports.write(report, [reports.PhaseResult(p, target, o, s) for p, o, s in results])
        print(f"Report: {report}")
    return 1 if failed else 0


@cli.command()
@click.argument("phase", type=PHASE, required=False, metavar="PHASE")
@click.option("-v", "--verbose", is_flag=True, help="Show the full traceback of each failure.")
@EXERCISES_DIR
@click.option("--max-runs", type=int, hidden=True)  # for tests: stop after N grades
def watch(phase, verbose, exercises_dir, max_runs) -> int:
    """Re-grade a phase on every save of its file (and of dbt_project/ in Phase 4).

    Without PHASE it follows you: it starts at the first phase that does not pass, moves on when
    it passes, and switches when you save another phase's file. In a terminal: h hint, n next
    failing requirement, r re-grade, q quit.

    \b
    Examples:
      uv run workbook watch
      uv run workbook watch 3
    """
    from workbook.learner import watch as watcher

    return watcher.watch(phase, exercises_dir, verbose, max_runs)


@cli.command()
def progress() -> int:
    """Passed/total per phase, the UI steps you have done, and what is next (runs nothing).

    \b
    Example:
      uv run workbook progress
    """
    from workbook.learner import progress as shown

    return shown.show()


@cli.command()
@click.argument("phase", type=PHASE, metavar="PHASE")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@EXERCISES_DIR
def reset(phase, yes, exercises_dir) -> int:
    """Restore a phase's stub; your file is backed up to .workbook/backups/ first.

    \b
    Examples:
      uv run workbook reset 1
      uv run workbook reset 4 --yes      also restores Phase 4's dbt SQL
    """
    from workbook.learner import reset as resetter

    return resetter.reset(phase, yes=yes, exercises_dir=exercises_dir)


@cli.command()
@click.argument("phase", type=PHASE, metavar="PHASE")
@click.option("--force", is_flag=True, help="Show it even if the phase does not pass yet.")
@EXERCISES_DIR
def solution(phase, force, exercises_dir) -> int:
    """The reference solution as a diff against your file, once your phase passes.

    \b
    Examples:
      uv run workbook solution 1
      uv run workbook solution 1 --force
    """
    from workbook.learner import solution as reference

    return reference.show(phase, force=force, exercises_dir=exercises_dir)


@cli.command()
@click.argument("phase", type=PHASE, metavar="PHASE")
@click.argument("requirement", required=False)
@click.option("--todo", type=click.IntRange(min=1), help="Hints for the requirements of TODO N.")
@click.option("--level", type=click.IntRange(1, 3), default=3, show_default=True,
              help="How many hints: 1 a nudge, 2 the API, 3 a near-answer.")  # fmt: skip
def hint(phase, requirement, todo, level) -> int:
    """Hints for a phase's failing requirements, or for one requirement or TODO.

    REQUIREMENT is an id as `check` and `watch` show it in brackets, or a TODO number.

    \b
    Examples:
      uv run workbook hint 1                          every failing requirement
      uv run workbook hint 2 validate_readings_rules  one requirement
      uv run workbook hint 2 --todo 1                 the requirements of TODO 1
      uv run workbook hint 2 1 --level 1              only the nudge
    """
    from workbook.learner import hint as hints

    try:
        return hints.show(phase, requirement, todo, level)
    except hints.HintError as exc:
        raise click.UsageError(str(exc)) from None


REST = {"ignore_unknown_options": True, "allow_interspersed_args": False}


@cli.command(context_settings=REST)
@click.argument("action", type=click.Choice(["status", "url", "psql", "stop"]), metavar="ACTION")
@click.argument("rest", nargs=-1, type=click.UNPROCESSED)
def db(action, rest) -> int:
    """The workbook's database: where it is, its URL, psql on it, or stop the embedded server.

    \b
    Examples:
      uv run workbook db status
      uv run workbook db url
      uv run workbook db psql -c 'select count(*) from source.weather_readings'
      uv run workbook db stop
    """
    from workbook.platform import db as database
    from workbook.platform import embedded

    if rest and action != "psql":
        raise click.UsageError(f"`db {action}` takes no arguments, got {' '.join(rest)!r}")
    if action == "url":
        print(database.database_url())
    elif action == "status":
        if not os.environ.get(database.ENV_VAR) and (
            not_running := embedded.embedded_not_running()
        ):
            print(not_running)  # a status reports; it does not start the server
            return 3
        _db_status(database, embedded)
    elif action == "psql":
        return database.psql(list(rest))
    elif os.environ.get(database.ENV_VAR):
        print(f"{database.ENV_VAR} is set: that server is not the workbook's to stop.")
        return 1
    else:
        print(embedded.stop_embedded())
    return 0


def _db_status(database, embedded) -> None:
    from workbook.platform.generate import source_row_count

    configured = os.environ.get(database.ENV_VAR)
    url = database.database_url()
    with database.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select version(), current_setting('TimeZone')")
        version, tz = cur.fetchone()
    source = "WORKBOOK_DATABASE_URL" if configured else f"embedded server in {embedded.PGDATA}"
    print(f"database : {database.describe(url)} ({source})")
    print(f"url      : {database.mask(url)}")
    print(f"server   : {version.split(',')[0]}, time zone {tz}")
    print(f"readings : {source_row_count(url):,} in source.weather_readings")


# The optional Airflow comparison's commands, in the help between `db` and `dbt`.
cli.add_command(airflow)
cli.add_command(compare)


@cli.command(context_settings=REST)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args) -> int:
    """dbt in dbt_project/, on the workbook's database (Phase 4); `env` prints the exports.

    \b
    Examples:
      uv run workbook dbt build
      uv run workbook dbt compile -s daily_weather_summary
      eval "$(uv run workbook dbt env)"
    """
    from workbook.platform import dbt as runner

    try:
        return runner.run_cli(list(args))
    except runner.DbtProjectError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.option("--check", "mode", flag_value="check", help="Fail if a stub is out of sync.")
@click.option("--write", "mode", flag_value="write", help="Regenerate the stubs.")
def stubs(mode) -> int:
    """Check or regenerate the learner's stubs (derived from the reference in solutions/; maintainers).

    \b
    Examples:
      uv run workbook stubs --check
      uv run workbook stubs --write
    """
    from workbook.course.markers import pairs
    from workbook.maintainer import stubs as derived
    from workbook.platform.paths import shown

    if mode is None:
        raise click.UsageError("give --check or --write")
    if mode == "write":
        for path in derived.write_stubs():
            print(f"wrote {shown(path)}")
        return 0
    stale = derived.out_of_sync()
    for pair in stale:
        print(f"out of sync: {shown(pair.exercise)} (derived from {shown(pair.solution)})")
    if stale:
        print("Run `uv run workbook stubs --write` (this overwrites those files).")
        return 1
    print(f"{len(pairs())} stubs match their solutions.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command; a bad input or a known failure is one line on stderr, never a traceback.

    Nothing heavy is imported before the command runs (a bad input is answered at once).
    """
    from workbook.platform.bytecode import compile_in_background

    compile_in_background()  # once, when Python writes no bytecode and dagster has none
    try:
        code = cli.main(args=argv, prog_name="workbook", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # plain `workbook`: the help
        print(exc.format_message())
        return 0
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "workbook"
        print(f"{where}: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except click.ClickException as exc:
        print(f"workbook: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except click.Abort:
        print("workbook: aborted", file=sys.stderr)
        return 130
    except Exception as exc:
        from workbook.platform.db import DatabaseError

        if not isinstance(exc, DatabaseError):
            raise
        print(f"workbook: {exc}", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
