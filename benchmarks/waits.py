"""The learner's waits (issue table): each against its floor and its goal, in one run.

    uv run python -m benchmarks --only waits [--ui-command "dg dev"]

1. ``uv run true`` against ``.venv/bin/python -c pass``.
2. ``workbook check N --solutions`` (no uv) against ``import dagster`` (phase 4: ``import
   dagster_dbt`` + a plain ``dbt build`` of the same models).
3. A re-grade in ``workbook watch``'s warm worker, median over several saves.
4. Phase 1 *Materialize all* from the UI, launch to success, against the same two assets
   materialized in-process.
5. A 30-day backfill of ``phase3/daily_readings`` from the UI (one run per day): time until all
   runs are done, peak memory of the ``dagster dev`` process tree, and the UI's slowest answer
   meanwhile; against the single-run backfill of the same days (``daily_readings_batched``).
6. A fresh clone's first start to UI ready, with uv's package cache warm.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks import ui
from benchmarks.common import PY, ROOT, UV, Figure, timed
from workbook.platform import db

SECTION = "waits"
PHASE1 = [["phase1", "raw_weather_data"], ["phase1", "cleaned_weather_data"]]
IN_PROCESS_PHASE1 = """
import time, dagster as dg
from workbook.course.phases import load_phase
from workbook.platform.resources import RESOURCES
p = load_phase(1, "solutions")
t = time.perf_counter()
dg.materialize([p.raw_weather_data, p.cleaned_weather_data], resources=RESOURCES)
print(time.perf_counter() - t)
"""


def bench(runs: int, ui_command: str = ui.DEFAULT_UI) -> list[Figure]:
    figures = _uv(runs) + _checks(runs)
    dbt_build = next(f.value for f in figures if f.name.startswith("plain `dbt build`"))
    figures += _regrades(max(runs, 5), dbt_build)
    figures += _ui(runs, ui_command)
    figures += _fresh_clone(ui_command)
    return figures


def _uv(runs: int) -> list[Figure]:
    n = runs * 3
    floor = timed([str(ROOT / ".venv" / "bin" / "python"), "-c", "pass"], n)
    value = timed([UV, "run", "true"], n)
    return [Figure(SECTION, "`uv run true`", value, "s", floor, ".venv/bin/python -c pass", n,
                   goal=floor + 0.15)]  # fmt: skip


def _checks(runs: int) -> list[Figure]:
    imp = timed([PY, "-c", "import dagster"], runs)
    imp_dbt = timed([PY, "-c", "import dagster_dbt"], runs)
    figures = []
    for phase in (1, 2, 3, 5, 4):
        value = timed([PY, "-m", "workbook.cli", "check", str(phase), "--solutions"], runs)
        if phase == 4:
            dbt_build = _plain_dbt_build(runs)  # after check 4: the same project, prepared
            figures.append(Figure(SECTION, "plain `dbt build` of the phase 4 models", dbt_build,
                                  "s", runs=runs, note="floor"))  # fmt: skip
            floor, name = imp_dbt + dbt_build, "import dagster_dbt + dbt build"
        else:
            floor, name = imp, "import dagster"
        figures.append(Figure(SECTION, f"`workbook check {phase}` (solution, no uv)", value, "s",
                              floor, name, runs, goal=floor + 1.0))  # fmt: skip
    return figures


def _plain_dbt_build(runs: int) -> float:
    """A plain `dbt build` of the reference dbt project on the seeded test database (the floor).

    Run after `workbook check 4 --solutions`, which prepared the project copy and the landing
    table: the same models, the same one-day window, with dbt's partial parsing warm.
    """
    from workbook.platform import dbt as wdbt
    from workbook.platform.embedded import embedded_server_url

    server = os.environ.get(db.ENV_VAR) or embedded_server_url()
    env = {**os.environ, **wdbt.env(db.with_database(server, "workbook_test"))}
    project = wdbt.project_dir_for(ROOT / "solutions" / "phase4_dbt_assets.py")
    dbt = str(Path(PY).parent / "dbt")
    cmd = [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(project),
           "--vars", '{"min_date": "2024-01-01T00:00:00+00:00", "max_date": "2024-01-02T00:00:00+00:00"}']  # fmt: skip
    return timed(cmd, runs, env=env)


def _exercises_dir(tmp: Path) -> Path:
    """The reference solutions laid out as a learner's exercises directory."""
    for f in (ROOT / "solutions").glob("phase*.py"):
        shutil.copy(f, tmp / f.name)
    shutil.copytree(ROOT / "solutions" / "dbt", tmp / "dbt_project")
    return tmp


def _regrades(saves: int, dbt_build: float, phases=(1, 2, 3, 5, 4)) -> list[Figure]:
    """Median seconds of a re-grade in the warm worker (the debounce of a save comes on top)."""
    from workbook.learner.watch import Worker

    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        where = _exercises_dir(Path(tmp))
        worker = Worker(Path(tmp) / "worker.log")
        try:
            for phase in phases:
                worker.grade(phase, where)  # the first grade of a phase, not timed
                times = []
                for _ in range(saves):
                    (where / f"{_module(phase)}.py").touch()  # a save
                    t = time.perf_counter()
                    answer = worker.grade(phase, where)
                    times.append(time.perf_counter() - t)
                    if answer.get("error") or not all(o["passed"] for o in answer["outcomes"]):
                        raise RuntimeError(f"phase {phase} re-grade: {answer}")
                value = statistics.median(times)
                if phase == 4:
                    figures.append(Figure(SECTION, "re-grade after a save in `workbook watch`, "
                                          "phase 4", value, "s", dbt_build, "plain dbt build",
                                          saves, goal=dbt_build + 0.5))  # fmt: skip
                else:
                    figures.append(Figure(SECTION, "re-grade after a save in `workbook watch`, "
                                          f"phase {phase}", value, "s", runs=saves, goal=0.5,
                                          note="warm worker; + 0.2 s debounce of the save"))  # fmt: skip
        finally:
            worker.close()
    return figures


def _module(phase: int) -> str:
    from workbook.course.phases import PHASES

    return PHASES[phase]


def _bench_env() -> dict[str, str]:
    return {db.ENV_VAR: db.sibling_database("workbook_bench")}


def _ui(runs: int, ui_command: str) -> list[Figure]:
    from workbook.platform import generate

    env = {**os.environ, **_bench_env()}
    generate.load(url=env[db.ENV_VAR])  # the default 30 days (other sections load years)
    in_process = []
    for _ in range(runs):
        out = subprocess.run([PY, "-c", IN_PROCESS_PHASE1], cwd=ROOT, env=env, text=True,
                             capture_output=True, check=True)  # fmt: skip
        in_process.append(float(out.stdout.strip().splitlines()[-1]))
    floor = statistics.median(in_process)
    days = [f"2024-01-{d:02d}" for d in range(1, 31)]  # Phase 3's partitions
    with ui.started(3395, ui_command, env=_bench_env()) as (u, ready, pid):
        launches = [ui.run_to_success(u, PHASE1) for _ in range(runs)]
        single = ui.backfill_to_done(u, pid, ["phase3", "daily_readings_batched"], days)
        per_day = ui.backfill_to_done(u, pid, ["phase3", "daily_readings"], days)
    value = statistics.median(launches)
    note = f"{per_day['succeeded']}/{per_day['runs']} runs succeeded; the UI's slowest answer meanwhile {per_day['worst_response_s']:.1f} s"
    return [
        Figure(SECTION, "the UI on the solutions: ready", ready, "s", runs=1,
               note=ui_command),
        Figure(SECTION, "Phase 1 *Materialize all* from the UI, launch to success", value, "s",
               floor, "the same assets in-process", runs, goal=3 * floor),
        Figure(SECTION, f"{len(days)}-day backfill from the UI, one run per day: all done",
               per_day["seconds"], "s", single["seconds"], "single-run backfill, same days", 1,
               goal=60, note=note),
        Figure(SECTION, f"{len(days)}-day backfill from the UI: peak memory (process tree)",
               per_day["peak_mb"], "MB", single["peak_mb"], "single-run backfill", 1, goal=1536),
    ]  # fmt: skip


def _fresh_clone(ui_command: str) -> list[Figure]:
    """A clone of this commit: the learner's first command until the UI is ready (cache warm).

    The floor is the same clone's install alone (``uv sync``, in a second clone) plus ``import
    dagster`` and building the location in one process, after the first start.
    """
    learner = ui_command.replace(" -w workspace.solutions.yaml", "")  # their first command
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", db.ENV_VAR)}
    with tempfile.TemporaryDirectory() as tmp:
        clone, other = Path(tmp) / "workbook", Path(tmp) / "install-only"
        for where in (clone, other):
            subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(where)],
                           check=True)  # fmt: skip
        t = time.perf_counter()
        try:
            with ui.started(3396, learner, cwd=clone, env=env, timeout=600):
                pass
            value = time.perf_counter() - t
            location = timed([str(clone / ".venv" / "bin" / "python"), "-c",
                              "import workbook.definitions as d; d.build()"], 1, env=env,
                             cwd=clone)  # fmt: skip
        finally:
            subprocess.run([str(clone / ".venv" / "bin" / "workbook"), "db", "stop"], cwd=clone,
                           capture_output=True)  # fmt: skip
        install = timed([UV, "sync", "--locked"], 1, env=env, cwd=other)
    note = "clone, uv install, start; " + (
        "PYTHONDONTWRITEBYTECODE set: bytecode compiled in the background"
        if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode written on first import")  # fmt: skip
    return [Figure(SECTION, "first start of a fresh clone to UI ready (uv cache warm)", value,
                   "s", install + location, "uv sync + import dagster + the location", 1,
                   goal=45, note=note)]  # fmt: skip
