"""The UI in a real browser: `dg dev` serves every phase, and each asset graph renders.

Starts `dg dev` on the reference solutions (WORKBOOK_DEFS=solutions; a free port, its own
DAGSTER_HOME in a temp dir, so the learner's run history in .dagster_home/ is never touched),
waits through GraphQL until every code location has loaded, then opens each phase's asset graph
in headless Chromium (Debian's `chromium`, every network feature off) through the DevTools protocol, asserts that the
phase's asset names are rendered, and saves a screenshot to docs/screenshots/ (the README shows
them). It stops only the processes it started: dagster dev's process group and the browser.

`.ci/run` installs chromium when it is missing; without it this test is skipped, saying why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from workbook.platform.paths import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
LOCATION = "weather_workbook"  # [tool.dg.project] code_location_name
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--window-size=1400,800", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]  # fmt: skip

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="chromium is not installed (.ci/run installs it: apt-get install -y chromium)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


LOCATIONS = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSETS = "{ assetNodes { assetKey { path } groupName } }"


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory, test_database):
    """`dagster dev` on the solutions; yields its port once every location has loaded."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = _free_port()
    # The session's WORKBOOK_DATABASE_URL is the seeded test database: the UI reads that one.
    env = {**os.environ, "DAGSTER_HOME": str(home), "WORKBOOK_DATABASE_URL": test_database,
           "WORKBOOK_DEFS": "solutions"}  # fmt: skip
    log = (home / "dagster_dev.log").open("w")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dg")), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we stop exactly what it started
    )  # fmt: skip
    try:
        entries = None
        while time.monotonic() - started < 240:
            assert proc.poll() is None, "dagster dev exited:\n" + _tail(home / "dagster_dev.log")
            try:
                data = _graphql(port, LOCATIONS)["workspaceOrError"]
                entries = data.get("locationEntries") or []
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        else:
            pytest.fail(
                f"locations not loaded in 240 s: {entries}\n" + _tail(home / "dagster_dev.log")
            )
        errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
        assert not errors, f"a code location failed to load: {errors}"
        print(f"dagster dev ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
        yield port
    finally:
        _stop_group(proc)
        log.close()


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to dagster dev's own process group (it stops its code server and daemon)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)  # a graceful stop can take 15 s; its state is a temp dir anyway
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _tail(path: Path, n: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


class Browser:
    """Headless Chromium driven through the DevTools protocol (one page, one websocket)."""

    def __init__(self, profile: Path):
        self.proc = subprocess.Popen(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert self.proc.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.loads(r.read()) if t["type"] == "page")
        from websockets.sync.client import connect

        self.stack = ExitStack()
        self.ws = self.stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=2**26))
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    def text(self) -> str:
        result = self.call("Runtime.evaluate", expression="document.body.innerText")
        return result["result"].get("value", "")

    def close(self) -> None:
        self.stack.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def test_every_phase_graph_renders_in_a_browser(dagster_ui, tmp_path):
    groups: dict[str, list[str]] = {}
    for node in _graphql(dagster_ui, ASSETS)["assetNodes"]:
        groups.setdefault(node["groupName"], []).append(node["assetKey"]["path"][-1])
    phases = sorted(g for g in groups if g.startswith("phase"))
    assert "phase1" in phases and {"raw_weather_data", "cleaned_weather_data"} <= set(
        groups["phase1"]
    ), groups
    _graphql(dagster_ui, "mutation { setNuxSeen }")  # no "join the community" dialog on top
    browser = Browser(tmp_path / "chromium-profile")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        browser.call("Page.enable")
        for group in phases:
            url = (
                f"http://127.0.0.1:{dagster_ui}/locations/__repository__@{LOCATION}"
                f"/asset-groups/{group}"
            )
            browser.call("Page.navigate", url=url)
            deadline = time.monotonic() + 60
            missing = groups[group]
            while missing and time.monotonic() < deadline:
                time.sleep(0.5)
                text = browser.text()
                missing = [name for name in groups[group] if name not in text]
            assert not missing, (
                f"{group}: {missing} not rendered at {url}:\n{browser.text()[:2000]}"
            )
            time.sleep(1)  # let the graph's layout animation settle before the screenshot
            shot = browser.call("Page.captureScreenshot", format="png")
            (SCREENSHOTS / f"{group}_asset_graph.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()
