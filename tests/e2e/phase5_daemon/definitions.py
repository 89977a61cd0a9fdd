"""The code location of the Phase 5 daemon smoke test (tests/e2e/test_phase5_daemon.py), not a lesson.

It serves the reference Phase 5 assets with the two sensors the smoke test needs, RUNNING from the
start (the learner-facing ones default to STOPPED) and evaluated every second instead of every
10-15 s. The file sensor calls the reference sensor itself, so it is that code being tested.
"""

import dagster as dg

from workbook.course.phases import load_phase

p5 = load_phase(5, "solutions")


@dg.sensor(
    name=p5.incoming_file_sensor.name,
    job=p5.ingest_job,
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def incoming_file_sensor(context: dg.SensorEvaluationContext):
    return p5.incoming_file_sensor(context)


automation_sensor = dg.AutomationConditionSensorDefinition(
    p5.automation_sensor.name,
    target=dg.AssetSelection.groups("phase5"),
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[p5.incoming_readings, p5.daily_summary, p5.daily_rollup],
    jobs=[p5.ingest_job],
    sensors=[incoming_file_sensor, automation_sensor],
    resources=p5.RESOURCES,
    executor=dg.in_process_executor,  # one process per run, not one more per step: ~5 s faster
)
