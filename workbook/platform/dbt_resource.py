"""``DbtCliResource`` for the workbook: same API, the workbook's database, and less waiting.

It behaves exactly like ``dagster_dbt.DbtCliResource`` (``dbt.cli([...], context=context)``), and
in addition:

* connects dbt to the workbook's database: it sets the ``WORKBOOK_PG_*`` variables that
  ``dbt_project/profiles.yml`` reads (``workbook.platform.dbt.env``) before every dbt command;
* skips the ``dbt --version`` subprocess dagster-dbt starts once per resource (about 2-4 s here):
  dbt-core is installed in this environment, so its version is read in-process;
* skips the in-process dbt adapter dagster-dbt builds for optional metadata (row counts, column
  schemas) that the workbook does not fetch;
* keeps dbt's partial-parse state across runs per ``--vars`` value (see ``workbook.platform.dbt``), so a
  run re-parses nothing it parsed before.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version

from workbook.platform import dbt as wdbt


class WorkbookDbtCliResource(DbtCliResource):
    """A ``DbtCliResource`` tuned for the workbook (see the module docstring)."""

    def __init__(self, project_dir, dbt_executable: str | None = None, **kwargs):  # noqa: ANN001
        super().__init__(project_dir, dbt_executable=dbt_executable or wdbt.executable(), **kwargs)

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001 - dagster-dbt's private hook
        # dagster-dbt only needs this adapter for fetch_row_counts()/fetch_column_metadata().
        return None

    def cli(self, args, *, context=None, target_path=None, **kwargs):  # noqa: ANN001
        wdbt.apply_env()
        dbt_vars = wdbt.vars_arg(list(args))
        if target_path is None:
            target_path = self._get_unique_target_path(context=context)
        absolute = Path(target_path)
        if not absolute.is_absolute():
            absolute = Path(self.project_dir) / absolute
        wdbt.restore_partial_parse(absolute, dbt_vars)
        invocation = super().cli(args, context=context, target_path=target_path, **kwargs)

        def save_when_done() -> None:
            if invocation.process.wait() == 0:
                wdbt.save_partial_parse(absolute, dbt_vars)

        threading.Thread(target=save_when_done, daemon=True).start()
        return invocation
