"""The ``workbook`` command: grade, hint, manage the database and the stubs.

uv run workbook check 1            grade your phase1_basic_assets.py
uv run workbook check 1 --solutions
uv run workbook hint 1             hints for phase 1's failing requirements
uv run workbook watch [1]          re-grade on every save (keys: h hint, n next, q quit)
uv run workbook progress           passed/total per phase, and what is next
uv run workbook reset 1            restore phase 1's stub (backs up your file)
uv run workbook solution 1         the reference as a diff, once phase 1 passes
uv run workbook check --all --report junit.xml|report.json
uv run workbook db status|url|psql|stop
uv run workbook stubs --check|--write
uv run workbook dbt build          dbt in dbt_project/, on the workbook's database (Phase 4)
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path

EXERCISES_DIR_HELP = "use the phase files in DIR instead of the repository's (instructors, tests)"


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments exit with status 2 and one line that says what is wrong."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _phase(text: str) -> int:
    from workbook.course.phases import PHASES

    if text.isdigit() and int(text) in PHASES:
        return int(text)
    raise argparse.ArgumentTypeError(
        f"phase must be one of {', '.join(map(str, PHASES))}, got {text!r}"
    )


def cmd_db(args: argparse.Namespace) -> int:
    from workbook.platform import db, embedded

    if args.action == "url":
        print(db.database_url())
    elif args.action == "status":
        configured = os.environ.get(db.ENV_VAR)
        if not configured and (not_running := embedded.embedded_not_running()):
            print(not_running)  # a status reports; it does not start the server
            return 3
        url = db.database_url()
        with db.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select version(), current_setting('TimeZone')")
            version, tz = cur.fetchone()
        from workbook.platform.generate import source_row_count

        source = "WORKBOOK_DATABASE_URL" if configured else f"embedded server in {embedded.PGDATA}"
        print(f"database : {db.describe(url)} ({source})")
        print(f"url      : {db.mask(url)}")
        print(f"server   : {version.split(',')[0]}, time zone {tz}")
        print(f"readings : {source_row_count(url):,} in source.weather_readings")
    elif args.action == "psql":
        return db.psql(args.rest)
    elif args.action == "stop":
        if os.environ.get(db.ENV_VAR):
            print(f"{db.ENV_VAR} is set: that server is not the workbook's to stop.")
            return 1
        print(embedded.stop_embedded())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import time

    from workbook.course.phases import PHASES, phase_path
    from workbook.course.requirements import requirements
    from workbook.course.results import save_results
    from workbook.grading.render import render_outcomes
    from workbook.grading.runner import run

    target = "solutions" if args.solutions else "exercises"
    phases = list(PHASES) if args.all else [args.phase]
    if not phases or phases == [None]:
        print("workbook check: error: give a phase (1-5) or --all", file=sys.stderr)
        return 2
    if args.report and args.report.suffix not in (".xml", ".json"):
        print("workbook check: error: --report must end in .xml (JUnit) or .json", file=sys.stderr)
        return 2
    failed = 0
    results = []
    for phase in phases:
        if args.all and not requirements().get(phase):
            continue  # a phase that is not written yet has nothing to grade
        started = time.monotonic()
        with _progress(f"Phase {phase}") as progress:
            outcomes = run(phase, target, ["--tb=long"] if args.verbose else None,
                           args.exercises_dir, progress=progress)  # fmt: skip
        if args.exercises_dir is None:
            save_results(phase, target, outcomes)
        results.append((phase, outcomes, time.monotonic() - started))
        path = phase_path(phase, target, args.exercises_dir)
        print(f"Phase {phase} ({path.name}, {target})")
        for line in render_outcomes(outcomes, verbose=args.verbose)[1:]:
            print(line)
        passed = sum(o.passed for o in outcomes)
        failed += len(outcomes) - passed
        print(f"  {passed}/{len(outcomes)} requirements pass.")
        if passed < len(outcomes):
            print(f"  More help: uv run workbook hint {phase}   Full tracebacks: -v")
    if args.report:
        from workbook.grading import report

        report.write(args.report, [report.PhaseResult(p, target, o, s) for p, o, s in results])
        print(f"Report: {args.report}")
    return 1 if failed else 0


@contextmanager
def _progress(what: str):
    """A transient status line on a terminal (which requirement is being checked); else nothing."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    width = max(console.width - 4, 20)  # one line: the spinner redraws it in place
    with console.status(f"{what}: loading dagster and the grader...") as status:
        yield lambda step: status.update(f"{what}: {step}"[:width])


def cmd_watch(args: argparse.Namespace) -> int:
    from workbook.learner import watch

    return watch.watch(args.phase, args.exercises_dir, args.verbose, args.max_runs)


def cmd_progress(args: argparse.Namespace) -> int:
    from workbook.learner import progress

    return progress.show()


def cmd_reset(args: argparse.Namespace) -> int:
    from workbook.learner import reset

    return reset.reset(args.phase, yes=args.yes, exercises_dir=args.exercises_dir)


def cmd_solution(args: argparse.Namespace) -> int:
    from workbook.learner import solution

    return solution.show(args.phase, force=args.force, exercises_dir=args.exercises_dir)


def cmd_hint(args: argparse.Namespace) -> int:
    from workbook.course.requirements import requirements
    from workbook.course.results import phase_results

    reqs = requirements().get(args.phase, {})
    passed = {rid for rid, ok in phase_results(args.phase).items() if ok}
    chosen = [r for r in reqs.values() if args.requirement in (None, r.id) and r.id not in passed]
    if args.requirement and not chosen:
        chosen = [reqs[args.requirement]] if args.requirement in reqs else []
    if not chosen:
        print(
            f"No failing requirement to hint for phase {args.phase}: run `workbook check {args.phase}`."
        )
        return 0
    for req in chosen:
        print(f"{req.id}: {req.title}")
        for level, hint in enumerate(req.hints[: args.level], 1):
            print(f"  {level}. {hint}")
    return 0


def cmd_stubs(args: argparse.Namespace) -> int:
    from workbook.course.markers import pairs
    from workbook.maintainer import stubs
    from workbook.platform.paths import shown

    if args.write:
        for path in stubs.write_stubs():
            print(f"wrote {shown(path)}")
        return 0
    stale = stubs.out_of_sync()
    for pair in stale:
        print(f"out of sync: {shown(pair.exercise)} (derived from {shown(pair.solution)})")
    if stale:
        print("Run `uv run workbook stubs --write` (this overwrites those files).")
        return 1
    print(f"{len(pairs())} stubs match their solutions.")
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    from workbook.comparison import baseline, compare

    try:
        if args.action == "install":
            baseline.install()
        else:
            url = compare.compare_database() if args.database is None else args.database
            from workbook.platform import generate

            generate.load(url=url)
            timings = baseline.run_backfill(compare.START, args.days, url, dag_id=args.dag)
            runs = ", ".join(f"{t:.2f}" for t in timings["runs_s"])
            print(
                f"{args.days} DAG run(s) succeeded in {compare.COMPARE_DB}; seconds per run: {runs}"
            )
    except (baseline.BaselineError, compare.CompareError) as exc:
        print(f"workbook airflow: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from workbook.comparison import baseline, compare
    from workbook.platform.paths import shown

    try:
        result = compare.run(args.days)
    except (baseline.BaselineError, compare.CompareError) as exc:
        print(f"workbook compare: {exc}", file=sys.stderr)
        return 1
    print(f"Outputs identical: {'yes' if result['identical'] else 'NO'} ({result['rows']} rows)")
    for name, problem in result["problems"].items():
        if problem:
            print(f"  {name}: {problem}")
    print(f"Report: {shown(compare.REPORT)} (chart: {shown(compare.CHART)})")
    return 0 if result["identical"] else 1


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 30:
        raise argparse.ArgumentTypeError(
            f"--days must be a whole number from 1 to 30, got {text!r}"
        )
    return int(text)


def cmd_dbt(args: argparse.Namespace) -> int:
    from workbook.platform import dbt

    try:
        return dbt.run_cli(args.rest)
    except dbt.DbtProjectError as exc:
        print(f"workbook: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="workbook", description="The Dagster weather workbook.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    p = sub.add_parser("check", help="grade a phase")
    p.add_argument("phase", type=_phase, nargs="?")
    p.add_argument("--all", action="store_true", help="grade every phase")
    p.add_argument("--solutions", action="store_true", help="grade the reference solutions")
    p.add_argument("-v", "--verbose", action="store_true", help="show full tracebacks")
    p.add_argument(
        "--report",
        type=Path,
        metavar="FILE.xml|FILE.json",
        help="also write a classroom report: JUnit XML (.xml) or JSON (.json)",
    )
    p.add_argument("--exercises-dir", type=Path, metavar="DIR", help=EXERCISES_DIR_HELP)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("watch", help="re-grade a phase on every save (keys: h, n, r, q)")
    p.add_argument(
        "phase", type=_phase, nargs="?", help="default: the first phase that does not pass yet"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show full tracebacks")
    p.add_argument("--exercises-dir", type=Path, metavar="DIR", help=EXERCISES_DIR_HELP)
    p.add_argument("--max-runs", type=int, help=argparse.SUPPRESS)  # for tests: stop after N
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("progress", help="passed/total per phase and what is next (no re-run)")
    p.set_defaults(func=cmd_progress)

    p = sub.add_parser("reset", help="restore a phase's stub (your file is backed up)")
    p.add_argument("phase", type=_phase)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--exercises-dir", type=Path, metavar="DIR", help=EXERCISES_DIR_HELP)
    p.set_defaults(func=cmd_reset)

    p = sub.add_parser("solution", help="the reference as a diff, once your phase passes")
    p.add_argument("phase", type=_phase)
    p.add_argument("--force", action="store_true", help="show it even if the phase fails")
    p.add_argument("--exercises-dir", type=Path, metavar="DIR", help=EXERCISES_DIR_HELP)
    p.set_defaults(func=cmd_solution)

    p = sub.add_parser("hint", help="hints for a phase's failing requirements")
    p.add_argument("phase", type=_phase)
    p.add_argument("requirement", nargs="?", help="one requirement id")
    p.add_argument("--level", type=int, default=3, choices=(1, 2, 3), help="how many hints")
    p.set_defaults(func=cmd_hint)

    p = sub.add_parser("db", help="the workbook's database")
    p.add_argument("action", choices=("status", "url", "psql", "stop"))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="psql arguments")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("airflow", help="the Airflow baseline: install it, or run its DAG")
    p.add_argument("action", choices=("install", "run"))
    p.add_argument("--days", type=_days, default=7, help="dates to run (1-30, from 2024-01-01)")
    p.add_argument("--database", help="database URL (default: workbook_compare)")
    p.add_argument("--dag", choices=("weather_etl", "weather_dbt"), default="weather_etl",
                   help="weather_etl (default) or weather_dbt (dbt as one Bash task)")  # fmt: skip
    p.set_defaults(func=cmd_airflow)

    p = sub.add_parser("compare", help="run Airflow and Dagster on the same days, and compare")
    p.add_argument("--days", type=_days, default=7, help="days to backfill (1-30)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("dbt", help="run dbt in dbt_project/ on the workbook's database")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="dbt arguments, e.g. build; or env")
    p.set_defaults(func=cmd_dbt)

    p = sub.add_parser("stubs", help="check or regenerate the stubs from the solutions")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", action="store_true")
    p.set_defaults(func=cmd_stubs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from workbook.platform.bytecode import compile_in_background
    from workbook.platform.db import DatabaseError

    compile_in_background()  # once, when Python writes no bytecode and dagster has none

    try:
        return args.func(args)
    except DatabaseError as exc:
        print(f"workbook: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
