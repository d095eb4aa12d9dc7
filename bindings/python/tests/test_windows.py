"""`PolicySet.next_windows` and `PolicySet.preview`: the answers equal the CLI's JSON
(`changegate windows` / `changegate preview --format json`) on the files of tests/windows/ and on
every data-driven case of tests/cases, and the arguments, errors, attributes and threads behave.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

import changegate
from changegate import ChangegateError, InvalidInputError
from conftest import CASES, REPO, case_files, load_yaml
from test_cases import as_text, policy_dir, policy_for

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
WINDOWS = REPO / "tests" / "windows"
CLI_DIR = WINDOWS / "cli"
FORMS = WINDOWS / "forms"
# Friday 4 December 2026, 12:00 in Berlin: the weekend freeze starts at 16:00.
FRIDAY_NOON = "2026-12-04T12:00:00+01:00"


def run_cli(cli: Path, *args: str) -> tuple[int, Any]:
    """Runs the CLI with `--format json` from the repository root: (exit code, JSON)."""
    done = subprocess.run(
        [str(cli), *args, "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), f"the CLI failed ({done.returncode}): {done.stderr}"
    return done.returncode, json.loads(done.stdout)


def cli_error(cli: Path, *args: str) -> str:
    """The CLI's message for invalid input (exit code 2), without `error: --flag: `."""
    done = subprocess.run(
        [str(cli), *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stdout
    first = done.stderr.splitlines()[0]
    return first.split(": ", 2)[2]


def instant(text: str) -> dt.datetime:
    """RFC 3339 text as an aware datetime (Python 3.9 and 3.10 do not read `Z`)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def same_instant_and_offset(value: dt.datetime, text: str) -> None:
    """An attribute shows the same local time and offset as the JSON's text."""
    expected = instant(text)
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()
    assert value.replace(tzinfo=None) == expected.replace(tzinfo=None)


def check_attributes(answer: changegate.NextWindows) -> None:
    """Every attribute of an answer agrees with its `to_dict()`."""
    data = answer.to_dict()
    assert len(answer.windows) == len(data["windows"])
    for window, wd in zip(answer.windows, data["windows"]):
        same_instant_and_offset(window.start, wd["start"])
        same_instant_and_offset(window.end, wd["end"])
        same_instant_and_offset(window.latest_start, wd["latest_start"])
        assert [f.to_dict() for f in window.warnings] == wd.get("warnings", [])
        assert window.to_dict() == wd
        assert window.start <= window.latest_start < window.end
    assert len(answer.blocked) == len(data["blocked"])
    for stretch, bd in zip(answer.blocked, data["blocked"]):
        same_instant_and_offset(stretch.from_, bd["from"])
        same_instant_and_offset(stretch.until, bd["until"])
        assert list(stretch.rules) == bd["rules"]
        assert list(stretch.reasons) == bd["reasons"]
        assert stretch.to_dict() == bd
    start, until = answer.searched
    same_instant_and_offset(start, data["searched"]["from"])
    same_instant_and_offset(until, data["searched"]["until"])
    assert answer.confirmations == data["confirmations"]
    assert answer.confirmation_limit_reached is data["confirmation_limit_reached"]
    assert answer.note == data.get("note")


def check_preview_attributes(preview: changegate.Preview) -> None:
    data = preview.to_dict()
    same_instant_and_offset(preview.from_, data["from"])
    assert preview.from_.utcoffset() == dt.timedelta(0)
    assert len(preview.windows) == len(data["windows"])
    for window, wd in zip(preview.windows, data["windows"]):
        assert (window.environment, window.kind, window.name) == (
            wd["environment"],
            wd["kind"],
            wd["name"],
        )
        assert (window.description, window.timezone) == (wd["description"], wd["timezone"])
        assert window.to_dict() == wd
        assert len(window.occurrences) == len(wd["occurrences"])
        for occ, od in zip(window.occurrences, wd["occurrences"]):
            same_instant_and_offset(occ.start, od["start"])
            same_instant_and_offset(occ.end, od["end"])
            same_instant_and_offset(occ.start_utc, od["start_utc"])
            same_instant_and_offset(occ.end_utc, od["end_utc"])
            assert occ.start == occ.start_utc and occ.end == occ.end_utc
            assert list(occ.dst) == od.get("dst", [])
            assert occ.to_dict() == od


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    return changegate.PolicySet.builtin()


@pytest.fixture(scope="module")
def calendar() -> changegate.Calendar:
    return changegate.Calendar.load(CLI_DIR / "calendar.yaml")


@pytest.fixture(scope="module")
def request_7() -> changegate.ChangeRequest:
    return changegate.ChangeRequest.load(CLI_DIR / "request.yaml")


# --- next_windows equals `changegate windows --format json` --------------------------------

# (request file, calendar file or None, policy dir or None, now, count, horizon): the files of
# tests/windows/ as tests/windows_cli.rs runs them, and a few more counts, horizons and times.
WINDOWS_RUNS: list[tuple[str, str | None, str | None, str, int | None, str | None]] = [
    ("cli/request.yaml", "cli/calendar.yaml", None, FRIDAY_NOON, 2, None),
    ("cli/request.yaml", "cli/calendar.yaml", None, FRIDAY_NOON, 1, None),
    ("cli/request.yaml", "cli/calendar.yaml", None, FRIDAY_NOON, None, None),
    ("cli/request.yaml", "cli/calendar.yaml", None, FRIDAY_NOON, 5, "14d"),
    ("cli/request.yaml", "cli/calendar.yaml", None, "2026-12-04T15:00:30Z", 4, "2w"),
    ("cli/request.yaml", "cli/calendar.yaml", None, "2026-12-18T09:00:00+01:00", 3, "30d"),
    ("cli/request.yaml", "cli/calendar.yaml", None, FRIDAY_NOON, 3, "2d"),
    ("cli/request.yaml", None, None, "2026-03-27T10:00:00+01:00", 3, None),
    ("cli/request.yaml", None, "forms", "2026-01-29T09:00:00+01:00", 4, "60d"),
    ("cli/request.yaml", None, "forms", "2026-12-20T09:00:00+01:00", 3, None),
    ("cli/request.yaml", "cli/calendar.yaml", "forms", FRIDAY_NOON, 3, None),
    ("cli/too-long.yaml", None, None, FRIDAY_NOON, None, None),
    ("cli/too-long.yaml", "cli/calendar.yaml", None, FRIDAY_NOON, 2, "7d"),
]


def windows_run_id(run: tuple[str, str | None, str | None, str, int | None, str | None]) -> str:
    request, calendar, bundle, now, count, horizon = run
    return "-".join(str(x) for x in (request, calendar, bundle, now, count, horizon))


@pytest.mark.parametrize("run", WINDOWS_RUNS, ids=windows_run_id)
def test_next_windows_equals_the_cli_on_tests_windows(
    run: tuple[str, str | None, str | None, str, int | None, str | None], cli: Path
) -> None:
    request_file, calendar_file, bundle, now, count, horizon = run
    args = ["windows", "--request", str(WINDOWS / request_file), "--now", now]
    kwargs: dict[str, Any] = {}
    if calendar_file is not None:
        args += ["--calendar", str(WINDOWS / calendar_file)]
    if bundle is not None:
        args += ["--policy", str(WINDOWS / bundle)]
    if count is not None:
        args += ["--count", str(count)]
        kwargs["count"] = count
    if horizon is not None:
        args += ["--horizon", horizon]
        kwargs["horizon"] = horizon
    code, expected = run_cli(cli, *args)

    policy = (
        changegate.PolicySet.builtin()
        if bundle is None
        else changegate.PolicySet.load(WINDOWS / bundle)
    )
    calendar = None if calendar_file is None else changegate.Calendar.load(WINDOWS / calendar_file)
    request = changegate.ChangeRequest.load(WINDOWS / request_file)
    answer = policy.next_windows(request, calendar=calendar, now=now, **kwargs)
    assert answer.to_dict() == expected
    assert code == (0 if answer.windows else 1)
    check_attributes(answer)

    # The request as text and as a dict, `now` as an aware datetime in another zone: the same.
    text = (WINDOWS / request_file).read_text(encoding="utf-8")
    tokyo = instant(now).astimezone(ZoneInfo("Asia/Tokyo"))
    assert policy.next_windows(text, calendar=calendar, now=tokyo, **kwargs) == answer
    as_dict = request.to_dict()
    assert policy.next_windows(as_dict, calendar=calendar, now=now, **kwargs) == answer


def test_the_documented_cli_example(
    policy: changegate.PolicySet,
    calendar: changegate.Calendar,
    request_7: changegate.ChangeRequest,
) -> None:
    # The answer tests/windows_cli.rs spells out in text, read through the attributes.
    answer = policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON, count=2)
    assert [w.start.isoformat() for w in answer.windows] == [
        "2026-12-04T12:00:00+01:00",
        "2026-12-07T11:00:00+01:00",
    ]
    assert answer.windows[0].end == dt.datetime(2026, 12, 4, 16, 0, tzinfo=BERLIN)
    assert answer.windows[0].latest_start == dt.datetime(2026, 12, 4, 14, 0, tzinfo=BERLIN)
    assert [f.rule for f in answer.windows[0].warnings] == ["preferred_window"]
    assert [b.rules for b in answer.blocked] == [
        ("blackout",),
        ("blackout", "conflict"),
        ("conflict",),
        ("blackout", "conflict"),
        ("blackout",),
    ]
    assert answer.blocked[3].reasons == (
        "blackout `incident-42` (2026-12-07T10:00:00+01:00 - 2026-12-07T11:00:00+01:00)",
        "`search` is busy with `dep-1`",
    )
    assert answer.searched == (
        dt.datetime(2026, 12, 4, 12, 0, tzinfo=BERLIN),
        dt.datetime(2027, 3, 4, 12, 0, tzinfo=BERLIN),
    )
    assert (answer.confirmations, answer.confirmation_limit_reached, answer.note) == (
        2,
        False,
        None,
    )
    assert repr(answer) == (
        "NextWindows(windows=['2026-12-04T12:00:00+01:00', '2026-12-07T11:00:00+01:00'], "
        "blocked=5, confirmations=2, note=None)"
    )
    assert repr(answer.windows[0]) == (
        "AllowedWindow(start='2026-12-04T12:00:00+01:00', end='2026-12-04T16:00:00+01:00', "
        "latest_start='2026-12-04T14:00:00+01:00', warnings=[warn:preferred_window])"
    )
    assert repr(answer.blocked[1]) == (
        "BlockedStretch(from_='2026-12-07T04:00:00+01:00', until='2026-12-07T06:00:00+01:00', "
        "rules=['blackout', 'conflict'])"
    )
    # The times carry the offset of the JSON, as a fixed `datetime.timezone`.
    assert answer.windows[0].start.tzinfo == dt.timezone(dt.timedelta(hours=1))


CASE_FILES = case_files()


def case_id(path: Path) -> str:
    return str(path.relative_to(CASES))


@pytest.mark.parametrize("path", CASE_FILES, ids=case_id)
def test_next_windows_equals_the_cli_on_every_case(
    path: Path, cli: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each case's request, calendar, policy and `now`, with the CLI's defaults (3 windows, 90d).
    monkeypatch.chdir(REPO)
    case = load_yaml(path)
    directory = policy_dir(path, case.get("policy"))
    request_file = tmp_path / "request.json"
    request_file.write_text(as_text(case["request"]), encoding="utf-8")
    args = ["windows", "--request", str(request_file), "--now", str(case["now"])]
    raw_calendar = case.get("calendar")
    calendar = None
    if raw_calendar is not None:
        calendar_file = tmp_path / "calendar.json"
        calendar_file.write_text(as_text(raw_calendar), encoding="utf-8")
        args += ["--calendar", str(calendar_file)]
        calendar = changegate.Calendar.from_text(as_text(raw_calendar))
    if directory is not None:
        args += ["--policy", directory]
    code, expected = run_cli(cli, *args)

    answer = policy_for(directory).next_windows(case["request"], calendar=calendar, now=case["now"])
    assert answer.to_dict() == expected
    assert code == (0 if answer.windows else 1)
    check_attributes(answer)


def test_the_case_folder_gives_windows_and_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    # The comparison above covers both kinds of answer, not only empty ones.
    if not CASE_FILES:
        pytest.skip("tests/cases holds no case yet")
    monkeypatch.chdir(REPO)
    found = set()
    for path in CASE_FILES:
        case = load_yaml(path)
        calendar = case.get("calendar")
        answer = policy_for(policy_dir(path, case.get("policy"))).next_windows(
            case["request"],
            calendar=None if calendar is None else changegate.Calendar.from_text(as_text(calendar)),
            now=case["now"],
        )
        found.add(bool(answer.windows))
    assert found == {True, False}


# --- never allowed, the confirmation limit -------------------------------------------------


def test_never_allowed_is_an_empty_list_with_reasons(policy: changegate.PolicySet) -> None:
    too_long = changegate.ChangeRequest.load(CLI_DIR / "too-long.yaml")
    answer = policy.next_windows(too_long, now=FRIDAY_NOON)
    assert answer.windows == ()
    assert len(answer.blocked) == 1
    (stretch,) = answer.blocked
    assert stretch.rules == ("max_duration",)
    assert stretch.reasons == ("lasts 10h, longer than the 8h allowed in `production`",)
    assert (stretch.from_, stretch.until) == answer.searched
    assert answer.note == (
        "never allowed: max_duration: lasts 10h, longer than the 8h allowed in `production`"
    )
    assert answer.confirmations == 0 and not answer.confirmation_limit_reached
    assert "windows=[]" in repr(answer) and "note='never allowed: " in repr(answer)

    # Other rules that refuse every start: an unknown environment, a missing dependency.
    base = too_long.to_dict()
    unknown = policy.next_windows({**base, "duration": "1h", "environment": "qa"}, now=FRIDAY_NOON)
    assert unknown.windows == () and unknown.blocked[0].rules == ("unknown_environment",)
    assert unknown.note is not None and unknown.note.startswith("never allowed: ")
    missing = policy.next_windows(
        {**base, "duration": "1h", "depends_on": ["dep-404"]}, now=FRIDAY_NOON
    )
    assert missing.windows == () and missing.blocked[0].rules == ("dependency",)
    assert "dep-404" in missing.blocked[0].reasons[0]


def test_nothing_within_a_short_horizon(
    policy: changegate.PolicySet, calendar: changegate.Calendar, request_7: changegate.ChangeRequest
) -> None:
    # Friday 16:00: the freeze until Monday 06:00 covers the whole day searched.
    answer = policy.next_windows(
        request_7, calendar=calendar, now="2026-12-04T16:00:00+01:00", horizon="1d"
    )
    assert answer.windows == ()
    assert answer.note is not None and answer.note.startswith("no start within 1d of ")
    assert {r for b in answer.blocked for r in b.rules} >= {"blackout", "horizon"}


def test_the_confirmation_limit_matches_the_cli(cli: Path, tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(
        "timezone: UTC\nenvironments:\n  production: {}\n", encoding="utf-8"
    )
    # The script reads the start's minute, so each denial holds for one minute only and the
    # search steps minute by minute until the limit.
    (tmp_path / "never.rhai").write_text(
        'fn schedule(request) { if request.start.minute >= 0 { deny("never", "not today"); } }\n',
        encoding="utf-8",
    )
    code, expected = run_cli(
        cli, "windows", "--request", str(CLI_DIR / "request.yaml"), "--policy", str(tmp_path),
        "--now", FRIDAY_NOON, "--horizon", "400d",
    )
    answer = changegate.PolicySet.load(tmp_path).next_windows(
        changegate.ChangeRequest.load(CLI_DIR / "request.yaml"),
        now=FRIDAY_NOON,
        horizon=dt.timedelta(days=400),
    )
    assert answer.to_dict() == expected and code == 1
    assert answer.confirmation_limit_reached is True
    assert answer.confirmations == changegate.MAX_CONFIRMATIONS == 200
    assert answer.blocked[0].rules == ("never",)
    check_attributes(answer)


# --- arguments -----------------------------------------------------------------------------


def test_defaults_and_equivalent_arguments(
    policy: changegate.PolicySet, calendar: changegate.Calendar, request_7: changegate.ChangeRequest
) -> None:
    default = policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON)
    assert len(default.windows) == 3
    spelled = policy.next_windows(
        request_7, calendar=calendar, now=FRIDAY_NOON, count=3, horizon="90d"
    )
    as_timedelta = policy.next_windows(
        request_7, calendar=calendar, now=instant(FRIDAY_NOON), horizon=dt.timedelta(days=90)
    )
    assert default == spelled == as_timedelta
    assert policy.next_windows(
        request_7, calendar=calendar, now=FRIDAY_NOON, horizon="2w"
    ) == policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON, horizon="14d")
    # The request's own start does not matter.
    moved = {**request_7.to_dict(), "start": "2027-06-01T10:00:00+02:00"}
    assert policy.next_windows(moved, calendar=calendar, now=FRIDAY_NOON) == default
    # A count beyond what exists: fewer windows and a note.
    few = policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON, count=5, horizon="7d")
    assert 0 < len(few.windows) < 5
    assert few.note == f"only {len(few.windows)} of 5 windows within 7d"


def invalid(f: Callable[[], object]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        f()
    return info.value


def test_count_and_horizon_are_validated(
    policy: changegate.PolicySet, request_7: changegate.ChangeRequest, cli: Path
) -> None:
    def windows(**kwargs: Any) -> Callable[[], object]:
        return lambda: policy.next_windows(request_7, now=FRIDAY_NOON, **kwargs)

    e = invalid(windows(count=0))
    assert (str(e), e.field) == ("count: must be at least 1", "count")
    e = invalid(windows(count=-2))
    assert str(e) == "count: must not be negative, got -2"
    assert str(invalid(windows(count=True))) == "count: expected an int, got bool"
    assert str(invalid(windows(count="3"))) == "count: expected an int, got str"
    assert str(invalid(windows(count=2.0))) == "count: expected an int, got float"
    assert str(invalid(windows(count=None))) == "count: expected an int, got NoneType"
    assert str(invalid(windows(count=2**70))) == "count: the integer is too large"
    assert str(invalid(windows(count=-(2**70)))) == "count: must not be negative"

    # Text is read as the CLI's --horizon is, with the same message.
    for text in ("soon", "0s", "36601d", "-1d", "", "1d2w"):
        e = invalid(windows(horizon=text))
        assert e.field == "horizon"
        assert str(e) == "horizon: " + cli_error(
            cli, "windows", "--request", str(CLI_DIR / "request.yaml"), f"--horizon={text}"
        )
    assert policy.next_windows(request_7, now=FRIDAY_NOON, horizon="36600d").searched[1].year == 2127
    for delta in (dt.timedelta(0), dt.timedelta(days=-1), dt.timedelta(days=36601)):
        e = invalid(windows(horizon=delta))
        assert e.field == "horizon" and "must be positive and at most 36600 days" in str(e)
    e = invalid(windows(horizon=dt.timedelta(seconds=90.5)))
    assert str(e) == "horizon: a horizon must be a whole number of seconds, got 0:01:30.500000"
    e = invalid(windows(horizon=90))
    assert str(e) == "horizon: expected a timedelta or a duration string such as `90d`, got int"
    e = invalid(windows(horizon=None))
    assert e.field == "horizon"

    # `now`, the request and the calendar as check_schedule reads them.
    e = invalid(lambda: policy.next_windows(request_7, now=dt.datetime(2026, 12, 4, 12)))
    assert e.field == "now" and "naive" in str(e)
    e = invalid(lambda: policy.next_windows({"id": "x"}, now=FRIDAY_NOON))
    assert e.field is not None and e.field.startswith("request")
    e = invalid(lambda: policy.next_windows(request_7, calendar={}, now=FRIDAY_NOON))  # type: ignore[arg-type]
    assert e.field == "calendar"
    with pytest.raises(TypeError):
        policy.next_windows(request_7)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        policy.next_windows(request_7, FRIDAY_NOON)  # type: ignore[call-arg, arg-type]


def test_answers_past_year_9999_are_refused(
    policy: changegate.PolicySet, request_7: changegate.ChangeRequest
) -> None:
    e = invalid(lambda: policy.next_windows(request_7, now="9999-12-01T00:00:00Z"))
    assert e.field == "horizon" and "outside the years 1 to 9999" in str(e)
    e = invalid(lambda: policy.preview(from_="9999-06-01T00:00:00Z"))
    assert e.field == "from_" and "outside the years 1 to 9999" in str(e)
    # Close to the end is fine when the answer stays inside.
    assert policy.next_windows(request_7, now="9999-01-01T00:00:00Z", horizon="30d").windows


def test_random_arguments_raise_only_changegate_errors(
    policy: changegate.PolicySet, request_7: changegate.ChangeRequest
) -> None:
    import random

    rng = random.Random(7)
    values: list[Any] = [
        None, True, 0, 1, -1, 3, 10**6, 2**64, 1.5, "", "3", "1d", "0d", "99999999999w",
        "2026-12-04T12:00:00Z", dt.timedelta(seconds=-1), dt.timedelta(days=1),
        dt.timedelta.max, dt.timedelta(microseconds=1), dt.datetime(2026, 1, 1, tzinfo=UTC),
        dt.datetime.max.replace(tzinfo=UTC), dt.datetime.min.replace(tzinfo=UTC), [], object(),
    ]
    for _ in range(300):
        kwargs = {
            "now": rng.choice(values),
            "count": rng.choice(values),
            "horizon": rng.choice(values),
        }
        try:
            policy.next_windows(request_7, **kwargs)
        except ChangegateError:
            pass
        try:
            policy.preview(from_=rng.choice(values), count=rng.choice(values))
        except ChangegateError:
            pass


# --- preview equals `changegate preview --format json` -------------------------------------

PREVIEW_RUNS: list[tuple[str | None, str, int | None]] = [
    (None, "2026-03-20T00:00:00Z", 3),
    (None, "2026-03-20T00:00:00Z", None),
    (None, "2026-10-20T12:00:00+02:00", 4),
    (None, "2026-11-28T09:00:00Z", 0),
    (None, "2026-12-24T18:30:15-05:00", 1),
    (str(FORMS), "2026-01-01T00:00:00Z", 1),
    (str(FORMS), "2026-01-01T00:00:00Z", 6),
    (str(FORMS), "2026-10-20T00:00:00Z", 3),
    (str(CASES / "bundles" / "lord-howe"), "2026-03-30T00:00:00Z", 4),
    (str(CASES / "bundles" / "new-york"), "2026-03-01T00:00:00Z", 4),
    (str(CASES / "bundles" / "berlin-nights"), "2026-10-20T00:00:00Z", 3),
]


@pytest.mark.parametrize("run", PREVIEW_RUNS, ids=lambda r: "-".join(map(str, r)))
def test_preview_equals_the_cli(run: tuple[str | None, str, int | None], cli: Path) -> None:
    bundle, start, count = run
    if bundle is not None and not Path(bundle).is_dir():
        pytest.skip(f"{bundle} is not in this checkout")
    args = ["preview", "--from", start]
    if bundle is not None:
        args += ["--policy", bundle]
    if count is not None:
        args += ["--count", str(count)]
    code, expected = run_cli(cli, *args)
    assert code == 0
    policy = changegate.PolicySet.builtin() if bundle is None else changegate.PolicySet.load(bundle)
    preview = (
        policy.preview(from_=start) if count is None else policy.preview(from_=start, count=count)
    )
    assert preview.to_dict() == expected
    check_preview_attributes(preview)
    # `from_` as an aware datetime in any zone is the same instant.
    tokyo = instant(start).astimezone(ZoneInfo("Asia/Tokyo"))
    assert policy.preview(from_=tokyo, count=5 if count is None else count) == preview


def test_preview_marks_dst_and_reads_well(policy: changegate.PolicySet) -> None:
    preview = policy.preview(from_=dt.datetime(2026, 3, 20, tzinfo=UTC), count=3)
    weekend = next(w for w in preview.windows if w.name == "weekend-freeze")
    assert (weekend.environment, weekend.kind, weekend.timezone) == (
        "production",
        "blackout",
        "Europe/Berlin",
    )
    assert weekend.description == "Fri 16:00 - Mon 06:00 Europe/Berlin"
    spring, after = weekend.occurrences[1], weekend.occurrences[2]
    assert spring.start.isoformat() == "2026-03-27T16:00:00+01:00"
    assert spring.end.isoformat() == "2026-03-30T06:00:00+02:00"
    assert spring.start_utc == dt.datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    assert spring.dst == ("split",) and after.dst == ("moved",)
    assert weekend.occurrences[0].dst == ()
    assert repr(preview).startswith("Preview(from_='2026-03-20T00:00:00Z', windows=[")
    assert "production:blackout:weekend-freeze" in repr(preview)
    assert repr(weekend) == (
        "WindowPreview(environment='production', kind='blackout', name='weekend-freeze', "
        "description='Fri 16:00 - Mon 06:00 Europe/Berlin', occurrences=3)"
    )
    assert repr(spring) == (
        "OccurrencePreview(start='2026-03-27T16:00:00+01:00', "
        "end='2026-03-30T06:00:00+02:00', dst=['split'])"
    )


def test_preview_arguments(policy: changegate.PolicySet) -> None:
    empty = policy.preview(from_="2026-01-01T00:00:00Z", count=0)
    assert empty.windows and all(w.occurrences == () for w in empty.windows)
    e = invalid(lambda: policy.preview(from_="2026-01-01T00:00:00Z", count=-1))
    assert e.field == "count"
    e = invalid(lambda: policy.preview(from_="2026-01-01T00:00:00"))
    assert e.field == "from_" and "has no UTC offset" in str(e)
    e = invalid(lambda: policy.preview(from_=5))  # type: ignore[arg-type]
    assert str(e) == "from_: expected an aware datetime or RFC 3339 string, got int"
    with pytest.raises(TypeError):
        policy.preview()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        policy.preview("2026-01-01T00:00:00Z")  # type: ignore[call-arg]


# --- objects, module, threads --------------------------------------------------------------


def test_answers_are_immutable_values(
    policy: changegate.PolicySet, calendar: changegate.Calendar, request_7: changegate.ChangeRequest
) -> None:
    answer = policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON)
    preview = policy.preview(from_=FRIDAY_NOON, count=2)
    objects: list[tuple[Any, str]] = [
        (answer, "windows"),
        (answer, "note"),
        (answer.windows[0], "start"),
        (answer.blocked[0], "from_"),
        (preview, "windows"),
        (preview.windows[0], "name"),
        (preview.windows[0].occurrences[0], "start"),
    ]
    for obj, name in objects:
        with pytest.raises(AttributeError):
            setattr(obj, name, None)
        with pytest.raises(AttributeError):
            obj.something_new = 1
        with pytest.raises(TypeError):
            hash(obj)
    answer.to_dict()["windows"].clear()
    assert len(answer.windows) == 3
    assert answer == policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON)
    assert answer != policy.next_windows(request_7, calendar=calendar, now=FRIDAY_NOON, count=2)
    assert isinstance(answer.windows, tuple) and isinstance(answer.blocked, tuple)


def test_module_exports() -> None:
    for name in (
        "NextWindows",
        "AllowedWindow",
        "BlockedStretch",
        "Preview",
        "WindowPreview",
        "OccurrencePreview",
        "MAX_CONFIRMATIONS",
    ):
        assert name in changegate.__all__
        assert getattr(changegate, name) is getattr(changegate._changegate, name)
    assert changegate.NextWindows.__module__ == "changegate"
    with pytest.raises(TypeError):
        changegate.NextWindows()


def test_threads_share_one_policy_calendar_and_request(
    policy: changegate.PolicySet, calendar: changegate.Calendar, request_7: changegate.ChangeRequest
) -> None:
    nows = [
        (dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC) + dt.timedelta(hours=7 * i)).isoformat()
        for i in range(24)
    ]
    expected = [
        policy.next_windows(request_7, calendar=calendar, now=n, count=2).to_dict() for n in nows
    ]
    previews = [policy.preview(from_=n, count=2).to_dict() for n in nows]

    def work(n: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            policy.next_windows(request_7, calendar=calendar, now=n, count=2).to_dict(),
            policy.preview(from_=n, count=2).to_dict(),
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, nows * 4))
    assert [r[0] for r in results] == expected * 4
    assert [r[1] for r in results] == previews * 4


def test_the_gil_is_released_while_searching() -> None:
    # A script that works a while and denies every start: the search runs its full
    # MAX_CONFIRMATIONS checks inside Rust. If the GIL were held, this thread would stall.
    slow = changegate.PolicySet.from_files(
        {
            "policy.yaml": "timezone: UTC\nenvironments:\n  production: {}\n",
            "slow.rhai": "fn schedule(request) {\n  let n = 0;\n  for i in 0..20000 { n += i; }\n"
            '  if request.start.minute >= 0 { deny("slow", "always denied, slowly"); }\n}\n',
        }
    )
    request = changegate.ChangeRequest.load(CLI_DIR / "request.yaml")

    def search() -> changegate.NextWindows:
        return slow.next_windows(request, now=FRIDAY_NOON, horizon="400d")

    started = time.perf_counter()
    answer = search()
    elapsed = time.perf_counter() - started
    assert answer.confirmation_limit_reached
    if elapsed < 0.05:
        pytest.skip(f"the search took only {elapsed:.3f}s, too short to measure")
    done = threading.Event()

    def work() -> None:
        search()
        done.set()

    worker = threading.Thread(target=work)
    longest_stall = 0.0
    last = time.perf_counter()
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest_stall = max(longest_stall, now - last)
        last = now
    worker.join()
    assert longest_stall < elapsed / 2


# --- to_text equals the CLI's text ---------------------------------------------------------


def run_cli_text(cli: Path, *args: str) -> tuple[int, str]:
    """Runs the CLI with its text output from the repository root: (exit code, stdout)."""
    done = subprocess.run(
        [str(cli), *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), f"the CLI failed ({done.returncode}): {done.stderr}"
    return done.returncode, done.stdout


@pytest.mark.parametrize("run", WINDOWS_RUNS[:4] + WINDOWS_RUNS[-3:], ids=windows_run_id)
def test_next_windows_text_equals_the_cli(
    run: tuple[str, str | None, str | None, str, int | None, str | None], cli: Path
) -> None:
    request_file, calendar_file, bundle, now, count, horizon = run
    args = ["windows", "--request", str(WINDOWS / request_file), "--now", now]
    kwargs: dict[str, Any] = {}
    if calendar_file is not None:
        args += ["--calendar", str(WINDOWS / calendar_file)]
    if bundle is not None:
        args += ["--policy", str(WINDOWS / bundle)]
    if count is not None:
        args += ["--count", str(count)]
        kwargs["count"] = count
    if horizon is not None:
        args += ["--horizon", horizon]
        kwargs["horizon"] = horizon
    _, expected = run_cli_text(cli, *args)
    policy = (
        changegate.PolicySet.builtin()
        if bundle is None
        else changegate.PolicySet.load(WINDOWS / bundle)
    )
    calendar = None if calendar_file is None else changegate.Calendar.load(WINDOWS / calendar_file)
    answer = policy.next_windows(
        changegate.ChangeRequest.load(WINDOWS / request_file), calendar=calendar, now=now, **kwargs
    )
    assert answer.to_text() == expected


@pytest.mark.parametrize("run", PREVIEW_RUNS, ids=lambda r: "-".join(map(str, r)))
def test_preview_text_equals_the_cli(run: tuple[str | None, str, int | None], cli: Path) -> None:
    bundle, start, count = run
    if bundle is not None and not Path(bundle).is_dir():
        pytest.skip(f"{bundle} is not in this checkout")
    args = ["preview", "--from", start]
    if bundle is not None:
        args += ["--policy", bundle]
    if count is not None:
        args += ["--count", str(count)]
    code, expected = run_cli_text(cli, *args)
    assert code == 0
    policy = changegate.PolicySet.builtin() if bundle is None else changegate.PolicySet.load(bundle)
    preview = (
        policy.preview(from_=start) if count is None else policy.preview(from_=start, count=count)
    )
    assert preview.to_text() == expected
