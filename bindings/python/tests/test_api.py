"""The Python API: inputs in every accepted form, outputs, immutability, batches, threads."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import changegate
from conftest import REPO

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def request(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "dep-1",
        "services": ["checkout"],
        "environment": "production",
        "type": "feature",
        "start": dt.datetime(2026, 12, 1, 22, 0, tzinfo=BERLIN),
        "duration": dt.timedelta(hours=2),
        "labels": {"team": "payments", "ticket": "CHG-1"},
    }
    base.update(fields)
    return base


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    return changegate.PolicySet.builtin()


@pytest.fixture(scope="module")
def calendar() -> changegate.Calendar:
    return changegate.Calendar.from_dict(
        {
            "deployments": [
                request(id="dep-10", start=dt.datetime(2026, 12, 1, 23, 0, tzinfo=BERLIN)),
                request(
                    id="dep-11",
                    services=["search"],
                    start=dt.datetime(2026, 12, 1, 21, 0, tzinfo=BERLIN),
                    duration="30m",
                    labels={"team": "web"},
                ),
            ],
            "blackouts": [
                {
                    "name": "incident-review",
                    "from": dt.datetime(2026, 12, 3, 9, tzinfo=BERLIN),
                    "to": "2026-12-03T18:00:00+01:00",
                    "environments": ["production"],
                }
            ],
        }
    )


# --- the policy --------------------------------------------------------------------------


def test_builtin_policy_properties(policy: changegate.PolicySet) -> None:
    assert policy.digest.startswith("sha256:") and len(policy.digest) == 7 + 64
    assert policy.timezone == "Europe/Berlin"
    assert policy.environments == ("development", "production", "staging")
    assert "policies/policy.yaml" in policy.files
    assert repr(policy).startswith("PolicySet(digest='sha256:")
    assert "timezone='Europe/Berlin'" in repr(policy)


def test_load_the_repository_bundle_gives_the_same_decisions(
    policy: changegate.PolicySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    loaded = changegate.PolicySet.load("policies")
    assert loaded.digest == policy.digest
    assert loaded.check_schedule(request(), now=NOW) == policy.check_schedule(request(), now=NOW)
    assert changegate.PolicySet.load(Path("policies")).digest == policy.digest


def test_from_files_builds_a_bundle_in_memory() -> None:
    bundle = changegate.PolicySet.from_files(
        {
            "policy.yaml": "timezone: UTC\nenvironments:\n  production:\n    max_duration: {max: 1h}\n",
            "ticket.rhai": 'fn schedule(request) { if !("ticket" in request.labels) '
            '{ warn("ticket", "no ticket"); } }\n',
        },
        label="mem",
    )
    assert bundle.files == ("mem/policy.yaml", "mem/ticket.rhai")
    assert bundle.timezone == "UTC"
    decision = bundle.check_schedule(request(labels={}), now=NOW)
    assert [(f.rule, f.severity, f.source) for f in decision.findings] == [
        ("max_duration", "deny", "mem/policy.yaml:4"),
        ("ticket", "warn", "mem/ticket.rhai:1"),
    ]


# --- decisions -----------------------------------------------------------------------------


def test_decision_and_findings(policy: changegate.PolicySet, calendar: changegate.Calendar) -> None:
    decision = policy.check_schedule(request(), calendar=calendar, now=NOW)
    assert decision.allowed is False
    assert decision.outcome == "deny"
    assert decision.policy_digest == policy.digest
    assert decision.trace == ()
    rules = [f.rule for f in decision.findings]
    assert "conflict" in rules
    conflict = decision.findings_for("conflict")[0]
    assert conflict.severity == "deny"
    assert conflict.details["deployments"] == ["dep-10"]
    assert conflict.source is not None and conflict.source.startswith("policies/policy.yaml:")
    assert "dep-10" in conflict.message
    assert conflict.to_dict() == decision.to_dict()["findings"][rules.index("conflict")]
    assert decision.findings_for("nothing") == ()
    assert repr(decision).startswith("Decision(outcome='deny', allowed=False, findings=[")
    assert "deny:conflict" in repr(decision)
    assert repr(conflict).startswith("Finding(rule='conflict', severity='deny', message='")


def test_an_allowed_decision(policy: changegate.PolicySet) -> None:
    decision = policy.check_schedule(request(), now=NOW)
    assert (decision.allowed, decision.outcome, decision.findings) == (True, "allow", ())
    assert decision.to_dict() == {
        "schema": 1,
        "check": "schedule",
        "allowed": True,
        "outcome": "allow",
        "findings": [],
        "policy": {"digest": policy.digest, "engine": decision.engine},
    }


def test_to_dict_equals_the_cli_on_the_examples(
    policy: changegate.PolicySet, cli: Path, examples: Path
) -> None:
    for name in ("request.yaml", "request-friday.yaml"):
        if not (examples / name).exists():
            continue
        out = subprocess.run(
            [str(cli), "check", "--request", str(examples / name), "--calendar",
             str(examples / "calendar.yaml"), "--now", "2026-11-28T09:00:00Z", "--format", "json"],
            capture_output=True, text=True, check=False,
        )
        assert out.returncode in (0, 1), out.stderr
        decision = policy.check_schedule(
            changegate.ChangeRequest.load(examples / name),
            calendar=changegate.Calendar.load(examples / "calendar.yaml"),
            now="2026-11-28T09:00:00Z",
        )
        assert decision.to_dict() == json.loads(out.stdout)


def test_the_contract_fields(policy: changegate.PolicySet, calendar: changegate.Calendar) -> None:
    decision = policy.check_schedule(request(), calendar=calendar, now=NOW)
    assert decision.schema == changegate.SCHEMA_VERSION == 1
    assert decision.check == "schedule"
    assert decision.engine == changegate.__version__
    data = decision.to_dict()
    assert list(data) == ["schema", "check", "allowed", "outcome", "findings", "policy"]
    assert data["policy"] == {"digest": decision.policy_digest, "engine": decision.engine}


def test_to_text_equals_the_cli_on_the_examples(
    policy: changegate.PolicySet, cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)  # relative paths, as the CLI is given them
    for name in ("examples/request.yaml", "examples/request-friday.yaml"):
        out = subprocess.run(
            [str(cli), "check", "--request", name, "--calendar", "examples/calendar.yaml",
             "--now", "2026-11-28T09:00:00Z"],
            capture_output=True, text=True, check=False,
        )
        assert out.returncode in (0, 1), out.stderr
        decision = policy.check_schedule(
            changegate.ChangeRequest.load(name),
            calendar=changegate.Calendar.load("examples/calendar.yaml"),
            now="2026-11-28T09:00:00Z",
        )
        assert decision.to_text() == out.stdout


def test_pending_is_not_allowed_and_equals_the_cli(
    cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script records `pending` until the request names who approved it: CLI exit code 3.
    monkeypatch.chdir(REPO)
    bundle_dir = "tests/data/cli/bundle-pending"
    request_file = "tests/data/cli/request-allowed.yaml"
    now = "2026-11-25T09:00:00Z"
    bundle = changegate.PolicySet.load(bundle_dir)
    decision = bundle.check_schedule(changegate.ChangeRequest.load(request_file), now=now)
    assert (decision.outcome, decision.allowed) == ("pending", False)
    assert [(f.rule, f.severity) for f in decision.findings] == [
        ("approval_note", "warn"),
        ("approval", "pending"),
    ]
    assert decision.findings_for("approval")[0].details == {"missing": ["release"]}
    assert repr(decision) == (
        "Decision(outcome='pending', allowed=False, findings=[warn:approval_note, pending:approval])"
    )

    args = [str(cli), "check", "--request", request_file, "--policy", bundle_dir, "--now", now]
    as_json = subprocess.run([*args, "--format", "json"], capture_output=True, text=True, check=False)
    assert as_json.returncode == 3, as_json.stderr
    assert decision.to_dict() == json.loads(as_json.stdout)
    as_text = subprocess.run(args, capture_output=True, text=True, check=False)
    assert as_text.returncode == 3, as_text.stderr
    assert decision.to_text() == as_text.stdout
    assert as_text.stdout.startswith("PENDING dep-2001 ")

    approved = bundle.check_schedule(
        changegate.ChangeRequest.load("tests/data/cli/request-approved.yaml"), now=now
    )
    assert (approved.outcome, approved.allowed) == ("warn", True)


# --- inputs --------------------------------------------------------------------------------

FRIDAY_UTC = dt.datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # 16:30 in Berlin, in the freeze
ZONES = [
    UTC,
    BERLIN,
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    ZoneInfo("Australia/Lord_Howe"),  # +11:00 in summer, a 30 minute DST shift
    dt.timezone(dt.timedelta(hours=-9, minutes=-30)),
]


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_same_instant_in_any_zone_gives_the_same_decision(
    policy: changegate.PolicySet, calendar: changegate.Calendar, zone: dt.tzinfo
) -> None:
    base = policy.check_schedule(
        request(start=FRIDAY_UTC, requested_at=NOW), calendar=calendar, now=NOW
    )
    assert {f.rule for f in base.findings} >= {"blackout", "preferred_window"}
    other = policy.check_schedule(
        request(start=FRIDAY_UTC.astimezone(zone), requested_at=NOW.astimezone(zone)),
        calendar=calendar,
        now=NOW.astimezone(zone),
    )
    assert other.to_dict() == base.to_dict()


def test_datetimes_timedeltas_and_strings_are_the_same_request(
    policy: changegate.PolicySet, calendar: changegate.Calendar
) -> None:
    typed = policy.check_schedule(request(), calendar=calendar, now=NOW)
    text = policy.check_schedule(
        request(start="2026-12-01T22:00:00+01:00", duration="2h"),
        calendar=calendar,
        now="2026-11-20T09:00:00Z",
    )
    with_end = policy.check_schedule(
        request(duration=None, end=dt.datetime(2026, 12, 2, 0, 0, tzinfo=BERLIN)),
        calendar=calendar,
        now=NOW,
    )
    assert typed == text == with_end
    as_json = json.dumps(request(start="2026-12-01T22:00:00+01:00", duration="2h"))
    assert policy.check_schedule(as_json, calendar=calendar, now=NOW) == typed
    assert policy.check_schedule(as_json.encode(), calendar=calendar, now=NOW) == typed
    as_yaml = (
        "id: dep-1\nservices: [checkout]\nenvironment: production\ntype: feature\n"
        "start: 2026-12-01T22:00:00+01:00\nduration: 2h\nlabels: {team: payments, ticket: CHG-1}\n"
    )
    assert policy.check_schedule(as_yaml, calendar=calendar, now=NOW) == typed


def test_offsets_that_are_not_whole_minutes_are_read_as_utc(policy: changegate.PolicySet) -> None:
    odd = dt.timezone(dt.timedelta(hours=1, seconds=30))
    start = dt.datetime(2026, 12, 1, 22, 0, 30, tzinfo=odd)
    assert policy.check_schedule(request(start=start), now=NOW) == policy.check_schedule(
        request(start="2026-12-01T21:00:00Z"), now=NOW
    )


def test_change_request_is_read_once_and_round_trips(policy: changegate.PolicySet) -> None:
    parsed = changegate.ChangeRequest.from_dict(request(depends_on=["dep-0"]))
    assert parsed.id == "dep-1"
    assert parsed.services == ("checkout",)
    assert (parsed.environment, parsed.type) == ("production", "feature")
    as_dict = parsed.to_dict()
    assert as_dict["start"] == "2026-12-01T22:00:00+01:00"
    assert as_dict["duration"] == "2h"
    assert changegate.ChangeRequest.from_dict(as_dict) == parsed
    assert changegate.ChangeRequest.from_text(json.dumps(as_dict)) == parsed
    assert repr(parsed).startswith("ChangeRequest(id='dep-1', services=['checkout']")
    assert policy.check_schedule(parsed, now=NOW) == policy.check_schedule(
        request(depends_on=["dep-0"]), now=NOW
    )


def test_calendar_forms(calendar: changegate.Calendar) -> None:
    assert len(calendar) == 2
    assert "dep-10" in calendar and "dep-99" not in calendar and 5 not in calendar
    assert calendar.deployment_ids == ("dep-10", "dep-11")
    assert calendar.blackout_names == ("incident-review",)
    assert repr(calendar) == "Calendar(deployments=2, blackouts=1)"
    assert len(changegate.Calendar()) == 0
    parsed = changegate.ChangeRequest.from_dict(request(id="dep-10"))
    built = changegate.Calendar(deployments=[parsed, request(id="dep-12")])
    assert built.deployment_ids == ("dep-10", "dep-12")
    text = changegate.Calendar.from_text(
        json.dumps({"deployments": [request(start="2026-12-01T22:00:00Z", duration="1h")]})
    )
    assert text.deployment_ids == ("dep-1",)


# --- immutability --------------------------------------------------------------------------


def test_everything_is_immutable(
    policy: changegate.PolicySet, calendar: changegate.Calendar
) -> None:
    decision = policy.check_schedule(request(), calendar=calendar, now=NOW)
    finding = decision.findings[0]
    objects: list[tuple[Any, str]] = [
        (decision, "allowed"),
        (decision, "outcome"),
        (decision, "findings"),
        (finding, "rule"),
        (finding, "details"),
        (policy, "digest"),
        (calendar, "deployment_ids"),
        (changegate.ChangeRequest.from_dict(request()), "id"),
    ]
    for obj, name in objects:
        with pytest.raises(AttributeError):
            setattr(obj, name, None)
        with pytest.raises(AttributeError):
            obj.something_new = 1
    # Dicts handed out are copies: changing one changes nothing inside.
    finding.details["deployments"] = ["mutated"]
    assert finding.details["deployments"] == ["dep-10"]
    decision.to_dict()["allowed"] = True
    assert decision.allowed is False
    assert isinstance(decision.findings, tuple)
    with pytest.raises(TypeError):
        hash(decision)


# --- batches and threads -------------------------------------------------------------------


def many_requests() -> list[dict[str, Any]]:
    out = []
    for i in range(60):
        start = dt.datetime(2026, 11, 30, 18, 0, tzinfo=BERLIN) + dt.timedelta(hours=3 * i)
        out.append(
            request(
                id=f"req-{i}",
                services=[["checkout"], ["search"], ["payments", "search"]][i % 3],
                environment=["production", "staging", "development", "qa"][i % 4],
                type=["feature", "hotfix", "emergency"][i % 3],
                start=start,
                duration=dt.timedelta(minutes=30 * (1 + i % 20)),
                depends_on=["dep-10"] if i % 5 == 0 else [],
            )
        )
    return out


def test_batch_equals_singles(policy: changegate.PolicySet, calendar: changegate.Calendar) -> None:
    requests = many_requests()
    singles = [policy.check_schedule(r, calendar=calendar, now=NOW) for r in requests]
    assert {d.outcome for d in singles} == {"allow", "warn", "deny"}
    assert policy.check_schedule_many(requests, calendar=calendar, now=NOW) == singles
    assert policy.check_schedule_many(tuple(requests), calendar=calendar, now=NOW) == singles
    assert policy.check_schedule_many(iter(requests), calendar=calendar, now=NOW) == singles
    assert policy.check_schedule_many([], calendar=calendar, now=NOW) == []


def test_threads_share_one_policy_and_calendar(
    policy: changegate.PolicySet, calendar: changegate.Calendar
) -> None:
    requests = many_requests() * 5
    expected = [policy.check_schedule(r, calendar=calendar, now=NOW).to_dict() for r in requests]

    def check(r: dict[str, Any]) -> dict[str, Any]:
        return policy.check_schedule(r, calendar=calendar, now=NOW).to_dict()

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(check, requests)) == expected
        batches = [requests[i : i + 25] for i in range(0, len(requests), 25)]
        results = pool.map(
            lambda b: policy.check_schedule_many(b, calendar=calendar, now=NOW), batches
        )
        assert [d.to_dict() for batch in results for d in batch] == expected


def test_the_gil_is_released_while_checking(
    policy: changegate.PolicySet, calendar: changegate.Calendar
) -> None:
    # Checks that run for a while inside Rust, in a thread, while this thread keeps running
    # Python: if the GIL were held, this thread would stall for the whole run.
    n = 200
    elapsed = policy._check_repeat(request(), calendar, NOW, n)
    while elapsed < 0.4:
        n *= 2
        elapsed = policy._check_repeat(request(), calendar, NOW, n)
    done = threading.Event()

    def work() -> None:
        policy._check_repeat(request(), calendar, NOW, n)
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
