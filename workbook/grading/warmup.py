"""Dagster's one-off costs in a grading process: paid once, and before the learner waits.

* Every ``DagsterInstance.ephemeral()`` (each ``dg.materialize`` without an instance makes one)
  stamps its in-memory storages with alembic, and alembic reads its ~90 migration scripts from
  disk again for every stamp: 0.08 s of CPU per instance. The scripts do not change while a
  process runs, so the grading process reads them once (``cache_migration_scripts``).
* The first run in a process imports about 500 modules Dagster loads lazily (storage,
  sqlalchemy, alembic, the executor): 1.5 s of CPU. The watch worker pays that with a throwaway
  run of a trivial asset before the learner's first save (``warm_up``).
"""

from __future__ import annotations

_cached = False


def cache_migration_scripts() -> None:
    """Read each alembic script directory once per process (idempotent)."""
    global _cached
    if _cached:
        return
    from alembic.script import ScriptDirectory

    load = ScriptDirectory.from_config.__func__  # type: ignore[attr-defined]
    loaded: dict[str, ScriptDirectory] = {}

    def from_config(cls, config, *args, **kwargs):
        key = config.get_main_option("script_location")
        if args or kwargs or key is None:
            return load(cls, config, *args, **kwargs)
        if key not in loaded:
            loaded[key] = load(cls, config)
        return loaded[key]

    ScriptDirectory.from_config = classmethod(from_config)  # type: ignore[method-assign]
    _cached = True


def warm_up() -> None:
    """A throwaway run of a trivial asset on an ephemeral instance, and nothing stored."""
    import dagster as dg

    cache_migration_scripts()

    @dg.asset
    def warm_up_asset() -> int:
        return 1

    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize_to_memory([warm_up_asset], instance=instance)
