"""Shared fixtures: the repository root, the CLI binary, and a YAML reader for case files."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CASES = REPO / "tests" / "cases"


class CaseLoader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, resolving scalars like the core's YAML 1.2 reader does.

    Timestamps stay text (the core reads them itself, with their offsets), and only
    `true`/`false` are booleans (YAML 1.1 also takes `yes`, `no`, `on`, `off`), so a case
    reaches Python exactly as it reaches the Rust runner and the CLI.
    """


CaseLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CaseLoader)


def case_files() -> list[Path]:
    """Every case under tests/cases (bundles/ holds policy bundles, not cases)."""
    if not CASES.is_dir():
        return []
    return sorted(
        p
        for p in CASES.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and "bundles" not in p.relative_to(CASES).parts
    )


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `changegate` binary; `make python-test` builds it and sets CHANGEGATE_CLI."""
    given = os.environ.get("CHANGEGATE_CLI")
    if given:
        return Path(given)
    subprocess.run(
        ["cargo", "build", "--quiet", "--features", "cli"], cwd=REPO, check=True
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "changegate"


@pytest.fixture(scope="session")
def examples() -> Path:
    return REPO / "examples"
