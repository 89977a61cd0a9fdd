"""Generate mock weather readings into PostgreSQL (``source.weather_readings``).

    uv run python data/generate_weather.py --days 30
    uv run python data/generate_weather.py --days 1 --start 2024-02-01 --to-csv data/incoming

The same --seed gives the same rows; re-running for the same days replaces them.
The rules behind the data (cities, dirt rates) are documented in workbook/platform/generate.py.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

MAX_DAYS = 3650


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments exit with status 2 and one line that says what is wrong (not the usage)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days must be a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and {MAX_DAYS}, got {value}")
    return value


def _start(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--start must be a date like 2024-01-01, got {text!r}"
        ) from None


def _directory(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("a directory is needed, not an empty string")
    return Path(text)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    from workbook.platform import generate as gen

    parser = OneLineParser(prog="generate_weather.py", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=_days, default=gen.DEFAULT_DAYS, help="days to generate")
    parser.add_argument("--start", type=_start, default=gen.DEFAULT_START, help="first UTC day")
    parser.add_argument("--seed", type=_seed, default=gen.DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--cities", help=f"comma-separated subset of: {', '.join(gen.CITY_NAMES)}", default=None
    )
    parser.add_argument(
        "--to-csv", type=_directory, metavar="DIR", help="write one CSV per day instead"
    )
    args = parser.parse_args(argv)
    try:
        gen.check_range(args.start, args.days)
    except ValueError as exc:
        parser.error(f"--start {args.start} with --days {args.days}: {exc}")
    if args.to_csv is not None and args.to_csv.exists() and not args.to_csv.is_dir():
        parser.error(f"--to-csv {args.to_csv} is not a directory")

    cities = None
    if args.cities is not None:
        cities = [c.strip() for c in args.cities.split(",") if c.strip()]
        unknown = sorted(set(cities) - set(gen.CITY_NAMES))
        if unknown or not cities:
            parser.error(
                f"unknown city {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(gen.CITY_NAMES)}"
            )

    try:
        return _run(args, cities, gen)
    except KeyboardInterrupt:
        done = (
            "the files already written are complete; no partial file is left"
            if args.to_csv is not None
            else "nothing was loaded (the transaction was rolled back)"
        )
        print(f"generate_weather.py: interrupted: {done}", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, cities: list[str] | None, gen) -> int:
    from workbook.platform.db import DatabaseError, database_url, describe

    if args.to_csv is not None:
        try:
            paths = gen.write_csv(args.to_csv, args.days, args.start, args.seed, cities)
        except OSError as exc:
            where = exc.filename or args.to_csv
            print(f"generate_weather.py: error: cannot write {where}: {exc.strerror or exc}",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(f"Wrote {len(paths)} CSV file(s) to {args.to_csv}")
        return 0
    try:
        url = database_url()
        n = gen.load(args.days, args.start, args.seed, cities, url=url, progress=args.days > 60)
    except DatabaseError as exc:
        print(f"generate_weather.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"Loaded {n:,} readings for {args.days} day(s) from {args.start} into "
          f"{gen.SOURCE_TABLE} ({describe(url)}).")  # fmt: skip
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before main() could handle it (while importing)
        print("generate_weather.py: interrupted", file=sys.stderr)
        sys.exit(130)
