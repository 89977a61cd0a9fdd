"""Shared plumbing for the Dagster weather workbook."""
