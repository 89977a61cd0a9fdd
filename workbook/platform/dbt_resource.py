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
  run re-parses nothing it parsed before; it passes each run's target directory through
  ``cli(target_path=...)``, dagster-dbt's public argument, to know where that state goes.

Two of these replace private methods of ``DbtCliResource``, because dagster-dbt offers no public
setting for them: ``_cli_version`` (the ``dbt --version`` subprocess; a public way to state the
version does not exist) and ``_initialize_dbt_core_adapter`` (built on every ``cli()`` call for
dbt-core; no flag turns it off). Everything else uses public API only.
"""

from __future__ import annotations

import os
import threading
import uuid
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version

from workbook.platform import dbt as wdbt


def _unique_target_path(context) -> Path:  # noqa: ANN001
    """``target/<op>-<run>-<random>``, the layout dagster-dbt itself uses for every invocation
    (relative to the project directory; ``DBT_TARGET_PATH`` moves ``target``)."""
    unique = uuid.uuid4().hex[:7]
    if context is not None:
        unique = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{unique}"
    return Path(os.environ.get("DBT_TARGET_PATH", "target")) / unique


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
        if target_path is None:  # cli()'s public argument: one fresh target directory per run
            target_path = _unique_target_path(context)
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
