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
    assert len(blocks) >= 3
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert out.startswith("Decision(outcome='warn', allowed=True, findings=[warn:team_overlap])\n")
    assert "request.start: expected an aware datetime, got a naive one" in out
