"""The compiled part of changegate (Rust, via PyO3). Import from ``changegate``."""

import datetime
import os
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Union, final

__all__ = [
    "Calendar",
    "ChangeRequest",
    "ChangegateError",
    "Decision",
    "Finding",
    "InvalidInputError",
    "InvalidPolicyError",
    "PolicySet",
    "__version__",
]

__version__: str

#: A request: a dict (aware datetimes, timedeltas or strings for times and durations), JSON or
#: YAML text, or a ``ChangeRequest`` read once.
_RequestLike = Union[Mapping[str, Any], str, bytes, ChangeRequest]
#: An instant: an aware ``datetime`` or RFC 3339 text with an offset.
_InstantLike = Union[datetime.datetime, str]
_StrPath = Union[str, os.PathLike[str]]

class ChangegateError(ValueError):
    """Base class of every error changegate raises."""

    file: str | None
    line: int | None
    column: int | None
    field: str | None

class InvalidInputError(ChangegateError):
    """A request, calendar or ``now`` that cannot be read."""

class InvalidPolicyError(ChangegateError):
    """A policy bundle that cannot be loaded."""

@final
class ChangeRequest:
    """A change request, read and validated once."""

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ChangeRequest: ...
    @staticmethod
    def from_text(text: str, origin: str = "<request>") -> ChangeRequest: ...
    @staticmethod
    def load(path: _StrPath) -> ChangeRequest: ...
    @property
    def id(self) -> str: ...
    @property
    def services(self) -> tuple[str, ...]: ...
    @property
    def environment(self) -> str: ...
    @property
    def type(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Calendar:
    """Scheduled deployments and one-off blackouts, indexed once."""

    def __new__(
        cls,
        deployments: Iterable[Mapping[str, Any] | ChangeRequest] | None = None,
        blackouts: Iterable[Mapping[str, Any]] | None = None,
    ) -> Calendar: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Calendar: ...
    @staticmethod
    def from_text(text: str, origin: str = "<calendar>") -> Calendar: ...
    @staticmethod
    def load(path: _StrPath) -> Calendar: ...
    @property
    def deployment_ids(self) -> tuple[str, ...]: ...
    @property
    def blackout_names(self) -> tuple[str, ...]: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object, /) -> bool: ...

@final
class Finding:
    """One thing a rule found."""

    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Decision:
    """The answer to a check; ``to_dict()`` equals the CLI's JSON."""

    @property
    def allowed(self) -> bool: ...
    @property
    def outcome(self) -> str: ...
    @property
    def findings(self) -> tuple[Finding, ...]: ...
    @property
    def policy_digest(self) -> str: ...
    @property
    def trace(self) -> tuple[str, ...]: ...
    def findings_for(self, rule: str) -> tuple[Finding, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class PolicySet:
    """A loaded policy bundle: load once, check many times, share between threads."""

    @staticmethod
    def builtin() -> PolicySet: ...
    @staticmethod
    def load(path: _StrPath) -> PolicySet: ...
    @staticmethod
    def from_files(files: Mapping[str, str], label: str = "") -> PolicySet: ...
    @property
    def digest(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def environments(self) -> tuple[str, ...]: ...
    @property
    def files(self) -> tuple[str, ...]: ...
    def check_schedule(
        self,
        request: _RequestLike,
        *,
        calendar: Calendar | None = None,
        now: _InstantLike,
    ) -> Decision: ...
    def check_schedule_many(
        self,
        requests: Iterable[_RequestLike],
        *,
        calendar: Calendar | None = None,
        now: _InstantLike,
    ) -> list[Decision]: ...
    def _check_repeat(
        self,
        request: _RequestLike,
        calendar: Calendar | None,
        now: _InstantLike,
        n: int,
    ) -> float: ...
