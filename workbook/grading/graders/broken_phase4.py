"""Broken versions of Phase 4, for grading the learner's tests (see workbook/grading/learner_tests.py).

Each is ``derive_alerts`` with one plausible bug, switched on by name in ``alerts``.
"""

from workbook.grading.learner_tests import Broken

SUBJECT = ("derive_alerts", "HEAT_C", "FROST_C", "STORM_KMH")
THRESHOLD = 5  # of the broken versions below
HEAT_C, FROST_C, STORM_KMH = 30.0, 0.0, 40.0


def alerts(rows: list, bug: str) -> list:
    """Heat, frost and storm alerts with the bug ``bug``."""
    heat_column = "min_temperature_c" if bug == "heat_from_min" else "max_temperature_c"
    rules = [
        ("heat", heat_column, HEAT_C, 1),
        ("frost", "min_temperature_c", FROST_C, -1),
        ("storm", "max_wind_speed_kmh", STORM_KMH if bug != "storm_at_50" else 50.0, 1),
    ]
    out = []
    for row in rows:
        for alert, column, threshold, sign in rules:
            value = row[column]
            if value is None and bug != "null_alerts":
                continue
            value = threshold if value is None else value
            margin = (value - threshold) * sign  # >= 0: crossed
            if margin > 0 or (margin == 0 and bug != f"strict_{alert}"):
                out.append({"city": row["city"], "observed_date": row["observed_date"],
                            "alert": alert, "value": float(value), "threshold": threshold})  # fmt: skip
                if bug == "one_alert_per_row":
                    break
    return out


def _broken(bug: str, description: str) -> Broken:
    return Broken(description, lambda ref: {"derive_alerts": lambda rows: alerts(rows, bug)})


BROKEN = [
    _broken("strict_heat", "a heat alert only above 30 °C, not at 30 °C"),
    _broken("strict_frost", "a frost alert only below 0 °C, not at 0 °C"),
    _broken("heat_from_min", "a heat alert read from min_temperature_c"),
    _broken("storm_at_50", "a storm alert from 50 km/h instead of 40"),
    _broken("null_alerts", "a missing value that raises an alert"),
    _broken("one_alert_per_row", "at most one alert per row"),
]


# Broken versions of the mart's SQL, for the learner's dbt unit tests: (description, old, new).
SQL_THRESHOLD = 3
BROKEN_SQL = [
    ("a summary that counts duplicate deliveries", "    select distinct\n", "    select\n"),
    ("a summary that does not round the mean", "round(avg(temperature_c), 2)", "avg(temperature_c)"),
    ("a summary that also reads the next day's midnight",
     """observed_at < '{{ var("max_date") }}'""", """observed_at <= '{{ var("max_date") }}'"""),
    ("a summary with the mean wind instead of the strongest",
     "max(wind_speed_kmh)", "avg(wind_speed_kmh)"),
]  # fmt: skip
