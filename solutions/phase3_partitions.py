"""Phase 3: daily partitions, backfills and incremental work.

This phase is not written yet. It loads (with no assets) so that the UI and the graders work.
"""

import dagster as dg

defs = dg.Definitions()
