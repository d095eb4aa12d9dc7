"""The risk question through Python: `ValidationResults`, `History`, `PolicySet.assess_risk`
and `check_schedule(validation=..., history=...)`, their text, and their errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

import changegate
from changegate import ChangegateError, InvalidInputError
from conftest import REPO

UTC = dt.timezone.utc
NOW = "2026-11-25T09:00:00Z"
AT = dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
FILES = REPO / "tests" / "risk_cli"
CATEGORIES = (
    "infrastructure",
    "code_quality",
    "tests",
    "security",
    "performance",
    "dependencies",
    "operations",
    "compliance",
)


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
    return base


def passing(**overrides: Any) -> list[dict[str, Any]]:
    """One passing result per category of the default bundle, and the checks it lists
    (times as datetimes); `overrides` changes a check by name."""
    results: list[dict[str, Any]] = [
        {"category": c, "check": "main", "status": "passed", "at": AT} for c in CATEGORIES
    ]
    results.append({"category": "performance", "check": "p95_ms", "value": 800, "at": AT})
    results.append({"category": "code_quality", "check": "coverage", "value": 0.9, "at": AT})
    for r in results:
        r.update(overrides.get(r["check"], {}))
    return results


def quiet_history() -> dict[str, Any]:
    return {
        "changes": [
            {
                "id": f"h{i}",
                "services": ["search"],
                "environment": "production",
                "type": "feature",
                "start": dt.datetime(2026, 11, 1 + i, 22, 0, tzinfo=UTC),
                "duration": dt.timedelta(hours=1),
                "outcome": "succeeded",
            }
            for i in range(3)
        ]
    }


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    return changegate.PolicySet.builtin()


def raises(kind: type[ChangegateError], f: Callable[[], object]) -> ChangegateError:
    with pytest.raises(kind) as info:
        f()
    return info.value


def test_assess_risk_gives_level_score_and_factors(policy: changegate.PolicySet) -> None:
    validation = changegate.ValidationResults(passing())
    history = changegate.History.from_dict(quiet_history())
    decision = policy.assess_risk(request(), validation=validation, history=history, now=NOW)
    assert decision.check == "risk"
    assert decision.outcome == "allow"
    risk = decision.to_dict()["details"]["risk"]
    assert (risk["score"], risk["level"], risk["missing"]) == (10, "low", [])
    assert [f["name"] for f in risk["factors"]] == ["change_type"]
    text = decision.to_text()
    assert text.startswith("ALLOW dep-1 (search in production, ")
    assert "\nrisk: LOW (score 10)\n" in text
    assert "\nmissing: none\n" in text


def test_a_failed_check_adds_risk(policy: changegate.PolicySet) -> None:
    results = passing(coverage={"value": 0.79})
    decision = policy.assess_risk(
        request(), validation=results, history=quiet_history(), now=NOW
    )
    risk = decision.to_dict()["details"]["risk"]
    assert (risk["score"], risk["level"]) == (30, "medium")
    assert {f["name"]: f["points"] for f in risk["factors"]} == {
        "change_type": 10,
        "validation.code_quality": 20,
    }
    assert "  validation.code_quality      20  validation: `code_quality` check `coverage` failed" in decision.to_text()


def test_no_evidence_is_missing_and_denies(policy: changegate.PolicySet) -> None:
    decision = policy.assess_risk(request(), now=NOW)
    assert decision.outcome == "deny" and not decision.allowed
    risk = decision.to_dict()["details"]["risk"]
    assert risk["level"] == "critical"
    assert risk["missing"][-1] == "history"
    assert {f.rule for f in decision.findings} == {"validation_missing"}
    # An empty History is given evidence (no past change), not missing history.
    empty = policy.assess_risk(request(), history=changegate.History(), now=NOW)
    assert "history" not in empty.to_dict()["details"]["risk"]["missing"]


def test_the_decision_equals_the_cli(policy: changegate.PolicySet, cli: Path) -> None:
    args = [str(cli), "risk", "--request", "request.yaml", "--validation", "validation.yaml"]
    args += ["--history", "history.yaml", "--now", NOW]
    done = subprocess.run(args + ["--format", "json"], cwd=FILES, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    decision = policy.assess_risk(
        changegate.ChangeRequest.load(FILES / "request.yaml"),
        validation=changegate.ValidationResults.load(FILES / "validation.yaml"),
        history=changegate.History.load(FILES / "history.yaml"),
        now=NOW,
    )
    assert decision.to_dict() == json.loads(done.stdout)
    text = subprocess.run(args, cwd=FILES, capture_output=True, text=True, env={"NO_COLOR": "1"})
    assert decision.to_text() == text.stdout


def test_check_schedule_with_evidence_denies_high_risk_outside_the_window(
    policy: changegate.PolicySet,
) -> None:
    high = changegate.ChangeRequest.load(FILES / "high-request.yaml")
    plain = policy.check_schedule(high, now=NOW)
    assert plain.outcome == "warn"
    validation = changegate.ValidationResults.load(FILES / "high-validation.yaml")
    history = changegate.History.load(FILES / "high-history.yaml")
    decision = policy.check_schedule(high, now=NOW, validation=validation, history=history)
    assert decision.check == "schedule"
    assert decision.outcome == "deny"
    (finding,) = decision.findings
    assert finding.rule == "preferred_window" and finding.details["risk_level"] == "high"


def test_evidence_classes(policy: changegate.PolicySet) -> None:
    v = changegate.ValidationResults(passing())
    assert len(v) == 10
    assert v.categories == tuple(sorted(CATEGORIES))
    assert v.to_list()[0] == {
        "category": "infrastructure",
        "check": "main",
        "status": "passed",
        "at": "2026-11-25T08:00:00Z",
    }
    assert repr(v) == "ValidationResults(results=10)"
    assert len(changegate.ValidationResults()) == 0
    h = changegate.History(quiet_history()["changes"])
    assert (len(h), h.change_ids, repr(h)) == (3, ("h0", "h1", "h2"), "History(changes=3)")


# --- errors ---------------------------------------------------------------------------------


def test_a_bad_validation_field_names_its_path(policy: changegate.PolicySet) -> None:
    bad = passing()
    bad[2] = {**bad[2], "stauts": "passed"}
    e = raises(InvalidInputError, lambda: changegate.ValidationResults(bad))
    assert e.field == "validation[2].stauts"
    assert str(e).startswith("validation[2].stauts: unknown field `stauts`, expected one of")
    e = raises(InvalidInputError, lambda: policy.assess_risk(request(), validation=bad, now=NOW))
    assert e.field == "validation[2].stauts"
    naive = passing()
    naive[0]["at"] = dt.datetime(2026, 11, 25, 8, 0)
    e = raises(InvalidInputError, lambda: changegate.ValidationResults(naive))
    assert e.field == "validation[0].at" and "naive" in str(e)
    e = raises(
        InvalidInputError,
        lambda: policy.assess_risk(request(), validation=5, now=NOW),  # type: ignore[arg-type]
    )
    assert e.field == "validation"
    assert str(e) == (
        "validation: expected a ValidationResults, a list of dicts or JSON/YAML text, got int"
    )


def test_a_bad_history_field_names_its_path(policy: changegate.PolicySet) -> None:
    history = quiet_history()
    history["changes"][1]["outcome"] = "exploded"
    e = raises(InvalidInputError, lambda: changegate.History.from_dict(history))
    assert e.field == "history.changes[1].outcome"
    assert "unknown variant `exploded`" in str(e)
    history = quiet_history()
    history["changes"][0]["duration"] = 90
    e = raises(InvalidInputError, lambda: policy.assess_risk(request(), history=history, now=NOW))
    assert e.field == "history.changes[0].duration"
    e = raises(
        InvalidInputError,
        lambda: policy.check_schedule(request(), now=NOW, history=[1]),  # type: ignore[arg-type]
    )
    assert e.field == "history"


def test_evidence_text_and_file_errors_name_file_and_line() -> None:
    e = raises(InvalidInputError, lambda: changegate.ValidationResults.load(FILES / "bad-validation.yaml"))
    assert (e.line, e.column) == (3, 3)
    assert e.file is not None and e.file.endswith("bad-validation.yaml")
    assert "unknown field `stauts`" in str(e)
    e = raises(InvalidInputError, lambda: changegate.History.load(FILES / "bad-history.yaml"))
    assert (e.line, e.column, e.field) == (8, 14, "changes[0].outcome")
    e = raises(
        InvalidInputError,
        lambda: changegate.History.from_text("changes:\n  - id: d1\n    outcom: failed\n"),
    )
    assert e.file == "<history>" and e.line == 3
    e = raises(InvalidInputError, lambda: changegate.ValidationResults.load(FILES / "nope.yaml"))
    assert e.file is not None and e.file.endswith("nope.yaml")


def test_deep_and_cyclic_evidence_is_refused() -> None:
    cyclic: list[Any] = []
    cyclic.append({"category": "tests", "check": "unit", "status": "passed", "at": AT, "url": cyclic})
    e = raises(InvalidInputError, lambda: changegate.ValidationResults(cyclic))
    assert e.field is not None and e.field.startswith("validation[0]")
    deep: Any = "x"
    for _ in range(changegate.MAX_INPUT_DEPTH + 5):
        deep = [deep]
    e = raises(InvalidInputError, lambda: changegate.History.from_dict({"changes": deep}))
    assert e.field is not None and e.field.startswith("history.changes[0]")
