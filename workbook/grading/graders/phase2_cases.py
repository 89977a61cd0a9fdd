"""Phase 2's hand-made readings: each pins one rule of validate_readings down (bounds, order, units)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workbook.platform import rules

T0 = datetime(2024, 1, 5, 0, 0, tzinfo=UTC)


def _reading(hour: int, **changes) -> dict:
    row = {
        "station_id": "XX-0001", "station_name": "Test Field", "city": "Testville",
        "country": "XX", "observed_at": T0 + timedelta(hours=hour), "temperature": 12.34,
        "temperature_unit": "C", "humidity_pct": 60.0, "wind_speed_kmh": 10.0,
        "pressure_hpa": 1010.0, "precipitation_mm": 0.0, "condition": "clear",
    }  # fmt: skip
    row.update(changes)
    return row


# (what the reading is, the reading, the reason it is rejected for, or None if it is valid)
CASES = [
    ("a plain valid reading", {}, None),
    ("70 °F (21.1 °C)", {"temperature": 70.0, "temperature_unit": "F"}, None),
    ("131 °F (55 °C: convert before checking the range)", {"temperature": 131.0, "temperature_unit": "F"}, None),
    ("-130 °F (exactly -90 °C: the bounds are inclusive)", {"temperature": -130.0, "temperature_unit": "F"}, None),
    ("60.0 °C (the upper bound is inclusive)", {"temperature": 60.0}, None),
    ("60.1 °C", {"temperature": 60.1}, "temperature_out_of_range"),
    ("150 °F (65.6 °C)", {"temperature": 150.0, "temperature_unit": "F"}, "temperature_out_of_range"),
    ("-999.9 °C", {"temperature": -999.9}, "temperature_out_of_range"),
    ("a missing temperature", {"temperature": None}, "missing_field"),
    ("a missing temperature_unit", {"temperature_unit": None}, "missing_field"),
    ("a missing pressure_hpa", {"pressure_hpa": None}, "missing_field"),
    ("a missing precipitation_mm", {"precipitation_mm": None}, "missing_field"),
    ("a missing station_id", {"station_id": None}, "missing_field"),
    ("a missing humidity_pct (optional)", {"humidity_pct": None}, None),
    ("a missing wind_speed_kmh (optional)", {"wind_speed_kmh": None}, None),
    ("temperature_unit 'K'", {"temperature_unit": "K"}, "unknown_unit"),
    ("humidity 100.0 %", {"humidity_pct": 100.0}, None),
    ("humidity 100.1 %", {"humidity_pct": 100.1}, "humidity_out_of_range"),
    ("humidity -0.1 %", {"humidity_pct": -0.1}, "humidity_out_of_range"),
    ("wind 400.0 km/h", {"wind_speed_kmh": 400.0}, None),
    ("wind 999 km/h", {"wind_speed_kmh": 999.0}, "wind_out_of_range"),
    ("wind -1 km/h", {"wind_speed_kmh": -1.0}, "wind_out_of_range"),
    ("pressure 870 hPa", {"pressure_hpa": 870.0}, None),
    ("pressure 1085 hPa", {"pressure_hpa": 1085.0}, None),
    ("pressure 0 hPa", {"pressure_hpa": 0.0}, "pressure_out_of_range"),
    ("pressure 1085.1 hPa", {"pressure_hpa": 1085.1}, "pressure_out_of_range"),
    ("precipitation 300 mm", {"precipitation_mm": 300.0}, None),
    ("precipitation -0.1 mm", {"precipitation_mm": -0.1}, "precipitation_out_of_range"),
    ("precipitation 300.1 mm", {"precipitation_mm": 300.1}, "precipitation_out_of_range"),
    ("999.9 °C and 180 % humidity (first rule wins)", {"temperature": 999.9, "humidity_pct": 180.0}, "temperature_out_of_range"),
    ("180 % humidity and 0 hPa (first rule wins)", {"humidity_pct": 180.0, "pressure_hpa": 0.0}, "humidity_out_of_range"),
    ("999 km/h wind and 0 hPa (first rule wins)", {"wind_speed_kmh": 999.0, "pressure_hpa": 0.0}, "wind_out_of_range"),
    ("no temperature and 180 % humidity (first rule wins)", {"temperature": None, "humidity_pct": 180.0}, "missing_field"),
    ("unit 'K' at 999.9 (first rule wins)", {"temperature_unit": "K", "temperature": 999.9}, "unknown_unit"),
    ("-90.0 °C (the lower bound is inclusive)", {"temperature": -90.0}, None),
    ("-90.1 °C", {"temperature": -90.1}, "temperature_out_of_range"),
    ("60.04 °C (check the range before rounding)", {"temperature": 60.04}, "temperature_out_of_range"),
    ("humidity 0.0 % (the lower bound is inclusive)", {"humidity_pct": 0.0}, None),
    ("wind 0.0 km/h (the lower bound is inclusive)", {"wind_speed_kmh": 0.0}, None),
    ("precipitation 0.0 mm (the lower bound is inclusive)", {"precipitation_mm": 0.0}, None),
    ("a missing city", {"city": None}, "missing_field"),
    ("a missing observed_at", {"observed_at": None}, "missing_field"),
    ("temperature_unit 'c' (units are exactly 'C' or 'F')", {"temperature_unit": "c"}, "unknown_unit"),
    ("temperature_unit 'f' (units are exactly 'C' or 'F')", {"temperature_unit": "f", "temperature": 70.0}, "unknown_unit"),
    ("999.9 °C and 999 km/h wind (first rule wins)", {"temperature": 999.9, "wind_speed_kmh": 999.0}, "temperature_out_of_range"),
    ("180 % humidity and 999 km/h wind (first rule wins)", {"humidity_pct": 180.0, "wind_speed_kmh": 999.0}, "humidity_out_of_range"),
    ("0 hPa and -1 mm precipitation (first rule wins)", {"pressure_hpa": 0.0, "precipitation_mm": -1.0}, "pressure_out_of_range"),
    ("999 km/h wind and -1 mm precipitation (first rule wins)", {"wind_speed_kmh": 999.0, "precipitation_mm": -1.0}, "wind_out_of_range"),
    ("150 °F and 0 hPa (first rule wins)", {"temperature": 150.0, "temperature_unit": "F", "pressure_hpa": 0.0}, "temperature_out_of_range"),
]  # fmt: skip


def _why(label: str, reason: str | None) -> str:
    """The rule behind a case, for the message: order, inclusive bounds, exact units."""
    if "first rule wins" in label:
        return " Apply the rules in the docstring's order and stop at the first one a row fails."
    if "units are exactly" in label:
        return " temperature_unit must be exactly 'C' or 'F': do not change its case."
    if reason == "missing_field":
        return f" missing_field covers every field of REQUIRED_FIELDS: {', '.join(rules.REQUIRED_FIELDS)}."
    if reason is None and "optional" in label:
        return " humidity_pct and wind_speed_kmh may be None: skip their range check then."
    if reason is None and "°F" in label:
        return " Convert °F to °C before checking the range."
    if reason is None:
        return " Ranges are inclusive at both ends (low <= value <= high)."
    return ""
