"""Phase 4's dbt project as a ``DbtProjectComponent``, on the workbook's database and tuning.

``dagster_dbt.DbtProjectComponent`` is state-backed: by default, under ``dg dev`` it runs
``dbt parse`` in a subprocess and copies the project into ``workbook/defs/.local_defs_state/`` on
every start (about 8 s here); elsewhere it reads that copy, or the project itself if there is
none. This subclass keeps the component's YAML API and changes three things, all through the
component's public methods:

* no copy in development (``prepare_if_dev: false`` in defs.yaml): the project itself is read,
  its manifest refreshed by the workbook's own fingerprinted parse (``workbook.platform.dbt``,
  0 s when nothing changed), so an edit of the SQL shows up on the next reload;
* ``dg utils refresh-defs-state`` (a snapshot, e.g. at image build time) gets the
  ``WORKBOOK_PG_*`` variables profiles.yml reads, and ``dbt`` on PATH;
* runs go through ``WorkbookDbtCliResource`` (the workbook's database, no ``dbt --version``
  subprocess, partial parsing kept per ``--vars``), as Phase 4's ``@dbt_assets`` do.

Keys, partitions and the ``--vars`` window are in defs.yaml.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProjectComponent

from workbook.course.phases import phase_path, selected_target
from workbook.platform import dbt as wdbt
from workbook.platform.dbt_resource import WorkbookDbtCliResource


@dataclass
class WorkbookDbtProjectComponent(DbtProjectComponent):
    """``DbtProjectComponent`` on the workbook's database (see the module docstring)."""

    def build_defs_from_state(
        self, context: dg.ComponentLoadContext, state_path: Path | None
    ) -> dg.Definitions:
        if state_path is None:  # no snapshot: read the project itself, parsed if it changed
            wdbt.prepare(Path(self.dbt_project.project_dir))
        return super().build_defs_from_state(context, state_path)

    def write_state_to_path(self, state_path: Path) -> None:
        # dagster-dbt parses in a `dbt` subprocess: it needs profiles.yml's variables (parsing
        # connects to nothing, so a placeholder does when no database is reachable) and dbt.
        wdbt.apply_env(wdbt.url_or_placeholder())
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        super().write_state_to_path(state_path)

    def execute(self, context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
        tuned = WorkbookDbtCliResource(project_dir=dbt.project_dir, profiles_dir=dbt.profiles_dir)
        yield from super().execute(context, tuned)


@dg.template_var
def daily_partitions() -> dg.DailyPartitionsDefinition:
    """Phase 4's days: 2024-01-01 .. 2024-01-30 (the end date is exclusive)."""
    return dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-31")


@dg.template_var
def dbt_project_dir() -> str:
    """The dbt project of the phase file being served: dbt_project/ for yours, the solutions'
    overlay of it with ``WORKBOOK_DEFS=solutions``."""
    return str(wdbt.project_dir_for(phase_path(4, selected_target())))
