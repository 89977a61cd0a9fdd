"""A database error is explained by its cause: the primary message and DETAIL, not its CONTEXT."""

from __future__ import annotations

from workbook.course import explain

UNIQUE = (
    'UniqueViolation: duplicate key value violates unique constraint "daily_readings_pkey"\n'
    "DETAIL:  Key (observed_at, city)=(2024-01-04 18:00:00-06, Reykjavik) already exists.\n"
    "CONTEXT:  COPY daily_readings, line 278\n"
)
SYNTAX = (
    'SyntaxError: syntax error at or near "fro"\n'
    "LINE 1: select city fro phase3.daily_readings\n"
    "                    ^\n"
)


def test_a_unique_violation_keeps_its_primary_message_and_detail():
    text = explain.explain_error("UniqueViolation", UNIQUE)
    assert 'duplicate key value violates unique constraint "daily_readings_pkey"' in text
    assert (
        "DETAIL: Key (observed_at, city)=(2024-01-04 18:00:00-06, Reykjavik) already exists."
        in text
    )
    assert "COPY daily_readings, line 278" not in text


def test_a_syntax_error_keeps_the_line_it_points_at_not_the_caret():
    text = explain.explain_error("SyntaxError", SYNTAX)
    assert 'syntax error at or near "fro"' in text
    assert "LINE 1: select city fro phase3.daily_readings" in text
    assert not text.rstrip().endswith("^")


def test_other_errors_keep_their_last_line():
    text = explain.explain_error("ValueError", "something\nValueError: the real reason")
    assert text.endswith("ValueError: the real reason")
