"""Phase 5: sensors, freshness and declarative automation.

This phase is not written yet. It loads (with no assets) so that the UI and the graders work.
"""

import dagster as dg

defs = dg.Definitions()
