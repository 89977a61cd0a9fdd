"""The Airflow baseline: the weather ETL written task-first, for comparison with the Dagster phases."""
