"""The UI's waits, driven through the webserver's GraphQL API like a learner's clicks.

A started ``dagster dev`` (or ``dg dev``: ``--ui-command``) on the reference solutions, with the
repository's own ``dagster.yaml`` settings (run queue, executor) but its storage in a temporary
``DAGSTER_HOME`` and its data in the benchmark's database, so nothing of the learner's is
touched. ``python -m benchmarks`` calls these; each returns plain numbers.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import yaml

from workbook.platform.paths import REPO_ROOT

ROOT = REPO_ROOT
LOCATION = "weather_workbook_solutions"
DEFAULT_UI = "dg dev"  # the README's command; "dagster dev -w workspace.solutions.yaml" also works


class UI:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.location = LOCATION  # the loaded one's name, once loaded (dg names its own)

    def query(self, text: str, variables: dict | None = None, timeout: float = 30) -> dict:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        req = urllib.request.Request(self.url, data=body,
                                     headers={"content-type": "application/json"})  # fmt: skip
        out = json.loads(urllib.request.urlopen(req, timeout=timeout).read())
        if out.get("errors"):
            raise RuntimeError(out["errors"])
        return out["data"]

    def loaded(self) -> bool:
        try:
            data = self.query("{ workspaceOrError { ... on Workspace { locationEntries { "
                              "name loadStatus } } } }", timeout=2)  # fmt: skip
        except OSError:
            return False
        entries = data["workspaceOrError"].get("locationEntries") or []
        if len(entries) == 1:
            self.location = entries[0]["name"]
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    def run(self, run_id: str) -> dict:
        q = ("query($id: ID!) { runOrError(runId: $id) { ... on Run { status creationTime "
             "startTime endTime } } }")  # fmt: skip
        return self.query(q, {"id": run_id})["runOrError"]

    def launch(self, assets: list[list[str]]) -> str:
        q = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
                 __typename ... on LaunchRunSuccess { run { runId } }
                 ... on PythonError { message } ... on InvalidSubsetError { message } } }"""
        params = {
            "selector": {"repositoryLocationName": self.location,
                         "repositoryName": "__repository__",
                         "jobName": "__ASSET_JOB", "assetSelection": [{"path": a} for a in assets]},
            "runConfigData": {},
        }  # fmt: skip
        out = self.query(q, {"p": params})["launchRun"]
        if out["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launchRun: {out}")
        return out["run"]["runId"]

    def backfill(self, asset: list[str], partitions: list[str]) -> str:
        q = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
                 __typename ... on LaunchBackfillSuccess { backfillId }
                 ... on PythonError { message } } }"""
        params = {"partitionNames": partitions, "assetSelection": [{"path": asset}]}
        out = self.query(q, {"p": params})["launchPartitionBackfill"]
        if out["__typename"] != "LaunchBackfillSuccess":
            raise RuntimeError(f"launchPartitionBackfill: {out}")
        return out["backfillId"]

    def backfill_runs(self, backfill_id: str) -> list[str]:
        q = """query($t: [ExecutionTag!]) { runsOrError(filter: {tags: $t}) {
                 ... on Runs { results { status } } } }"""
        tags = [{"key": "dagster/backfill", "value": backfill_id}]
        return [r["status"] for r in self.query(q, {"t": tags})["runsOrError"]["results"]]


def _instance_yaml(home: Path) -> None:
    """The repository's dagster.yaml, with every directory moved into ``home``."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config["storage"] = {"sqlite": {"base_dir": str(home / "storage")}}
    config["local_artifact_storage"]["config"]["base_dir"] = str(home)
    config["compute_logs"]["config"]["base_dir"] = str(home / "logs")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


@contextmanager
def started(port: int, ui_command: str = DEFAULT_UI, cwd: Path = ROOT, env: dict | None = None,
            timeout: float = 300):  # fmt: skip
    """``uv run <ui_command>`` until every location is loaded; yields (UI, seconds to ready, pid)."""
    with tempfile.TemporaryDirectory() as home:
        _instance_yaml(Path(home))
        # The reference solutions: `dagster dev -w workspace.solutions.yaml` loads them, `dg dev`
        # reads WORKBOOK_DEFS (it has no workspace flag).
        env = {**os.environ, "DAGSTER_HOME": home, "WORKBOOK_DEFS": "solutions", **(env or {})}
        cmd = ["uv", "run", *shlex.split(ui_command), "-p", str(port)]
        log = Path(home) / "ui.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # fmt: skip
        ui, t = UI(port), time.perf_counter()
        try:
            while not ui.loaded():
                if proc.poll() is not None or time.perf_counter() - t > timeout:
                    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                    raise RuntimeError(f"{ui_command} did not get ready (exit "
                                       f"{proc.returncode}):\n{tail}")  # fmt: skip
                time.sleep(0.2)
            yield ui, time.perf_counter() - t, proc.pid
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # dagster dev maps SIGTERM to SIGINT, unreliably
            proc.wait(30)


def run_to_success(ui: UI, assets: list[list[str]], timeout: float = 300) -> float:
    """Seconds from the launch request to the run's success (the run's own clock at the end)."""
    t = time.time()
    run_id = ui.launch(assets)
    while time.time() - t < timeout:
        run = ui.run(run_id)
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            if run["status"] != "SUCCESS":
                raise RuntimeError(f"run {run_id}: {run['status']}")
            return run["endTime"] - t
        time.sleep(0.1)
    raise RuntimeError(f"run {run_id} did not finish in {timeout} s")


class TreeMemory(threading.Thread):
    """Samples the memory of a process tree (RSS, summed) and the UI's response time."""

    def __init__(self, pid: int, ui: UI | None = None):
        super().__init__(daemon=True)
        self.pid, self.ui = pid, ui
        self.peak_mb = 0.0
        self.worst_response_s = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self.done.wait(0.5):
            total = 0
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_mb = max(self.peak_mb, total / 1024 / 1024)
            if self.ui:
                t = time.perf_counter()
                try:
                    self.ui.loaded()
                except Exception:  # noqa: BLE001 - a slow UI shows up as time, not as a crash
                    pass
                self.worst_response_s = max(self.worst_response_s, time.perf_counter() - t)


def backfill_to_done(ui: UI, pid: int, asset: list[str], partitions: list[str],
                     timeout: float = 900) -> dict:  # fmt: skip
    """Seconds until every run of a backfill is done, its peak memory and the UI's worst answer."""
    sampler = TreeMemory(pid, ui)
    sampler.start()
    t = time.perf_counter()
    backfill_id = ui.backfill(asset, partitions)
    statuses: list[str] = []
    try:
        while time.perf_counter() - t < timeout:
            statuses = ui.backfill_runs(backfill_id)
            finished = [s for s in statuses if s in ("SUCCESS", "FAILURE", "CANCELED")]
            # one run per partition, or a single run for the range (BackfillPolicy.single_run)
            if statuses and len(finished) == len(statuses) and _all_requested(ui, backfill_id):
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - t
    finally:
        sampler.done.set()
        sampler.join()
    return {"seconds": seconds, "runs": len(statuses),
            "succeeded": statuses.count("SUCCESS"), "peak_mb": sampler.peak_mb,
            "worst_response_s": sampler.worst_response_s}  # fmt: skip


def _all_requested(ui: UI, backfill_id: str) -> bool:
    q = "query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }"
    status = ui.query(q, {"id": backfill_id})["partitionBackfillOrError"]["status"]
    return status not in ("REQUESTED", "CANCELING", "FAILING")
