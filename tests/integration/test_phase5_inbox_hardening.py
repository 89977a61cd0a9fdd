"""Phase 5 under attack and accident: the inbox never touches a path outside it, every malformed
delivery ends quarantined with a reason while the sensor ticks on, a failed load commits nothing
and is retried, loaded files leave the inbox, and a same-size same-mtime correction is loaded.

Each test drives the reference sensor with ``build_sensor_context`` and runs its requests with
``materialize`` against the test database, as the daemon would.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from workbook.course.phases import load_phase
from workbook.platform import db, generate, incoming
from workbook.platform.resources import RESOURCES

OP = "phase5__incoming_readings"


@pytest.fixture(scope="module")
def phase():
    return load_phase(5, "solutions")


@pytest.fixture
def inbox(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data" / "incoming"
    folder.mkdir(parents=True)
    monkeypatch.setenv(incoming.INCOMING_ENV, str(folder))
    monkeypatch.setenv(incoming.SETTLE_ENV, "5")
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase5 cascade")
    return folder


def _age(path: Path, seconds: float = 60) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def _deliver(inbox: Path, day: date, name: str | None = None) -> Path:
    (made,) = generate.write_csv(inbox.parent / f"gen-{day}", days=1, start=day, cities=["Oslo"])
    path = inbox / (name or made.name)
    path.write_bytes(made.read_bytes())
    _age(path)
    return path


def _tick(phase, cursor: str | None, instance=None):
    context = dg.build_sensor_context(cursor=cursor, instance=instance)
    data = phase.incoming_file_sensor.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor


def _run(phase, request: dg.RunRequest, instance=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [phase.incoming_readings],
        run_config=request.run_config,
        resources=RESOURCES,
        instance=instance,
        tags={"dagster/run_key": request.run_key} if request.run_key else None,
        raise_on_error=False,
    )


def _rows() -> int:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('phase5.incoming_readings')")
        if cur.fetchone()[0] is None:
            return 0
        cur.execute("select count(*) from phase5.incoming_readings")
        return cur.fetchone()[0]


def _tree(root: Path) -> dict[str, tuple]:
    """Every path under root with what it is and its content: to prove nothing was touched."""
    seen = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            seen[str(p)] = ("link", os.readlink(p))
        elif p.is_dir():
            seen[str(p)] = ("dir",)
        else:
            seen[str(p)] = ("file", p.read_bytes(), p.stat().st_mtime_ns)
    return seen


# --- the inbox never touches a path outside it ------------------------------------------------


def _outside_file(tmp: Path, inbox: Path) -> str:
    victim = tmp / "somewhere" / "config" / "important.conf"
    victim.parent.mkdir(parents=True)
    victim.write_text("secret=1\n")
    return str(victim)


def _outside_weather_file(tmp: Path, inbox: Path) -> str:
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return str(_deliver(elsewhere, date(2024, 2, 1)))


def _outside_dir(tmp: Path, inbox: Path) -> str:
    project = tmp / "somewhere" / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('hi')\n")
    return str(project)


def _relative_escape(tmp: Path, inbox: Path) -> str:
    _outside_file(tmp, inbox)
    return "../../somewhere/config/important.conf"


def _symlink_in_inbox(tmp: Path, inbox: Path) -> str:
    target = Path(_outside_file(tmp, inbox))
    link = inbox / "weather_2024-02-02.csv"
    link.symlink_to(target)
    return str(link)


def _the_inbox_itself(tmp: Path, inbox: Path) -> str:
    return str(inbox)


ESCAPES = {
    "a file outside": _outside_file,
    "a weather file outside": _outside_weather_file,
    "a directory outside": _outside_dir,
    "'..' out of the inbox": lambda tmp, inbox: (
        _outside_file(tmp, inbox),
        str(inbox / ".." / ".." / "somewhere" / "config" / "important.conf"),
    )[1],
    "a relative path escaping": _relative_escape,
    "a symlink in the inbox": _symlink_in_inbox,
    "the inbox itself": _the_inbox_itself,
}


@pytest.mark.parametrize("escape", ESCAPES)
def test_the_loader_refuses_anything_but_a_file_in_the_inbox(phase, inbox, escape):
    config_path = ESCAPES[escape](inbox.parent.parent, inbox)
    before = _tree(inbox.parent.parent)
    result = dg.materialize(
        [phase.incoming_readings],
        run_config={"ops": {OP: {"config": {"path": config_path}}}},
        resources=RESOURCES,
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = str(failure.event_specific_data.error.message)
    assert "Refused" in message and "Nothing was read or moved" in message, message
    assert "secret=1" not in message
    assert _tree(inbox.parent.parent) == before, "a refused run touched the file system"
    assert _rows() == 0


# --- every malformed delivery ends quarantined with a reason; the sensor ticks on -------------


def _bom(inbox: Path) -> Path:
    path = inbox / "weather_2024-02-01.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    return path


def _long_name(inbox: Path) -> Path:
    path = inbox / ("x" * 246 + ".csv")
    path.write_text("a\n")
    return path


def _date_out_of_range(inbox: Path) -> Path:
    text = _deliver(inbox, date(2024, 2, 3)).read_text()
    (inbox / "weather_2024-02-03.csv").unlink()
    path = inbox / "weather_9999-12-31.csv"
    path.write_text(text.replace("2024-02-03", "9999-12-31"))
    return path


BREAKERS = {
    "only a byte-order mark": (_bom, "only a byte-order mark"),
    "a 250-character name": (_long_name, "file name is not weather_YYYY-MM-DD.csv"),
    "the date 9999-12-31": (_date_out_of_range, "out of range"),
}


def _reason_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.reason.txt") if p.is_file()]


@pytest.mark.parametrize("rejected_is", ["a directory", "a file", "a dangling link"])
@pytest.mark.parametrize("breaker", BREAKERS)
def test_every_bad_delivery_ends_quarantined_and_the_sensor_ticks_on(
    phase, inbox, breaker, rejected_is
):
    rejected = inbox.parent / "rejected"
    if rejected_is == "a file":
        rejected.write_text("not a directory\n")
    elif rejected_is == "a dangling link":
        rejected.symlink_to(inbox.parent / "nowhere")
    make, reason = BREAKERS[breaker]
    path = make(inbox)
    _age(path)

    requests, cursor = _tick(phase, None)
    assert [Path(r.run_config["ops"][OP]["config"]["path"]).name for r in requests] == [path.name]
    result = _run(phase, requests[0])
    assert result.success, "a bad delivery must not fail its run"
    assert not path.exists(), f"{breaker}: still in the inbox"
    (note,) = _reason_files(inbox.parent)
    assert reason in note.read_text(), note.read_text()
    expected = rejected if rejected_is == "a directory" else inbox / ".rejected"
    assert note.parent == expected
    assert len(os.fsencode(note.name)) <= 255

    again, cursor = _tick(phase, cursor)  # ticks on, asks for nothing
    assert again == []
    assert _rows() == 0


@pytest.mark.parametrize(
    "cursor", ['{"weather_2024-02-01.csv": "1-2"', "[]", '"x"', "null", '{"a": 1}']
)
def test_a_corrupt_cursor_does_not_stop_the_sensor(phase, inbox, cursor):
    path = _deliver(inbox, date(2024, 2, 1))
    requests, new_cursor = _tick(phase, cursor)
    assert len(requests) == 1 and json.loads(new_cursor) == {
        path.name: requests[0].run_config["ops"][OP]["config"]["fingerprint"]
    }


# --- loaded files leave the inbox; the fingerprint follows the content ------------------------


def test_loaded_files_move_to_processed_and_the_cursor_stays_empty(phase, inbox):
    paths = [_deliver(inbox, date(2024, 3, d)) for d in (1, 2, 3)]
    requests, cursor = _tick(phase, None)
    assert all(_run(phase, r).success for r in requests)
    assert list(inbox.iterdir()) == []
    assert sorted(p.name for p in (inbox.parent / "processed").iterdir()) == [p.name for p in paths]
    again, cursor = _tick(phase, cursor)
    assert again == [] and json.loads(cursor) == {}


def test_a_same_size_same_mtime_correction_is_loaded(phase, inbox):
    path = _deliver(inbox, date(2024, 3, 5))
    text = path.read_text()
    first, cursor = _tick(phase, None)
    assert _run(phase, first[0]).success
    # The vendor fixes one value in place (same length) and copies with cp -p: same size, same
    # modification time, new bytes.
    fixed = text.replace(",C,", ",F,", 1)
    assert fixed != text and len(fixed) == len(text)
    original = (inbox.parent / "processed" / path.name).stat()
    path.write_text(fixed)
    os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns))
    again, cursor = _tick(phase, cursor)
    assert len(again) == 1 and again[0].run_key != first[0].run_key
    lost, _ = _tick(phase, None)  # a lost cursor asks for the same delivery, not another one
    assert [r.run_key for r in lost] == [again[0].run_key]
    assert _run(phase, again[0]).success


def test_the_same_bytes_delivered_again_later_are_loaded_again(phase, inbox):
    """v1, then v2, then v1 again: the last delivery wins, though its bytes were seen before."""
    v1 = _deliver(inbox, date(2024, 3, 6)).read_bytes()
    for content in (v1, v1 + v1.splitlines(keepends=True)[-1], v1):
        (inbox / "weather_2024-03-06.csv").write_bytes(content)
        _age(inbox / "weather_2024-03-06.csv")
        requests, _ = _tick(phase, None)
        assert len(requests) == 1 and _run(phase, requests[0]).success
    assert _rows() == len(v1.splitlines()) - 1


# --- a failed load commits nothing and is retried; hopeless ones end quarantined ---------------


def test_a_failure_mid_load_commits_nothing_and_the_file_is_retried(phase, inbox, monkeypatch):
    instance = dg.DagsterInstance.ephemeral()
    monkeypatch.setattr(phase, "RETRY_AFTER_SECONDS", (0, 0))
    _deliver(inbox, date(2024, 4, 1))
    (request,), cursor = _tick(phase, None, instance)
    assert _run(phase, request, instance).success
    loaded = _rows()
    assert loaded > 0

    new = _deliver(inbox, date(2024, 4, 1))  # the day delivered again
    real = phase.execute_values

    def dies_after_the_delete(cur, *args, **kwargs):
        raise ConnectionError("the server closed the connection mid-insert")

    monkeypatch.setattr(phase, "execute_values", dies_after_the_delete)
    (request,), cursor = _tick(phase, cursor, instance)
    assert not _run(phase, request, instance).success
    assert _rows() == loaded, "the delete of a failed load must be rolled back"
    assert new.exists(), "a file whose load failed stays in the inbox"

    monkeypatch.setattr(phase, "execute_values", real)  # the database is back
    (retry,), cursor = _tick(phase, cursor, instance)
    assert retry.run_key == f"{request.run_key}:retry1"
    assert _run(phase, retry, instance).success and not new.exists()
    assert _rows() == loaded
    assert _tick(phase, cursor, instance)[0] == []


def test_a_delivery_that_fails_every_time_ends_quarantined(phase, inbox, monkeypatch):
    instance = dg.DagsterInstance.ephemeral()
    monkeypatch.setattr(phase, "RETRY_AFTER_SECONDS", (0, 0))
    monkeypatch.setenv(db.ENV_VAR, "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=1")
    path = _deliver(inbox, date(2024, 4, 2))
    cursor, keys = None, []
    for _attempt in range(3):
        (request,), cursor = _tick(phase, cursor, instance)
        keys.append(request.run_key)
        assert not _run(phase, request, instance).success
    assert keys[1:] == [f"{keys[0]}:retry1", f"{keys[0]}:retry2"]
    assert path.exists()
    requests, cursor = _tick(phase, cursor, instance)
    assert requests == [] and not path.exists()
    (note,) = _reason_files(inbox.parent)
    text = note.read_text()
    assert "loading failed 3 times" in text and "Cannot connect" in text and "s3cret" not in text


# --- smaller siblings ---------------------------------------------------------------------------


def test_a_row_past_the_calendar_is_a_bad_row_not_a_crash(inbox):
    path = _deliver(inbox, date(2024, 2, 1))
    header, first, *rest = path.read_text().splitlines()
    at = generate.COLUMNS.index("observed_at")
    fields = first.split(",")
    fields[at] = "9999-12-31T23:30:00-01:00"
    path.write_text("\n".join([header, ",".join(fields), *rest]) + "\n")
    delivery = incoming.read_delivery(path)
    assert delivery.rejected is None and [b.line for b in delivery.bad_rows] == [2]


def test_a_file_changed_after_the_tick_is_not_loaded_and_is_requested_again(phase, inbox):
    path = _deliver(inbox, date(2024, 2, 2))
    (request,), cursor = _tick(phase, None)
    path.write_text(path.read_text().replace(",C,", ",F,", 1))
    _age(path)
    result = _run(phase, request)
    assert result.success and not result.get_asset_materialization_events()
    assert path.exists() and _rows() == 0
    (again,), _ = _tick(phase, cursor)
    assert again.run_key != request.run_key and _run(phase, again).success
    assert not path.exists() and _rows() > 0


def test_a_modification_time_in_the_future_does_not_hold_a_file_back(phase, inbox):
    path = _deliver(inbox, date(2024, 2, 3))
    tomorrow = time.time() + 86_400
    os.utime(path, (tomorrow, tomorrow))
    now = time.time() + float(os.environ[incoming.SETTLE_ENV]) + 1  # as seen a few seconds later
    assert [f.name for f in incoming.ready_files(now=now)] == [path.name]


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_a_wrong_incoming_directory_is_named_in_the_skip_reason(phase, tmp_path, monkeypatch, kind):
    wrong = tmp_path / "wrong"
    if kind == "a file":
        wrong.write_text("x")
    monkeypatch.setenv(incoming.INCOMING_ENV, str(wrong))
    data = phase.incoming_file_sensor.evaluate_tick(dg.build_sensor_context())
    assert not data.run_requests and str(wrong) in data.skip_message
