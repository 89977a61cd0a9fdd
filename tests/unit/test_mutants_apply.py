"""Every wrong (and correct) variant of the self-test still applies to today's solutions.

A variant is the solution with one text replaced; when a lesson's text moves, its `old` must
still occur exactly once, or the self-test cannot build it. Checked here in milliseconds, before
the self-test spends minutes grading.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from workbook.platform.paths import SOLUTIONS

VARIANTS = tomllib.loads((Path(__file__).parents[1] / "selftest" / "mutants.toml").read_text())
CASES = [(kind, v) for kind in ("mutant", "variant") for v in VARIANTS.get(kind, [])]


@pytest.mark.parametrize(("kind", "variant"), CASES, ids=[v["name"] for _, v in CASES])
def test_old_text_occurs_exactly_once(kind, variant):
    text = (SOLUTIONS / variant["file"]).read_text()
    assert text.count(variant["old"]) == 1, f"{kind} {variant['name']!r}: 'old' must occur once"
