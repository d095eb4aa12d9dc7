"""The approvals question and the readiness answer through Python: `PolicySet.check_approvals`
and `PolicySet.evaluate`, the ways evidence is given, their text, and their errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import changegate
from changegate import InvalidInputError
from conftest import REPO

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DIRECTORY = {
    "people": {
        "rel@example.com": {"roles": ["release"]},
        "eng@example.com": {"roles": ["engineering"]},
        "ops@example.com": {"roles": ["operations"]},
        "req@example.com": {"roles": ["release"]},
    }
}


def request(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "dep-1",
        "service": "search",
        "environment": "production",
        "type": "feature",
        "start": "2026-12-02T22:00:00+01:00",
        "duration": "1h",
        "requested_by": "req@example.com",
    }
    base.update(fields)
    return base


def approval(by: str, minutes_ago: int, **fields: Any) -> dict[str, Any]:
    return {"by": by, "decision": "approve", "at": NOW - dt.timedelta(minutes=minutes_ago), **fields}


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    return changegate.PolicySet.builtin()


def test_a_complete_chain_is_allowed_and_details_list_who_counted(
    policy: changegate.PolicySet,
) -> None:
    approvals = [approval("rel@example.com", 60), approval("eng@example.com", 30)]
    d = policy.check_approvals(
        request(), approvals=approvals, directory=DIRECTORY, risk_level="low", now=NOW
    )
    assert (d.check, d.outcome, d.allowed) == ("approvals", "allow", True)
    details = d.to_dict()["details"]["approvals"]
    assert details["state"] == "satisfied"
    assert [u["by"] for u in details["used"]] == ["rel@example.com", "eng@example.com"]
    assert details["expires_at"] == "2026-12-04T08:00:00Z"


def test_the_risk_level_adds_rules_and_pending_names_the_next_one(
    policy: changegate.PolicySet,
) -> None:
    approvals = [approval("rel@example.com", 60), approval("eng@example.com", 30)]
    d = policy.check_approvals(
        request(), approvals=approvals, directory=DIRECTORY, risk_level="medium", now=NOW
    )
    assert d.outcome == "pending" and not d.allowed
    assert [(f.rule, f.severity) for f in d.findings] == [("approval_required", "pending")]
    assert d.findings[0].details["rule"] == "operations"
    assert d.findings[0].details["eligible"] == ["ops@example.com"]


def test_the_requesters_own_approval_is_listed_as_ignored(policy: changegate.PolicySet) -> None:
    d = policy.check_approvals(
        request(environment="staging"),
        approvals=[approval("req@example.com", 10)],
        directory=DIRECTORY,
        now=NOW,
    )
    assert d.outcome == "pending"
    ignored = d.to_dict()["details"]["approvals"]["ignored"]
    assert [(i["by"], i["reason"]) for i in ignored] == [("req@example.com", "requester")]


def test_approvals_in_the_request_text_and_as_a_list_give_the_same_decision(
    policy: changegate.PolicySet,
) -> None:
    listed = [approval("rel@example.com", 60), approval("eng@example.com", 30)]
    as_list = policy.check_approvals(
        request(), approvals=listed, directory=DIRECTORY, risk_level="low", now=NOW
    )
    in_request = policy.check_approvals(
        request(approvals=[{**a, "at": a["at"].isoformat()} for a in listed]),
        directory=json.dumps(DIRECTORY),
        risk_level="low",
        now=NOW,
    )
    assert as_list == in_request
    assert as_list.to_dict() == in_request.to_dict()


def test_without_a_level_or_evidence_the_risk_is_assessed_high(
    policy: changegate.PolicySet,
) -> None:
    d = policy.check_approvals(request(), directory=DIRECTORY, now=NOW)
    details = d.to_dict()["details"]["approvals"]
    assert (details["risk_level"], details["risk_level_from"]) == ("critical", "assessed")


def test_readiness_combines_the_questions_and_marks_each_finding(
    policy: changegate.PolicySet,
) -> None:
    d = policy.evaluate(
        request(start="2026-12-05T10:00:00+01:00"),
        calendar=changegate.Calendar.from_dict({"deployments": []}),
        approvals=[],
        directory=DIRECTORY,
        risk_level="low",
        now=NOW,
    )
    assert (d.check, d.outcome) == ("readiness", "deny")
    questions = {(f.rule, f.question) for f in d.findings}
    assert ("blackout", "schedule") in questions
    assert ("approval_required", "approvals") in questions
    assert d.to_dict()["details"]["questions"] == {"schedule": "deny", "approvals": "pending"}
    text = d.to_text()
    assert text.startswith("DENY dep-1")
    assert "questions: schedule deny, approvals pending" in text
    assert "blackout (schedule):" in text


def test_the_approvals_text_lists_each_rule(policy: changegate.PolicySet) -> None:
    d = policy.check_approvals(
        request(),
        approvals=[approval("rel@example.com", 60)],
        directory=DIRECTORY,
        risk_level="low",
        now=NOW,
    )
    text = d.to_text()
    assert "\napprovals: pending (risk low, given)" in text
    assert "satisfied  release" in text and "approved by rel@example.com" in text
    assert "pending    engineering" in text


def test_bad_evidence_raises_naming_the_field(policy: changegate.PolicySet) -> None:
    with pytest.raises(InvalidInputError) as err:
        policy.check_approvals(
            request(),
            approvals=[{"by": "rel@example.com", "decision": "approve", "at": "2026-12-01T08:00:00"}],
            now=NOW,
        )
    assert err.value.field == "approvals[0].at"
    with pytest.raises(InvalidInputError) as err:
        policy.check_approvals(request(), risk_level="severe", now=NOW)  # type: ignore[arg-type]
    assert err.value.field == "risk_level"
    with pytest.raises(InvalidInputError) as err:
        policy.check_approvals(request(), directory=["nope"], now=NOW)  # type: ignore[arg-type]
    assert err.value.field == "directory"
    with pytest.raises(InvalidInputError) as err:
        policy.check_approvals(
            request(), directory={"people": {"a@example.com": {"role": ["x"]}}}, now=NOW
        )
    assert "unknown field `role`" in str(err.value)


def test_python_and_the_cli_agree_on_the_example(
    policy: changegate.PolicySet, cli: Path
) -> None:
    args = ["--request", "examples/request.yaml", "--approvals", "examples/approvals.yaml"]
    args += ["--directory", "examples/directory.yaml", "--validation", "examples/validation.yaml"]
    args += ["--history", "examples/history.yaml", "--now", "2026-11-28T09:00:00Z"]
    done = subprocess.run(
        [str(cli), "approvals", *args, "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = json.loads(done.stdout)
    ex = REPO / "examples"
    d = policy.check_approvals(
        (ex / "request.yaml").read_text(),
        approvals=(ex / "approvals.yaml").read_text(),
        directory=(ex / "directory.yaml").read_text(),
        validation=changegate.ValidationResults.load(ex / "validation.yaml"),
        history=changegate.History.load(ex / "history.yaml"),
        now="2026-11-28T09:00:00Z",
    )
    assert d.to_dict() == out
    assert done.returncode == {"allow": 0, "warn": 0, "pending": 3, "deny": 1}[d.outcome]
