"""The ``workbook`` command: grade, hint, manage the database and the stubs.

uv run workbook check 1            grade your phase1_basic_assets.py
uv run workbook check 1 --solutions
uv run workbook hint 1             hints for phase 1's failing requirements
uv run workbook db status|url|psql|stop
uv run workbook stubs --check|--write
uv run workbook dbt build          dbt in dbt_project/, on the workbook's database (Phase 4)
"""

from __future__ import annotations

import argparse
import os
import sys


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments exit with status 2 and one line that says what is wrong."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _phase(text: str) -> int:
    from workbook.grading import PHASES

    if text.isdigit() and int(text) in PHASES:
        return int(text)
    raise argparse.ArgumentTypeError(
        f"phase must be one of {', '.join(map(str, PHASES))}, got {text!r}"
    )


def cmd_db(args: argparse.Namespace) -> int:
    from workbook import db

    if args.action == "url":
        print(db.database_url())
    elif args.action == "status":
        configured = os.environ.get(db.ENV_VAR)
        url = db.database_url()
        with db.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select version(), current_setting('TimeZone')")
            version, tz = cur.fetchone()
        from workbook.generate import source_row_count

        source = "WORKBOOK_DATABASE_URL" if configured else f"embedded server in {db.PGDATA}"
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
        print("stopped" if db.stop_embedded() else "the embedded server was not running")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from workbook import grading

    target = "solutions" if args.solutions else "exercises"
    phases = list(grading.PHASES) if args.all else [args.phase]
    if not phases or phases == [None]:
        print("workbook check: error: give a phase (1-5) or --all", file=sys.stderr)
        return 2
    failed = 0
    for phase in phases:
        outcomes = grading.run(phase, target, ["--tb=long"] if args.verbose else None)
        grading.save_results(phase, target, outcomes)
        print(f"Phase {phase} ({grading.phase_path(phase, target).name}, {target})")
        for o in outcomes:
            mark = "✓" if o.passed else "✗"
            print(f"  {mark} {o.requirement.title}")
            if not o.passed:
                failed += 1
                for line in o.message.splitlines()[:4]:
                    print(f"      {line}")
                if o.requirement.hints:
                    print(f"      hint: {o.requirement.hints[0]}")
                if args.verbose and o.details:
                    print(o.details)
        passed = sum(o.passed for o in outcomes)
        print(f"  {passed}/{len(outcomes)} requirements pass.")
        if passed < len(outcomes):
            print(f"  More help: uv run workbook hint {phase}   Full tracebacks: -v")
    return 1 if failed else 0


def cmd_hint(args: argparse.Namespace) -> int:
    import json

    from workbook import grading

    reqs = grading.requirements().get(args.phase, {})
    try:
        saved = json.loads(grading.RESULTS_FILE.read_text())["exercises"][str(args.phase)]
        passed = {rid for rid, ok in saved["requirements"].items() if ok}
    except (OSError, ValueError, KeyError):
        passed = set()
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
    from workbook import stubs
    from workbook.db import REPO_ROOT

    if args.write:
        for path in stubs.write_stubs():
            print(f"wrote {path.relative_to(REPO_ROOT)}")
        return 0
    stale = stubs.out_of_sync()
    for pair in stale:
        print(f"out of sync: {pair.exercise.relative_to(REPO_ROOT)} "
              f"(derived from {pair.solution.relative_to(REPO_ROOT)})")  # fmt: skip
    if stale:
        print("Run `uv run workbook stubs --write` (this overwrites those files).")
        return 1
    print(f"{len(stubs.pairs())} stubs match their solutions.")
    return 0


def cmd_dbt(args: argparse.Namespace) -> int:
    from workbook import dbt

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
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("hint", help="hints for a phase's failing requirements")
    p.add_argument("phase", type=_phase)
    p.add_argument("requirement", nargs="?", help="one requirement id")
    p.add_argument("--level", type=int, default=3, choices=(1, 2, 3), help="how many hints")
    p.set_defaults(func=cmd_hint)

    p = sub.add_parser("db", help="the workbook's database")
    p.add_argument("action", choices=("status", "url", "psql", "stop"))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="psql arguments")
    p.set_defaults(func=cmd_db)

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
    from workbook.db import DatabaseError

    try:
        return args.func(args)
    except DatabaseError as exc:
        print(f"workbook: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
