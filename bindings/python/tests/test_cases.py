"""The data-driven cases of tests/cases/**/*.yaml, through Python and through the CLI.

A `check: approvals` case runs `changegate approvals` and `PolicySet.check_approvals`, a
`check: readiness` case `changegate evaluate` and `PolicySet.evaluate`, each with every piece of
evidence the case gives (approvals, directory, risk level, validation, history, calendar).
A `check: gates` or `check: rollback` case runs `changegate gates`/`rollback` and
`PolicySet.check_gates`/`check_rollback` with the case's measurements, baseline, events and
rollbacks. A `check: risk` case runs `changegate risk` and `PolicySet.assess_risk`; a schedule case with
`validation` or `history` passes them to `changegate check` and `PolicySet.check_schedule`,
so that the risk level drives the schedule rules on both faces.

For every case, the decision Python returns must equal the CLI's `--format json` output exactly
(so the two faces cannot drift), whichever way the input is given (a dict of strings, a dict of
aware datetimes, JSON text, a parsed ChangeRequest, a batch), and must have the outcome and
findings the case expects.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import changegate
from conftest import CASES, REPO, case_files, load_yaml

CASE_FILES = case_files()
_POLICIES: dict[str | None, changegate.PolicySet] = {}


def case_id(path: Path) -> str:
    return str(path.relative_to(CASES))


def policy_dir(case_path: Path, rel: str | None) -> str | None:
    """The bundle directory relative to the repository, normalized like the Rust runner does
    (so finding sources read `tests/cases/bundles/x/y.rhai:3` on every face)."""
    if rel is None:
        return None
    return os.path.normpath(os.path.relpath(case_path.parent / rel, REPO))


def policy_for(directory: str | None) -> changegate.PolicySet:
    if directory not in _POLICIES:
        _POLICIES[directory] = (
            changegate.PolicySet.builtin()
            if directory is None
            else changegate.PolicySet.load(directory)
        )
    return _POLICIES[directory]


def as_text(value: Any) -> str:
    """A request or calendar as text: a string is taken as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def aware(text: Any) -> Any:
    """RFC 3339 text as an aware datetime (left as is if this Python cannot read it)."""
    if not isinstance(text, str):
        return text
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return text
    return value if value.utcoffset() is not None else text


def with_datetimes(request: dict[str, Any]) -> dict[str, Any]:
    out = dict(request)
    for key in ("start", "end", "requested_at"):
        if key in out:
            out[key] = aware(out[key])
    return out


def calendar_with_datetimes(calendar: dict[str, Any]) -> dict[str, Any]:
    out = dict(calendar)
    if isinstance(out.get("deployments"), list):
        out["deployments"] = [
            with_datetimes(d) if isinstance(d, dict) else d for d in out["deployments"]
        ]
    if isinstance(out.get("blackouts"), list):
        out["blackouts"] = [
            {k: aware(v) if k in ("from", "to") else v for k, v in b.items()}
            if isinstance(b, dict)
            else b
            for b in out["blackouts"]
        ]
    return out


def check_of(case: dict[str, Any]) -> str:
    return str(case.get("check", "schedule"))


def is_risk(case: dict[str, Any]) -> bool:
    return check_of(case) == "risk"


# The CLI command of each question.
COMMANDS = {
    "schedule": "check",
    "risk": "risk",
    "approvals": "approvals",
    "readiness": "evaluate",
    "gates": "gates",
    "rollback": "rollback",
}
# The telemetry keys of a gates or rollback case, with their CLI flags.
TELEMETRY = ("measurements", "baseline", "events", "rollbacks")


def is_telemetry(case: dict[str, Any]) -> bool:
    return check_of(case) in ("gates", "rollback")


def run_cli(cli: Path, tmp: Path, case: dict[str, Any], directory: str | None) -> dict[str, Any]:
    request_file = tmp / "request.json"
    request_file.write_text(as_text(case["request"]), encoding="utf-8")
    check = check_of(case)
    flag = "--deployment" if is_telemetry(case) else "--request"
    args = [str(cli), COMMANDS[check], flag, str(request_file), "--now", str(case["now"])]
    args += ["--format", "json"]
    if is_telemetry(case):
        for key in TELEMETRY:
            value = case.get(key)
            if value is None and key != "measurements":
                continue
            telemetry_file = tmp / f"{key}.json"
            telemetry_file.write_text(as_text([] if value is None else value), encoding="utf-8")
            args += [f"--{key}", str(telemetry_file)]
    if case.get("calendar") is not None and check in ("schedule", "readiness"):
        calendar_file = tmp / "calendar.json"
        calendar_file.write_text(as_text(case["calendar"]), encoding="utf-8")
        args += ["--calendar", str(calendar_file)]
    for key in ("validation", "history", "approvals", "directory"):
        if case.get(key) is not None:
            evidence_file = tmp / f"{key}.json"
            evidence_file.write_text(as_text(case[key]), encoding="utf-8")
            args += [f"--{key}", str(evidence_file)]
    if case.get("risk_level") is not None:
        args += ["--risk-level", str(case["risk_level"])]
    if directory is not None:
        args += ["--policy", directory]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1, 3), f"the CLI failed ({done.returncode}): {done.stderr}"
    out: dict[str, Any] = json.loads(done.stdout)
    pending = out["outcome"] == "pending"
    assert done.returncode == (0 if out["allowed"] else 3 if pending else 1)
    return out


def check_expect(expect: dict[str, Any], decision: changegate.Decision) -> None:
    """The outcome, rules and trace of the case's `expect` block. Its finer points (details,
    messages, sources) are the Rust runner's (tests/cases.rs) to check: this decision equals the
    CLI's, which comes from the same core, so checking them again here would only duplicate that
    runner's reading of the format."""
    assert decision.outcome == expect["outcome"]
    assert decision.allowed == (expect["outcome"] in ("allow", "warn"))
    wanted = [(f["rule"], f["severity"]) for f in expect.get("findings") or []]
    assert [(f.rule, f.severity) for f in decision.findings] == wanted
    if expect.get("trace") is not None:
        assert list(decision.trace) == expect["trace"]
    risk = expect.get("risk")
    if risk is not None:
        assert decision.check == "risk"
        actual = decision.to_dict()["details"]["risk"]
        for key in ("score", "level", "missing"):
            if key in risk:
                assert actual[key] == risk[key], key
        if "factors" in risk:
            assert {f["name"]: f["points"] for f in actual["factors"]} == risk["factors"]
        if "override" in risk:
            assert actual["override"]["name"] == risk["override"]
    approvals = expect.get("approvals")
    if approvals is not None:
        got = decision.to_dict()["details"]["approvals"]
        for key in ("state", "deadline", "expires_at"):
            if key in approvals:
                assert got.get(key) == approvals[key], key
        if "rules" in approvals:
            assert {r["name"]: r["status"] for r in got["rules"]} == approvals["rules"]
        if "used" in approvals:
            assert [u["by"] for u in got["used"]] == approvals["used"]
        if "ignored" in approvals:
            assert {i["by"]: i["reason"] for i in got["ignored"]} == approvals["ignored"]


def validation_with_datetimes(validation: Any) -> Any:
    if not isinstance(validation, list):
        return validation
    return [
        {k: aware(v) if k == "at" else v for k, v in r.items()} if isinstance(r, dict) else r
        for r in validation
    ]


def history_with_datetimes(history: Any) -> Any:
    if not isinstance(history, dict) or not isinstance(history.get("changes"), list):
        return history
    changes = []
    for c in history["changes"]:
        if isinstance(c, dict):
            c = with_datetimes(c)
            if isinstance(c.get("incidents"), list):
                c["incidents"] = [
                    {k: aware(v) if k == "at" else v for k, v in i.items()}
                    if isinstance(i, dict)
                    else i
                    for i in c["incidents"]
                ]
        changes.append(c)
    return {**history, "changes": changes}


def approvals_with_datetimes(approvals: Any) -> Any:
    if not isinstance(approvals, list):
        return approvals
    return [
        {k: aware(v) if k == "at" else v for k, v in a.items()} if isinstance(a, dict) else a
        for a in approvals
    ]


def check_approvals_case(
    policy: changegate.PolicySet,
    case: dict[str, Any],
    calendar: changegate.Calendar | None,
    expected: dict[str, Any],
) -> None:
    """An approvals or readiness case: the same decision as the CLI's, with the evidence as
    the case gives it, as text, and with aware datetimes."""
    request, now, check = case["request"], case["now"], check_of(case)

    def decide(approvals: Any, directory: Any, when: Any = now) -> changegate.Decision:
        common: dict[str, Any] = {
            "approvals": approvals,
            "directory": directory,
            "validation": case.get("validation"),
            "history": case.get("history"),
            "risk_level": case.get("risk_level"),
            "now": when,
        }
        if check == "approvals":
            return policy.check_approvals(request, **common)
        return policy.evaluate(request, calendar=calendar, **common)

    raw_approvals, raw_directory = case.get("approvals"), case.get("directory")
    decision = decide(raw_approvals, raw_directory)
    assert decision.to_dict() == expected
    assert decision.check == check
    check_expect(case["expect"], decision)
    as_texts = decide(
        None if raw_approvals is None else as_text(raw_approvals),
        None if raw_directory is None else as_text(raw_directory),
    )
    assert as_texts == decision
    typed = decide(approvals_with_datetimes(raw_approvals), raw_directory, aware(now))
    assert typed.to_dict() == expected


def test_approvals_cases_are_read() -> None:
    cases = [p for p in CASE_FILES if check_of(load_yaml(p)) in ("approvals", "readiness")]
    assert len(cases) >= 25


def test_risk_cases_are_read() -> None:
    risk_cases = [p for p in CASE_FILES if is_risk(load_yaml(p))]
    assert len(risk_cases) >= 40


def test_the_case_folder_is_not_empty() -> None:
    if not CASE_FILES:
        pytest.skip("tests/cases holds no case yet")
    assert len(CASE_FILES) >= 50


@pytest.mark.parametrize("path", CASE_FILES, ids=case_id)
def test_case(path: Path, cli: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    case = load_yaml(path)
    directory = policy_dir(path, case.get("policy"))
    policy = policy_for(directory)
    expected = run_cli(cli, tmp_path, case, directory)

    request, raw_calendar, now = case["request"], case.get("calendar"), case["now"]
    if raw_calendar is None:
        calendar = None
    elif isinstance(raw_calendar, str):
        calendar = changegate.Calendar.from_text(raw_calendar)
    else:
        calendar = changegate.Calendar.from_dict(raw_calendar)

    if check_of(case) in ("approvals", "readiness"):
        check_approvals_case(policy, case, calendar, expected)
        return
    if is_telemetry(case):
        check_telemetry_case(policy, case, expected)
        return

    raw_validation, raw_history = case.get("validation"), case.get("history")
    if is_risk(case) or raw_validation is not None or raw_history is not None:
        check_with_evidence(policy, case, calendar, expected)
        return

    # The request as the case gives it (a dict of plain values, or text).
    decision = policy.check_schedule(request, calendar=calendar, now=now)
    assert decision.to_dict() == expected
    check_expect(case["expect"], decision)

    # As JSON text, as a parsed ChangeRequest, and in a batch: the same decision.
    text = as_text(request)
    assert policy.check_schedule(text, calendar=calendar, now=now) == decision
    parsed = changegate.ChangeRequest.from_text(text)
    assert policy.check_schedule(parsed, calendar=calendar, now=now) == decision
    batch = policy.check_schedule_many([request, text, parsed], calendar=calendar, now=now)
    assert batch == [decision, decision, decision]

    # With aware datetimes instead of RFC 3339 text, in the request, calendar and `now`.
    if isinstance(request, dict):
        typed_calendar = (
            changegate.Calendar.from_dict(calendar_with_datetimes(raw_calendar))
            if isinstance(raw_calendar, dict)
            else calendar
        )
        typed = policy.check_schedule(
            with_datetimes(request), calendar=typed_calendar, now=aware(now)
        )
        assert typed.to_dict() == expected


def check_with_evidence(
    policy: changegate.PolicySet,
    case: dict[str, Any],
    calendar: changegate.Calendar | None,
    expected: dict[str, Any],
) -> None:
    """A risk case, or a schedule case with evidence: the same decision as the CLI's, whichever
    way the evidence is given (as the case gives it, as text, as parsed objects, with aware
    datetimes)."""
    request, now = case["request"], case["now"]
    raw_validation, raw_history = case.get("validation"), case.get("history")

    def decide(validation: Any, history: Any, when: Any = now) -> changegate.Decision:
        if is_risk(case):
            return policy.assess_risk(request, validation=validation, history=history, now=when)
        return policy.check_schedule(
            request, calendar=calendar, now=when, validation=validation, history=history
        )

    decision = decide(raw_validation, raw_history)
    assert decision.to_dict() == expected
    check_expect(case["expect"], decision)
    assert decision.check == ("risk" if is_risk(case) else "schedule")

    as_texts = decide(
        None if raw_validation is None else as_text(raw_validation),
        None if raw_history is None else as_text(raw_history),
    )
    assert as_texts == decision
    parsed = decide(
        None
        if raw_validation is None
        else changegate.ValidationResults.from_text(as_text(raw_validation)),
        None if raw_history is None else changegate.History.from_text(as_text(raw_history)),
    )
    assert parsed == decision
    typed = decide(
        changegate.ValidationResults(validation_with_datetimes(raw_validation))
        if isinstance(raw_validation, list)
        else raw_validation,
        changegate.History.from_dict(history_with_datetimes(raw_history))
        if isinstance(raw_history, dict)
        else raw_history,
        aware(now),
    )
    assert typed.to_dict() == expected


def telemetry_with_datetimes(items: Any) -> Any:
    """Measurements, events or rollbacks with `at` as aware datetimes, and NaN as a float."""
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict):
            item = {k: aware(v) if k == "at" else v for k, v in item.items()}
            if isinstance(item.get("value"), str) and item["value"].lower() == "nan":
                item["value"] = float("nan")
        out.append(item)
    return out


def check_telemetry_case(
    policy: changegate.PolicySet, case: dict[str, Any], expected: dict[str, Any]
) -> None:
    """A gates or rollback case: the same decision as the CLI's, with the telemetry as the case
    gives it (dicts), as text, and with aware datetimes (and NaN as a float)."""
    request, now, check = case["request"], case["now"], check_of(case)
    decide = policy.check_gates if check == "gates" else policy.check_rollback

    def run(convert: Any, when: Any = now) -> changegate.Decision:
        raw = {key: case.get(key) for key in TELEMETRY}
        given = {key: None if v is None else convert(v) for key, v in raw.items()}
        measurements = given.pop("measurements")
        return decide(request, [] if measurements is None else measurements, when, **given)

    decision = run(lambda v: v)
    assert decision.to_dict() == expected
    assert decision.check == check
    check_expect(case["expect"], decision)
    assert run(as_text) == decision
    typed = run(telemetry_with_datetimes, aware(now))
    assert typed.to_dict() == expected


def test_gates_and_rollback_cases_are_read() -> None:
    cases = [p for p in CASE_FILES if is_telemetry(load_yaml(p))]
    if not cases:
        pytest.skip("tests/cases holds no gates or rollback case yet")
    checks = {check_of(load_yaml(p)) for p in cases}
    assert checks == {"gates", "rollback"}
