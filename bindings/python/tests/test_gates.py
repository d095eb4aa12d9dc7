"""The gates and rollback questions through Python: `PolicySet.check_gates`,
`PolicySet.check_rollback` and `changegate.Monitor`, every way their inputs are given, the
same decisions as the CLI (`changegate gates`/`rollback`/`monitor --format json`), and their
errors.

The inputs are the files of tests/gates_cli/ (the CLI tests' own bundle and telemetry).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import changegate
from changegate import InvalidInputError
from conftest import REPO, load_yaml

DIR = REPO / "tests" / "gates_cli"
POLICY = "tests/gates_cli/policy"
NOW = "2026-12-01T10:10:00Z"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    """The bundle loaded from the repository root, as the CLI runs, so that finding sources
    read `tests/gates_cli/policy/policy.yaml:9` on both faces."""
    here = os.getcwd()
    os.chdir(REPO)
    try:
        return changegate.PolicySet.load(POLICY)
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def builtin() -> changegate.PolicySet:
    """For errors found before any rule runs."""
    return changegate.PolicySet.builtin()


def deployment() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(DIR / "deployment.yaml")
    return data


def items(name: str) -> list[dict[str, Any]]:
    """A file's items as the case loader reads them (times as text)."""
    path = DIR / name
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    data = load_yaml(path)
    if isinstance(data, dict):
        (value,) = data.values()
        return list(value)
    return list(data)


def aware(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: dt.datetime.fromisoformat(v.replace("Z", "+00:00")) if k == "at" else v for k, v in i.items()}
        for i in items
    ]


def run_cli(cli: Path, command: str, measurements: str, **files: str) -> tuple[int, dict[str, Any]]:
    args = [
        str(cli), command, "--deployment", "tests/gates_cli/deployment.yaml",
        "--measurements", f"tests/gates_cli/{measurements}", "--policy", POLICY,
        "--now", NOW, "--format", "json",
    ]
    for flag, name in files.items():
        args += [f"--{flag}", f"tests/gates_cli/{name}"]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1, 3), done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, out


# ------------------------------------------------------------------------------------------
# Every face gives the same decision.


@pytest.mark.parametrize("measurements", ["healthy.yaml", "slow.yaml", "empty.yaml", "slow.jsonl"])
def test_check_gates_equals_the_cli(
    policy: changegate.PolicySet, cli: Path, measurements: str
) -> None:
    code, expected = run_cli(cli, "gates", measurements)
    decision = policy.check_gates(deployment(), items(measurements), NOW)
    assert decision.to_dict() == expected
    assert decision.check == "gates"
    assert code == (0 if decision.allowed else 3 if decision.outcome == "pending" else 1)
    # As text (the file as it is), with aware datetimes, as a parsed ChangeRequest.
    text = (DIR / measurements).read_text(encoding="utf-8")
    assert policy.check_gates(deployment(), text, NOW) == decision
    typed = policy.check_gates(
        changegate.ChangeRequest.from_dict(deployment()),
        aware(items(measurements)),
        dt.datetime(2026, 12, 1, 11, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    )
    assert typed.to_dict() == expected


@pytest.mark.parametrize(
    ("measurements", "files"),
    [
        ("healthy.yaml", {}),
        ("slow.yaml", {}),
        ("healthy.yaml", {"events": "events.yaml"}),
        ("slow.jsonl", {"rollbacks": "rollbacks.yaml"}),
        ("empty.yaml", {}),
    ],
)
def test_check_rollback_equals_the_cli(
    policy: changegate.PolicySet, cli: Path, measurements: str, files: dict[str, str]
) -> None:
    code, expected = run_cli(cli, "rollback", measurements, **files)
    given = {key: items(name) for key, name in files.items()}
    decision = policy.check_rollback(deployment(), items(measurements), NOW, **given)
    assert decision.to_dict() == expected
    assert decision.check == "rollback"
    assert code == (0 if decision.allowed else 3 if decision.outcome == "pending" else 1)
    texts = {key: (DIR / name).read_text(encoding="utf-8") for key, name in files.items()}
    text = (DIR / measurements).read_text(encoding="utf-8")
    assert policy.check_rollback(deployment(), text, NOW, **texts) == decision


def test_a_slow_rollout_rolls_back_and_escalates(policy: changegate.PolicySet) -> None:
    slow = items("slow.yaml")
    d = policy.check_rollback(deployment(), slow, NOW)
    assert (d.outcome, d.allowed) == ("deny", False)
    assert d.to_dict()["details"]["rollback"]["level"] == "traffic_routing"
    escalated = policy.check_rollback(
        deployment(), slow, NOW, rollbacks=[{"level": "traffic_routing", "at": "2026-12-01T10:03:00Z"}]
    )
    assert escalated.to_dict()["details"]["rollback"]["level"] == "full_system"


def test_nan_and_none_values_are_read(policy: changegate.PolicySet) -> None:
    at = "2026-12-01T10:09:00Z"
    nan = [{"metric": "error_rate", "at": at, "value": math.nan}]
    as_text = [{"metric": "error_rate", "at": at, "value": "NaN"}]
    assert policy.check_gates(deployment(), nan, NOW) == policy.check_gates(deployment(), as_text, NOW)
    none = [{"metric": "error_rate", "at": at, "value": None}]
    yaml_null = f"- {{metric: error_rate, at: {at}, value: null}}\n"
    assert policy.check_gates(deployment(), none, NOW) == policy.check_gates(deployment(), yaml_null, NOW)


# ------------------------------------------------------------------------------------------
# Errors name the argument, the item and the field.


def test_errors_name_the_argument_item_and_field(builtin: changegate.PolicySet) -> None:
    good = {"metric": "error_rate", "at": "2026-12-01T10:00:00Z", "value": 0.1}
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), [good, {**good, "value": "high"}], NOW)
    assert e.value.field == "measurements[1].value"
    assert e.value.file is None
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), [good, {**good, "value": True}], NOW)
    assert e.value.field == "measurements[1].value"
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), [{**good, "valu": 1}], NOW)
    assert "unknown field `valu`" in str(e.value)
    assert e.value.field is not None and e.value.field.startswith("measurements[0]")
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), [{**good, "at": dt.datetime(2026, 12, 1, 10)}], NOW)
    assert e.value.field == "measurements[0].at"
    assert "naive" in str(e.value)
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), [{**good, "value": math.inf}], NOW)
    assert e.value.field == "measurements[0].value"
    with pytest.raises(InvalidInputError) as e:
        builtin.check_rollback(deployment(), [], NOW, events=[{"kind": "x", "at": "yesterday"}])
    assert e.value.field == "events[0].at"
    with pytest.raises(InvalidInputError) as e:
        builtin.check_rollback(deployment(), [], NOW, baseline=[{**good, "metric": ""}])
    assert e.value.field == "baseline[0].metric"
    with pytest.raises(InvalidInputError) as e:
        builtin.check_rollback(deployment(), [], NOW, rollbacks=[{"at": NOW}])
    assert "missing field `level`" in str(e.value)
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), 3, NOW)  # type: ignore[arg-type]
    assert e.value.field == "measurements"
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates({"id": "d"}, [], NOW)
    assert e.value.field is not None and e.value.field.startswith("deployment")


def test_text_errors_carry_the_line_and_column(builtin: changegate.PolicySet) -> None:
    text = (DIR / "bad-value.yaml").read_text(encoding="utf-8")
    with pytest.raises(InvalidInputError) as e:
        builtin.check_gates(deployment(), text, NOW)
    assert (e.value.file, e.value.line, e.value.field) == ("<measurements>", 5, "measurements[1].value")
    lines = (DIR / "bad-offset.jsonl").read_text(encoding="utf-8")
    with pytest.raises(InvalidInputError) as e:
        builtin.check_rollback(deployment(), lines, NOW)
    assert (e.value.line, e.value.field) == (2, "line 2.at")


# ------------------------------------------------------------------------------------------
# The monitor.


def test_the_monitor_gives_the_batch_decision_after_each_push(policy: changegate.PolicySet) -> None:
    slow = items("slow.jsonl")
    monitor = changegate.Monitor(policy, deployment(), "2026-12-01T10:00:00Z")
    pushed: list[dict[str, Any]] = []
    first_deny = None
    for i, item in enumerate(slow):
        decision = monitor.push(item)
        pushed.append(item)
        assert decision == monitor.decision()
        # The evidence committed: older than `now` (an instant's samples are committed together).
        now = monitor.now
        committed = [p for p in aware(pushed) if p["at"] < now]
        batch = policy.check_rollback(deployment(), committed, now)
        assert decision.to_dict() == batch.to_dict(), i
        assert monitor.gates().to_dict() == policy.check_gates(deployment(), committed, now).to_dict()
        if decision.outcome == "deny" and first_deny is None:
            first_deny = i
    assert first_deny is not None
    assert monitor.now == dt.datetime(2026, 12, 1, 10, 10, tzinfo=UTC)
    assert monitor.decision().to_dict()["details"]["rollback"]["level"] == "traffic_routing"


def test_the_monitor_equals_the_cli_monitor(policy: changegate.PolicySet, cli: Path) -> None:
    lines = (DIR / "slow.jsonl").read_text(encoding="utf-8")
    done = subprocess.run(
        [str(cli), "monitor", "--deployment", "tests/gates_cli/deployment.yaml", "--policy", POLICY,
         "--format", "json"],
        cwd=REPO, input=lines, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    monitor = changegate.Monitor(policy, deployment(), "2026-12-01T10:00:00Z")
    decisions = [monitor.push(json.loads(line)) for line in lines.splitlines()]
    for p in printed:
        assert decisions[p["line"] - 1].to_dict() == p["decision"]


def test_the_monitor_takes_events_and_rollbacks_and_rejects_late_items(
    policy: changegate.PolicySet,
) -> None:
    monitor = changegate.Monitor(policy, deployment(), "2026-12-01T10:00:00Z", tolerance="30s")
    ok = {"metric": "error_rate", "at": "2026-12-01T10:01:00Z", "value": 0.002}
    monitor.push(ok)
    # Within the tolerance: accepted; decisions lag the latest item by 30s.
    monitor.push({**ok, "at": "2026-12-01T10:00:40Z"})
    assert monitor.now == dt.datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC)
    with pytest.raises(InvalidInputError):
        monitor.push({**ok, "at": "2026-12-01T10:00:10Z"})
    d = monitor.push({"kind": "security_failure", "at": "2026-12-01T10:02:00Z", "source": "waf"})
    assert d.check == "rollback"
    monitor.push({"level": "full_system", "at": "2026-12-01T10:02:10Z"})
    with pytest.raises(InvalidInputError) as e:
        monitor.push({"what": 1})
    assert e.value.field == "item"
    with pytest.raises(InvalidInputError) as e:
        monitor.push({**ok, "value": "x"})
    assert e.value.field == "item.value"
    with pytest.raises(InvalidInputError):
        changegate.Monitor(policy, deployment(), "2026-12-01T10:00:00")
    with pytest.raises(InvalidInputError) as e:
        changegate.Monitor(policy, deployment(), NOW, tolerance="soon")
    assert e.value.field == "tolerance"
    with pytest.raises(InvalidInputError):
        changegate.Monitor(policy, deployment(), NOW, tolerance=dt.timedelta(seconds=-1))
    assert changegate.Monitor(policy, deployment(), NOW, tolerance=dt.timedelta(0)) is not None


def test_the_monitor_flushed_counts_every_item_and_advance_moves_time(
    policy: changegate.PolicySet,
) -> None:
    slow = items("slow.jsonl")
    monitor = changegate.Monitor(policy, deployment(), "2026-12-01T10:00:00Z")
    for item in slow:
        monitor.push(item)
    flushed = monitor.flush()
    last = max(dt.datetime.fromisoformat(str(i["at"]).replace("Z", "+00:00")) for i in slow)
    assert monitor.now == last + dt.timedelta(milliseconds=1)
    batch = policy.check_rollback(deployment(), slow, monitor.now)
    assert flushed.to_dict() == batch.to_dict()
    later = monitor.now + dt.timedelta(minutes=30)
    advanced = monitor.advance(later)
    assert advanced.to_dict() == policy.check_rollback(deployment(), slow, later).to_dict()
    with pytest.raises(InvalidInputError):
        monitor.push({"metric": "error_rate", "at": later - dt.timedelta(seconds=1), "value": 0.0})


@pytest.mark.parametrize("check", ["gates", "rollback"])
def test_to_text_is_what_the_cli_prints(policy: changegate.PolicySet, cli: Path, check: str) -> None:
    done = subprocess.run(
        [str(cli), check, "--deployment", "tests/gates_cli/deployment.yaml", "--measurements",
         "tests/gates_cli/slow.yaml", "--policy", POLICY, "--now", NOW],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode in (0, 1, 3), done.stderr
    measurements = items("slow.yaml")
    run = policy.check_gates if check == "gates" else policy.check_rollback
    text = run(deployment(), measurements, NOW).to_text()
    assert done.stdout == text or done.stdout == text + "\n", (done.stdout, text)
    assert ("rollback:" if check == "rollback" else "gates:") in text
