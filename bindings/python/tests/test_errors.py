"""Every error path: which exception, its text, and its `file`, `line`, `column`, `field`."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any, Callable

import pytest

import changegate
from changegate import ChangegateError, InvalidInputError, InvalidPolicyError

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def request(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "dep-1",
        "service": "search",
        "environment": "production",
        "type": "feature",
        "start": "2026-12-01T22:00:00+01:00",
        "duration": "2h",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    return changegate.PolicySet.builtin()


def raises(kind: type[ChangegateError], f: Callable[[], object]) -> ChangegateError:
    with pytest.raises(kind) as info:
        f()
    return info.value


def where(e: ChangegateError) -> tuple[Any, ...]:
    return (e.file, e.line, e.column, e.field)


def test_the_exception_classes() -> None:
    assert issubclass(ChangegateError, ValueError)
    assert issubclass(InvalidInputError, ChangegateError)
    assert issubclass(InvalidPolicyError, ChangegateError)
    assert not issubclass(InvalidInputError, InvalidPolicyError)
    assert ChangegateError.__module__ == "changegate"
    # The attributes exist (as None) on an exception raised by anyone.
    assert where(InvalidInputError("x")) == (None, None, None, None)


# --- requests given as dicts --------------------------------------------------------------


def test_wrong_type_names_the_field(policy: changegate.PolicySet) -> None:
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(start=5), now=NOW))
    assert str(e) == "request.start: expected an aware datetime or RFC 3339 string, got int"
    assert where(e) == (None, None, None, "request.start")
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(duration=90), now=NOW))
    assert str(e).startswith("request.duration: expected a timedelta or a duration string")
    assert e.field == "request.duration"


def test_naive_datetimes_are_refused(policy: changegate.PolicySet) -> None:
    naive = dt.datetime(2026, 12, 1, 22, 0)
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(start=naive), now=NOW))
    assert e.field == "request.start"
    assert "naive" in str(e) and "2026-12-01T22:00:00" in str(e)
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(requested_at=naive), now=NOW),
    )
    assert e.field == "request.requested_at"
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(), now=naive))
    assert e.field == "now" and "naive" in str(e)
    # The same in text: a time without an offset.
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(start="2026-12-01T22:00:00"), now=NOW),
    )
    assert e.field == "request.start" and "has no UTC offset" in str(e)
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(), now="2026-11-20T09:00"))
    assert e.field == "now" and "has no UTC offset" in str(e)


def test_now_must_be_a_time(policy: changegate.PolicySet) -> None:
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(), now=5))  # type: ignore[arg-type]
    assert str(e) == "now: expected an aware datetime or RFC 3339 string, got int"
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(), now=dt.date(2026, 1, 1)))  # type: ignore[arg-type]
    assert str(e) == "now: expected an aware datetime or RFC 3339 string, got date"
    with pytest.raises(TypeError):
        policy.check_schedule(request())  # type: ignore[call-arg]


def test_unknown_and_missing_fields(policy: changegate.PolicySet) -> None:
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(strat="x"), now=NOW))
    assert str(e).startswith("request.strat: unknown field `strat`, expected one of `id`")
    assert e.field == "request.strat" and e.file is None
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(id=...), now=NOW))
    assert str(e) == "request.id: missing field `id` in request"
    e = raises(
        InvalidInputError,
        lambda: changegate.Calendar.from_dict({"deployments": [request(strat=1)]}),
    )
    assert str(e).startswith("calendar.deployments[0].strat: unknown field `strat`")
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(services=["a"]), now=NOW),
    )
    assert str(e) == "request.service: give either `services` or `service`, not both"


def test_bad_values(policy: changegate.PolicySet) -> None:
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(duration="2x"), now=NOW))
    assert e.field == "request.duration" and "invalid duration `2x`" in str(e)
    for bad in (dt.timedelta(0), dt.timedelta(seconds=-5), dt.timedelta(seconds=1.5)):
        e = raises(InvalidInputError, lambda: policy.check_schedule(request(duration=bad), now=NOW))
        assert e.field == "request.duration"
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(
            request(duration=None, end="2026-12-01T21:00:00+01:00"), now=NOW
        ),
    )
    assert e.field == "request.end" and "is not after `start`" in str(e)
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(labels={"when": object()}), now=NOW),
    )
    assert e.field == "request.labels.when" and str(e).endswith("got object")
    e = raises(InvalidInputError, lambda: policy.check_schedule(request(labels={1: 2}), now=NOW))
    assert e.field == "request.labels" and "keys must be strings" in str(e)
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(labels={"x": float("nan")}), now=NOW),
    )
    assert e.field == "request.labels.x"
    e = raises(
        InvalidInputError, lambda: policy.check_schedule(request(labels={"n": 10**30}), now=NOW)
    )
    assert e.field == "request.labels.n"


def test_wrong_argument_types(policy: changegate.PolicySet) -> None:
    e = raises(InvalidInputError, lambda: policy.check_schedule(42, now=NOW))  # type: ignore[arg-type]
    assert str(e) == "request: expected a dict, JSON/YAML text or a ChangeRequest, got int"
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(), calendar={"deployments": []}, now=NOW),  # type: ignore[arg-type]
    )
    assert e.field == "calendar" and "Calendar.from_dict" in str(e)
    e = raises(InvalidInputError, lambda: policy.check_schedule_many(request(), now=NOW))
    assert str(e) == "requests: expected a list of requests, got dict"
    e = raises(InvalidInputError, lambda: policy.check_schedule_many(5, now=NOW))  # type: ignore[arg-type]
    assert str(e) == "requests: expected a list of requests, got int"
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule_many([request(), request(start=1)], now=NOW),
    )
    assert e.field == "requests[1].start"
    e = raises(InvalidInputError, lambda: changegate.ChangeRequest.from_dict("id: x"))  # type: ignore[arg-type]
    assert str(e) == "request: expected a dict, got str"


# --- text and files: the core's messages, with line and column -----------------------------


def test_text_errors_carry_line_and_column(policy: changegate.PolicySet) -> None:
    e = raises(InvalidInputError, lambda: changegate.ChangeRequest.from_text("id: x\nstrat: 1\n"))
    assert (e.file, e.line, e.column, e.field) == ("<request>", 2, 1, "strat")
    assert str(e).startswith("<request>:2:1: unknown field `strat`")
    e = raises(
        InvalidInputError,
        lambda: changegate.ChangeRequest.from_text('{"id": 1', origin="req.json"),
    )
    assert e.file == "req.json" and e.line is not None and str(e).startswith("req.json:")
    e = raises(InvalidInputError, lambda: policy.check_schedule("", now=NOW))
    assert str(e) == "<request>: the request is empty"
    e = raises(
        InvalidInputError,
        lambda: changegate.Calendar.from_text("deployments:\n  - id: x\n    strat: 1\n"),
    )
    assert (e.file, e.line, e.column) == ("<calendar>", 3, 5)
    e = raises(InvalidInputError, lambda: policy.check_schedule(b"\xff\xfe", now=NOW))
    assert e.field == "request"


def test_missing_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    e = raises(InvalidInputError, lambda: changegate.Calendar.load(missing))
    assert e.file == str(missing) and "cannot read" in str(e)
    e = raises(InvalidInputError, lambda: changegate.ChangeRequest.load(missing))
    assert e.file == str(missing)


# --- calendars given as dicts --------------------------------------------------------------


def test_calendar_errors_name_the_field() -> None:
    dep = request(id="dep-1")
    e = raises(InvalidInputError, lambda: changegate.Calendar.from_dict({"deployments": [dep, dep]}))
    assert str(e) == "calendar.deployments[1].id: deployment id `dep-1` appears more than once"
    e = raises(
        InvalidInputError,
        lambda: changegate.Calendar.from_dict(
            {"deployments": [dep, request(id="dep-2", start=dt.datetime(2026, 12, 1))]}
        ),
    )
    assert e.field == "calendar.deployments[1].start"
    e = raises(
        InvalidInputError,
        lambda: changegate.Calendar.from_dict(
            {"blackouts": [{"name": "x", "from": 1, "to": "2026-12-01T21:00:00Z"}]}
        ),
    )
    assert e.field == "calendar.blackouts[0].from"
    e = raises(
        InvalidInputError,
        lambda: changegate.Calendar.from_dict(
            {"blackouts": [{"name": "x", "from": NOW, "to": NOW - dt.timedelta(hours=1)}]}
        ),
    )
    assert str(e) == "calendar.blackouts[0].to: blackout `x` ends before it starts"
    e = raises(InvalidInputError, lambda: changegate.Calendar.from_dict({"deployment": []}))
    assert e.field == "calendar.deployment" and "unknown field `deployment`" in str(e)
    e = raises(InvalidInputError, lambda: changegate.Calendar.from_dict({"deployments": {}}))
    assert str(e) == "calendar.deployments: expected a list, got dict"
    e = raises(InvalidInputError, lambda: changegate.Calendar.from_dict([]))  # type: ignore[arg-type]
    assert str(e) == "calendar: expected a dict, got list"
    e = raises(InvalidInputError, lambda: changegate.Calendar(deployments=[5]))  # type: ignore[list-item]
    assert str(e) == "calendar.deployments[0]: expected a dict, got int"


def test_calendar_environments_are_checked_against_the_policy_by_every_method(
    policy: changegate.PolicySet,
) -> None:
    # Built without a policy, a calendar reads; every method that takes it checks it.
    deployments = [request(id=f"dep-{i}", environment="production") for i in range(5)]
    deployments[3]["environment"] = "prod"
    calendar = changegate.Calendar.from_dict({"deployments": deployments})
    r = request(id="dep-new")
    calls: list[Callable[[], object]] = [
        lambda: policy.check_schedule(r, calendar=calendar, now=NOW),
        lambda: policy.check_schedule_many([r], calendar=calendar, now=NOW),
        lambda: policy.next_windows(r, calendar=calendar, now=NOW),
    ]
    for call in calls:
        e = raises(InvalidInputError, call)
        assert e.field == "calendar.deployments[3].environment"
        assert str(e).startswith(
            "calendar.deployments[3].environment: environment `prod` is not in the policy "
            "(did you mean `production`?)"
        ), str(e)
    # The same check, the same words, for a calendar read from text and for blackouts.
    text = (
        "blackouts:\n  - {name: x, from: 2026-12-01T00:00:00Z, to: 2026-12-02T00:00:00Z, "
        "environments: [production, stagng]}\n"
    )
    calendar = changegate.Calendar.from_text(text)
    e = raises(InvalidInputError, lambda: policy.check_schedule(r, calendar=calendar, now=NOW))
    assert e.field == "calendar.blackouts[0].environments[1]"
    assert "did you mean `staging`?" in str(e)
    # Known environments (and none named) pass.
    ok = changegate.Calendar.from_dict(
        {
            "deployments": [request(id="dep-0", service="other")],
            "blackouts": [{"name": "x", "from": NOW, "to": NOW + dt.timedelta(hours=1)}],
        }
    )
    assert policy.check_schedule(r, calendar=ok, now=NOW).allowed
    assert policy.next_windows(r, calendar=ok, now=NOW).windows


# --- policies ------------------------------------------------------------------------------


def bundle(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_bad_policy_directory(tmp_path: Path) -> None:
    e = raises(InvalidPolicyError, lambda: changegate.PolicySet.load(tmp_path / "absent"))
    assert e.file == str(tmp_path / "absent") and "cannot read" in str(e)
    e = raises(InvalidPolicyError, lambda: changegate.PolicySet.load(tmp_path))
    assert "the bundle has no `policy.yaml`" in str(e)


def test_policy_schema_errors(tmp_path: Path) -> None:
    d = bundle(tmp_path, {"policy.yaml": "timezone: Mars/Olympus\n"})
    e = raises(InvalidPolicyError, lambda: changegate.PolicySet.load(d))
    assert where(e) == (str(d / "policy.yaml"), 1, 1, "timezone")
    assert "unknown time zone `Mars/Olympus`" in str(e)
    d = bundle(
        tmp_path,
        {"policy.yaml": "timezone: UTC\nenvironments:\n  production:\n    max_duraton: {max: 1h}\n"},
    )
    e = raises(InvalidPolicyError, lambda: changegate.PolicySet.load(d))
    assert e.file == str(d / "policy.yaml") and e.line == 4 and "max_duraton" in str(e)


def test_script_compile_error(tmp_path: Path) -> None:
    d = bundle(
        tmp_path,
        {"policy.yaml": "timezone: UTC\n", "broken.rhai": "fn schedule(request) {\n  let x = ;\n}\n"},
    )
    e = raises(InvalidPolicyError, lambda: changegate.PolicySet.load(d))
    assert (e.file, e.line, e.column) == (str(d / "broken.rhai"), 2, 11)
    assert "script does not compile" in str(e)
    e = raises(
        InvalidPolicyError,
        lambda: changegate.PolicySet.from_files(
            {"policy.yaml": "timezone: UTC\n", "x.rhai": "fn schedule() {}\n"}, label="mem"
        ),
    )
    assert e.file == "mem/x.rhai" and "must take one parameter" in str(e)


def test_a_failing_script_is_a_finding_not_an_exception(tmp_path: Path) -> None:
    d = bundle(
        tmp_path,
        {
            "policy.yaml": "timezone: UTC\nenvironments:\n  production: {}\n",
            "boom.rhai": 'fn schedule(request) {\n  throw "boom";\n}\n',
            "spin.rhai": "fn schedule(request) {\n  loop { }\n}\n",
        },
    )
    decision = changegate.PolicySet.load(d).check_schedule(request(), now=NOW)
    assert [(f.rule, f.details["script"]) for f in decision.findings] == [
        ("policy_error", f"{d}/boom.rhai"),
        ("policy_error", f"{d}/spin.rhai"),
    ]
    assert decision.findings[0].source == f"{d}/boom.rhai:2"
    assert decision.outcome == "deny"


# --- nothing but ChangegateError escapes ---------------------------------------------------


def random_value(rng: random.Random, depth: int = 0) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: None,
        lambda: rng.choice([True, False]),
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.random() * 1e6,
        lambda: rng.choice(["", "2h", "0s", "-1h", "2026-12-01T22:00:00Z", "x" * 100, "\u0000"]),
        lambda: NOW + dt.timedelta(seconds=rng.randint(-10**8, 10**8)),
        lambda: dt.datetime(2026, 1, 1),
        lambda: dt.timedelta(seconds=rng.randint(-100, 10**6)),
        lambda: object(),
    ]
    if depth < 2:
        choices.append(lambda: [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))])
        choices.append(
            lambda: {rng.choice(["a", "id", "start", "from"]): random_value(rng, depth + 1)}
        )
    return rng.choice(choices)()


def test_random_inputs_raise_only_changegate_errors(policy: changegate.PolicySet) -> None:
    rng = random.Random(4)
    fields = ["id", "service", "services", "environment", "type", "start", "duration", "end",
              "requested_by", "requested_at", "depends_on", "labels"]
    calendar = changegate.Calendar.from_dict({"deployments": [request(id="dep-0")]})
    outcomes = set()
    for _ in range(2000):
        r = request()
        for _ in range(rng.randint(1, 3)):
            r[rng.choice(fields)] = random_value(rng)
        try:
            outcomes.add(policy.check_schedule(r, calendar=calendar, now=NOW).outcome)
        except ChangegateError:
            outcomes.add("error")
        text = "".join(rng.choice("{}[]:,- \n\"'abc12T#&*!|>") for _ in range(rng.randint(0, 40)))
        try:
            policy.check_schedule(text, now=NOW)
        except ChangegateError:
            pass
    assert "error" in outcomes and len(outcomes) > 1
