"""``workbook airflow`` and ``workbook compare``: the optional Airflow comparison's commands.

Registered on the ``workbook`` group by ``workbook/cli.py``; nothing heavy is imported until a
command runs (Airflow itself lives in its own environment, ``.airflow/venv``).
"""

from __future__ import annotations

import click

DAYS = click.IntRange(1, 30)


@click.command()
@click.argument("action", type=click.Choice(["install", "run"]), metavar="ACTION")
@click.option("--days", type=DAYS, default=7, show_default=True,
              help="Dates to run, from 2024-01-01 (1-30).")  # fmt: skip
@click.option("--database", help="Database URL (default: workbook_compare).")
@click.option("--dag", type=click.Choice(["weather_etl", "weather_dbt"]), default="weather_etl",
              show_default=True, help="weather_dbt runs dbt as one Bash task.")  # fmt: skip
def airflow(action, days, database, dag) -> int:
    """The Airflow baseline: install it (own venv), or run its DAG for some dates.

    \b
    Examples:
      uv run workbook airflow install
      uv run workbook airflow run --days 7
      uv run workbook airflow run --dag weather_dbt --days 2
    """
    from workbook.comparison import baseline, compare

    try:
        if action == "install":
            baseline.install()
            return 0
        from workbook.platform import generate

        url = compare.compare_database() if database is None else database
        generate.load(url=url)
        timings = baseline.run_backfill(compare.START, days, url, dag_id=dag)
    except (baseline.BaselineError, compare.CompareError) as exc:
        raise click.ClickException(str(exc)) from None
    runs = ", ".join(f"{t:.2f}" for t in timings["runs_s"])
    print(f"{days} DAG run(s) succeeded in {compare.COMPARE_DB}; seconds per run: {runs}")
    return 0


@click.command()
@click.option("--days", type=DAYS, default=7, show_default=True, help="Days to backfill (1-30).")
def compare(days) -> int:
    """Run Airflow and Dagster on the same days and compare their outputs and costs.

    \b
    Example:
      uv run workbook compare --days 7      writes docs/comparison.md
    """
    from workbook.comparison import baseline
    from workbook.comparison import compare as comparison
    from workbook.platform.paths import shown

    try:
        result = comparison.run(days)
    except (baseline.BaselineError, comparison.CompareError) as exc:
        raise click.ClickException(str(exc)) from None
    print(f"Outputs identical: {'yes' if result['identical'] else 'NO'} ({result['rows']} rows)")
    for name, problem in result["problems"].items():
        if problem:
            print(f"  {name}: {problem}")
    print(f"Report: {shown(comparison.REPORT)} (chart: {shown(comparison.CHART)})")
    return 0 if result["identical"] else 1
