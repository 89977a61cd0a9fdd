"""Broken versions of Phase 5, for grading the learner's tests (see workbook/grading/learner_tests.py).

A file sensor with one plausible bug, or the assets with a wrong automation condition (and the
``defs`` that hold them, since ``evaluate_automation_conditions`` reads conditions from there).
"""

import json
import time

import dagster as dg

from workbook.grading.learner_tests import Broken
from workbook.platform.incoming import ready_files

SUBJECT = ("incoming_file_sensor", "run_key_for", "ingest_run_config", "ready_files",
           "incoming_readings", "daily_summary", "daily_rollup", "SUMMARY_AUTOMATION",
           "ROLLUP_AUTOMATION", "defs")  # fmt: skip
THRESHOLD = 6  # of the broken versions below


def sensor(ref: dict, bug: str) -> dg.SensorDefinition:
    """The file sensor with the bug ``bug``."""

    def run_key(file) -> str:
        if bug == "key_by_name":
            return file.name
        if bug == "key_with_time":
            return f"{file.name}:{file.fingerprint}:{time.time_ns()}"
        return f"{file.name}:{file.fingerprint}"

    @dg.sensor(name="phase5_incoming_file_sensor", job=ref["defs"].resolve_job_def(
        "phase5_ingest_job"))  # fmt: skip
    def incoming_file_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        files = ready_files()
        seen = json.loads(context.cursor) if context.cursor and bug != "ignores_cursor" else {}
        requests = []
        for file in files:
            if seen.get(file.name) == file.fingerprint or (
                bug == "skips_by_name" and file.name in seen
            ):
                continue
            config = ref["ingest_run_config"](file)
            if bug == "config_without_fingerprint":
                config = {"ops": {"phase5__incoming_readings": {"config": {"path": file.path}}}}
            requests.append(dg.RunRequest(run_key=run_key(file), run_config=config))
        cursor = json.dumps({f.name: f.fingerprint for f in files}, sort_keys=True)
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return incoming_file_sensor


def conditions(ref: dict, summary: dg.AutomationCondition, rollup: dg.AutomationCondition):
    """The assets (and defs) with these automation conditions."""

    def given(asset: dg.AssetsDefinition, condition) -> dg.AssetsDefinition:
        return asset.map_asset_specs(lambda s: s.replace_attributes(automation_condition=condition))

    names = {"daily_summary": given(ref["daily_summary"], summary),
             "daily_rollup": given(ref["daily_rollup"], rollup),
             "SUMMARY_AUTOMATION": summary, "ROLLUP_AUTOMATION": rollup}  # fmt: skip
    defs = ref["defs"]
    names["defs"] = dg.Definitions(
        assets=[ref["incoming_readings"], names["daily_summary"], names["daily_rollup"]],
        resources=defs.resources,
    )
    return names


def _sensor(bug: str, description: str) -> Broken:
    return Broken(description, lambda ref: {"incoming_file_sensor": sensor(ref, bug)})


EAGER = dg.AutomationCondition.eager()
ON_CRON = dg.AutomationCondition.on_cron("0 6 * * *")

BROKEN = [
    _sensor("ignores_cursor", "a sensor that requests every file on every tick"),
    _sensor("skips_by_name", "a sensor that never requests a file delivered again"),
    _sensor("key_by_name", "a run_key from the file name only (a re-delivery is never run)"),
    _sensor("key_with_time", "a run_key with the time in it (a lost cursor loads a file twice)"),
    _sensor("config_without_fingerprint", "a run_config without the file's fingerprint"),
    Broken("daily_summary on a cron instead of eager", lambda ref: conditions(ref, ON_CRON, ON_CRON)),
    Broken("daily_rollup eager instead of on_cron", lambda ref: conditions(ref, EAGER, EAGER)),
    Broken(
        "daily_rollup at 06:00 whether or not its upstream updated",
        lambda ref: conditions(ref, EAGER, dg.AutomationCondition.cron_tick_passed("0 6 * * *")),
    ),
]  # fmt: skip
