"""The README's Python examples run, in order, as one script (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert out.startswith("Decision(outcome='warn', allowed=True, findings=[warn:team_overlap])\n")
    assert "request.start: expected an aware datetime, got a naive one" in out
    # When can I deploy?
    assert "NextWindows(windows=['2026-12-01T21:00:00+01:00', '2026-12-02T01:00:00+01:00']" in out
    assert "\n2026-12-01 21:00:00+01:00 2026-12-02 00:00:00+01:00 2026-12-01 22:00:00+01:00\n" in out
    assert "\n['preferred_window', 'team_overlap']\n" in out
    assert "\nnever allowed: max_duration: lasts 10h, longer than the 8h allowed in `production`\n" in out
    # How risky is it?
    assert "\nrisk critical 80 ['change_type', 'services', 'critical_services', 'validation.code_quality', 'failure_rate']\nrisk: CRITICAL (score 80)\n" in out
    # Are the approvals complete? May it start?
    assert "\napprovals allow ['bob@example.com']\n" in out
    assert "\nreadiness pending [('team_overlap', 'schedule'), ('approval_required', 'approvals')]\n" in out
    assert "\nproduction blackout weekend-freeze ['2026-11-27T16:00:00+01:00', '2026-12-04T16:00:00+01:00']\n" in out
    # Is it healthy? Should it roll back?
    assert "\ngates deny [('latency-generated', 'fail'), ('error-rate', 'pass'), ('cache-hit-rate', 'pass')]\n" in out
    assert "\nrollback deny traffic_routing 2026-12-01T10:07:30+00:00\n" in out
    assert "\n2026-12-01 10:02:30+00:00 deny traffic_routing\n" in out


def test_root_readme_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace: dict[str, object] = {"__name__": "root_readme"}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    # Gates and rollback of examples/deployment.yaml, then the monitor fed three items.
    assert capsys.readouterr().out.splitlines() == [
        "gates warn [('latency-generated', 'warn'), ('latency-cached', 'pass'), ('error-rate', 'pass'), "
        "('cost-budget', 'pass'), ('cache-hit-rate', 'pass')]",
        "rollback allow None",
        "2026-12-01 21:00:45+00:00 deny full_system",
        "warn ['team_overlap']",
    ]
