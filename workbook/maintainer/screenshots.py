"""The Dagster UI in a real browser: the pages the phase texts send a learner to, screenshotted.

``uv run python -m workbook.maintainer.screenshots`` (maintainers) starts ``dg dev`` on the
reference solutions with a throwaway DAGSTER_HOME, opens every page below in headless Chromium
(Debian's ``chromium``, driven through the DevTools protocol, every network feature off) and
refreshes ``docs/screenshots/``. ``tests/e2e/test_browser.py`` runs the same pages into a temporary
directory, so the test suite never rewrites a tracked file.

Each page names the texts it must show: the UI words the phase texts use ("Materialize all",
Runs > "Backfills", the sensors on the Automation page). A page that does not show them fails.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbook.platform.paths import DOCS, REPO_ROOT

SCREENSHOTS = DOCS / "screenshots"
LOCATION = "weather_workbook"  # [tool.dg.project] code_location_name
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--window-size=1400,800", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]  # fmt: skip
LOCATIONS = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSETS = "{ assetNodes { assetKey { path } groupName } }"


@dataclass(frozen=True)
class Page:
    name: str  # the screenshot's file name, without .png
    path: str  # the URL path on the webserver
    shows: tuple[str, ...]  # texts the page must render


def pages(groups: dict[str, list[str]]) -> list[Page]:
    """Every page a phase text sends the learner to, with what it must show."""
    found = [
        Page(
            f"{group}_asset_graph",
            f"/locations/__repository__@{LOCATION}/asset-groups/{group}",
            (*names, "Materialize all"),
        )  # fmt: skip
        for group, names in sorted(groups.items())
        if group.startswith("phase")
    ]
    # Phase 3: the backfills are on the Runs page, Backfills tab.
    found.append(Page("runs_backfills", "/runs?view=backfills", ("Runs", "Backfills")))
    # Phase 5: tick the sensors' checkboxes, then Actions > Start 2 automations.
    found.append(Page("automation", "/automation", ("phase5_incoming_file_sensor",
                      "phase5_automation_sensor", "Select all", "Actions")))  # fmt: skip
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


def _tail(path: Path, n: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


@contextmanager
def dagster_dev(home: Path, database_url: str | None = None, timeout: float = 240):
    """``dg dev`` on the solutions (WORKBOOK_DEFS=solutions) with DAGSTER_HOME=home; yields its
    port once every code location has loaded. Stops exactly the process group it started."""
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "WORKBOOK_DEFS": "solutions"}
    if database_url:
        env["WORKBOOK_DATABASE_URL"] = database_url
    log_path = home / "dagster_dev.log"
    log = log_path.open("w")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dg")), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: we stop exactly what it started
    )  # fmt: skip
    try:
        entries = None
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                raise RuntimeError("dg dev exited:\n" + _tail(log_path))
            try:
                entries = graphql(port, LOCATIONS)["workspaceOrError"].get("locationEntries")
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (OSError, KeyError, TypeError, ValueError, RuntimeError):
                pass
            time.sleep(1)
        else:
            raise RuntimeError(f"not loaded in {timeout:.0f} s: {entries}\n" + _tail(log_path))
        errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
        if errors:
            raise RuntimeError(f"a code location failed to load: {errors}")
        print(f"dg dev ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
        yield port
    finally:
        _stop_group(proc)
        log.close()


def _stop_group(proc: subprocess.Popen) -> None:
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
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.loads(r.read()) if t["type"] == "page")
        from websockets.sync.client import connect

        self.stack = ExitStack()
        self.ws = self.stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=2**26))
        self.next_id = 0
        self.call("Page.enable")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
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


def shoot(port: int, out: Path, profile: Path) -> dict[str, list[str]]:
    """Open every page, wait until it shows its texts, save ``out/<name>.png``.
    Returns {page name: texts it did not show within 60 s} (empty lists when all is well)."""
    groups: dict[str, list[str]] = {}
    for node in graphql(port, ASSETS)["assetNodes"]:
        groups.setdefault(node["groupName"], []).append(node["assetKey"]["path"][-1])
    graphql(port, "mutation { setNuxSeen }")  # no "join the community" dialog on top
    out.mkdir(parents=True, exist_ok=True)
    browser = Browser(profile)
    missing_by_page: dict[str, list[str]] = {}
    try:
        for page in pages(groups):
            browser.call("Page.navigate", url=f"http://127.0.0.1:{port}{page.path}")
            deadline = time.monotonic() + 60
            missing = list(page.shows)
            while missing and time.monotonic() < deadline:
                time.sleep(0.5)
                text = browser.text()
                missing = [t for t in page.shows if t not in text]
            missing_by_page[page.name] = missing
            time.sleep(1)  # let the graph's layout animation settle before the screenshot
            shot = browser.call("Page.captureScreenshot", format="png")
            (out / f"{page.name}.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()
    return missing_by_page


def main() -> int:
    """Refresh docs/screenshots/ (maintainers; the test suite writes to a temp dir)."""
    with tempfile.TemporaryDirectory(prefix="workbook-screenshots-") as tmp:
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        with dagster_dev(home) as port:
            missing = shoot(port, SCREENSHOTS, Path(tmp) / "chromium-profile")
    for name, texts in missing.items():
        print(f"{name}: {'ok' if not texts else 'MISSING ' + ', '.join(texts)}")
    print(f"screenshots in {SCREENSHOTS.relative_to(REPO_ROOT)}/")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
