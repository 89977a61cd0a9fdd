"""Phase 4: dbt models as Dagster assets.

This phase is not written yet. It loads (with no assets) so that the UI and the graders work.
"""

import dagster as dg

defs = dg.Definitions()
