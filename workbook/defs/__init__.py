"""dg's defs folder (``[tool.dg.project] root_module = "workbook"`` makes it ``workbook.defs``).

One folder per component, each with a ``defs.yaml``. ``workbook/definitions.py`` merges them into
the one code location (``dg.load_from_defs_folder``) when ``WORKBOOK_DBT_COMPONENT=1``, isolated
like a phase.
"""
