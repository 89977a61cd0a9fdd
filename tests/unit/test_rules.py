"""workbook/platform/rules.py (used by Phase 3) must agree with Phase 2's reference solution."""

from __future__ import annotations

from workbook.course.phases import load_phase
from workbook.platform import generate, rules


def _rows(days: int = 5) -> list[dict]:
    out = []
    for _, rows in generate.generate(days=days):
        out += [dict(zip(generate.COLUMNS, r)) for r in rows]
    return out


def test_rules_match_the_phase2_solution():
    phase2 = load_phase(2, "solutions")
    rows = _rows()
    valid, rejected = rules.validate_readings(rows)
    assert (valid, rejected) == phase2.validate_readings(rows)
    glitches = sum(n for reason, n in rejected.items() if reason.endswith("_out_of_range"))
    assert rejected["duplicate"] > 0 and glitches > 0  # the sample holds the dirt it tests
    assert rules.aggregate_city_days(valid) == phase2.aggregate_city_days(valid)
