"""Phase 5's run-failure alert, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from workbook.course.phases import load_phase


@pytest.fixture(scope="module")
def phase():
    return load_phase(5, "solutions")


@pytest.fixture
def webhook():
    """A local webhook that records every POST (path, headers, JSON body)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"],
                             "json": json.loads(body)})  # fmt: skip
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/alerts", received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def failure():
    """A real failed run, and the context Dagster gives a run-failure sensor for it."""

    @dg.op
    def load_weather():
        raise ValueError("the weather API answered 503")

    @dg.job(name="phase5_failing_job")
    def failing_job():
        load_weather()

    instance = dg.DagsterInstance.ephemeral()
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success

    def context():
        return dg.build_run_status_sensor_context(
            sensor_name="phase5_run_failure_alert",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
        ).for_run_failure()

    return result.dagster_run, context


def test_alert_posts_json_to_the_webhook(phase, webhook, failure, monkeypatch):
    url, received = webhook
    run, context = failure
    monkeypatch.setenv(phase.WEBHOOK_ENV, url)
    phase.run_failure_alert(context())
    assert len(received) == 1, f"expected one POST to the webhook, got {len(received)}"
    post = received[0]
    assert post["path"] == "/hooks/alerts" and post["type"] == "application/json"
    body = post["json"]
    assert body["run_id"] == run.run_id and body["job_name"] == "phase5_failing_job"
    assert body["failed_steps"] == ["load_weather"]
    assert "phase5_failing_job" in body["text"] and run.run_id[:8] in body["text"]


def test_no_url_only_logs(phase, webhook, failure, monkeypatch, capfd):
    _url, received = webhook
    _run, context = failure
    monkeypatch.delenv(phase.WEBHOOK_ENV, raising=False)
    phase.run_failure_alert(context())
    assert received == []
    assert "set WORKBOOK_ALERT_WEBHOOK_URL to send alerts" in capfd.readouterr().err


def test_unreachable_webhook_does_not_break_the_sensor(phase, failure, monkeypatch, capfd):
    _run, context = failure
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(phase.WEBHOOK_ENV, f"http://127.0.0.1:{port}/")
    phase.run_failure_alert(context())  # logs the error, raises nothing
    assert "Could not send the alert" in capfd.readouterr().err
    monkeypatch.setenv(phase.WEBHOOK_ENV, "file:///etc/passwd")
    phase.run_failure_alert(context())  # refused: only http(s) URLs are posted to
    with pytest.raises(ValueError, match="http"):
        phase.post_alert("file:///etc/passwd", {})
