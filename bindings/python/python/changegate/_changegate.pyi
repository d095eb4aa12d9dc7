"""The compiled part of changegate (Rust, via PyO3). Import from ``changegate``."""

import datetime
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, Union, final

__all__ = [
    "MAX_CONFIRMATIONS",
    "MAX_INPUT_DEPTH",
    "MAX_INPUT_VALUES",
    "AllowedWindow",
    "BlockedStretch",
    "Calendar",
    "ChangeRequest",
    "ChangegateError",
    "Decision",
    "Finding",
    "History",
    "InternalError",
    "InvalidInputError",
    "InvalidPolicyError",
    "Monitor",
    "NextWindows",
    "OccurrencePreview",
    "PolicySet",
    "Preview",
    "SCHEMA_VERSION",
    "ValidationResults",
    "WindowPreview",
    "__version__",
]

__version__: str
#: Most full checks one ``next_windows`` question runs (``confirmation_limit_reached``).
MAX_CONFIRMATIONS: int
#: The version of the decision contract (docs/decision-contract.md) decisions follow: ``1``.
SCHEMA_VERSION: int
#: The deepest nesting of dicts and lists in one argument (a request, a calendar): ``64``.
#: Deeper, or a dict or list that contains itself, is an ``InvalidInputError`` naming the field.
MAX_INPUT_DEPTH: int
#: The most values read from one argument, counting a shared dict or list each time it is
#: reached: ``1000000``. More is an ``InvalidInputError``.
MAX_INPUT_VALUES: int

#: A request: a dict (aware datetimes, timedeltas or strings for times and durations), JSON or
#: YAML text, or a ``ChangeRequest`` read once.
_RequestLike = Union[Mapping[str, Any], str, bytes, ChangeRequest]
#: An instant: an aware ``datetime`` or RFC 3339 text with an offset.
_InstantLike = Union[datetime.datetime, str]
_StrPath = Union[str, os.PathLike[str]]
#: A duration: a ``timedelta`` or text such as ``90d``, ``2w`` or ``36h``.
_DurationLike = Union[datetime.timedelta, str]

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

class InternalError(ChangegateError):
    """A bug in changegate, caught: the call failed, nothing else is harmed. Please report it."""

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
    """Scheduled deployments and one-off blackouts, indexed once.

    Every method that takes a calendar checks it against its policy first: a deployment or
    blackout naming an environment the policy does not know raises ``InvalidInputError``
    naming the field (``calendar.deployments[3].environment``), with a "did you mean". The
    environments a calendar names are collected once, when it is built, so the check costs
    little per call.
    """

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
class ValidationResults:
    """A change's validation results, indexed once per category (evidence for
    ``PolicySet.assess_risk``). ``ValidationResults()`` is empty: every required category is
    then missing."""

    def __new__(cls, results: Iterable[Mapping[str, Any]] | None = None) -> ValidationResults: ...
    @staticmethod
    def from_list(data: Iterable[Mapping[str, Any]]) -> ValidationResults: ...
    @staticmethod
    def from_text(text: str, origin: str = "<validation>") -> ValidationResults: ...
    @staticmethod
    def load(path: _StrPath) -> ValidationResults: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    def to_list(self) -> list[dict[str, Any]]: ...
    def __len__(self) -> int: ...

@final
class History:
    """Past changes and how they went, indexed once per environment and service (evidence for
    ``PolicySet.assess_risk``). ``History()`` has no past change, which is not the same as
    giving no history (``history=None``: missing)."""

    def __new__(cls, changes: Iterable[Mapping[str, Any]] | None = None) -> History: ...
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> History: ...
    @staticmethod
    def from_text(text: str, origin: str = "<history>") -> History: ...
    @staticmethod
    def load(path: _StrPath) -> History: ...
    @property
    def change_ids(self) -> tuple[str, ...]: ...
    def __len__(self) -> int: ...

_ValidationLike = Union[ValidationResults, Iterable[Mapping[str, Any]], str, bytes]
_HistoryLike = Union[History, Mapping[str, Any], str, bytes]
_ApprovalsLike = Union[Iterable[Mapping[str, Any]], str, bytes]
_DirectoryLike = Union[Mapping[str, Any], str, bytes]
_RiskLevel = Literal["low", "medium", "high", "critical"]
#: Measurements: a list of dicts ``{metric, at, value, labels?}`` (``value`` a number, ``None``
#: for no data, or NaN), or YAML/JSON/JSON-lines text.
_MeasurementsLike = Union[Sequence[Mapping[str, Any]], str, bytes]
#: Events: a list of dicts ``{kind, at, source?}``, or text.
_EventsLike = Union[Sequence[Mapping[str, Any]], str, bytes]
#: Rollbacks performed: a list of dicts ``{level, at}``, or text.
_RollbacksLike = Union[Sequence[Mapping[str, Any]], str, bytes]

@final
class Finding:
    """One thing a rule found."""

    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str:
        """``"warn"``, ``"pending"`` or ``"deny"``."""
    @property
    def message(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def question(self) -> str | None:
        """In a readiness decision, the question it came from; ``None`` otherwise."""
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Decision:
    """The answer to a check; ``to_dict()`` equals the CLI's JSON, ``to_text()`` its text."""

    @property
    def schema(self) -> int: ...
    @property
    def check(self) -> str:
        """The question answered: ``"schedule"``, ``"risk"``, ``"approvals"``, ``"readiness"``,
        ``"gates"`` or ``"rollback"``."""
    @property
    def allowed(self) -> bool: ...
    @property
    def outcome(self) -> str:
        """``"allow"`` < ``"warn"`` < ``"pending"`` < ``"deny"``; allowed for the first two."""
    @property
    def findings(self) -> tuple[Finding, ...]: ...
    @property
    def policy_digest(self) -> str: ...
    @property
    def engine(self) -> str: ...
    @property
    def trace(self) -> tuple[str, ...]: ...
    def findings_for(self, rule: str) -> tuple[Finding, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_text(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class AllowedWindow:
    """A stretch in which the deployment may run (start confirmed by a full check)."""

    @property
    def start(self) -> datetime.datetime: ...
    @property
    def end(self) -> datetime.datetime: ...
    @property
    def latest_start(self) -> datetime.datetime: ...
    @property
    def warnings(self) -> tuple[Finding, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class BlockedStretch:
    """Start times that are not allowed, and the rules that say so."""

    @property
    def from_(self) -> datetime.datetime: ...
    @property
    def until(self) -> datetime.datetime: ...
    @property
    def rules(self) -> tuple[str, ...]: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class NextWindows:
    """The answer to "when can I deploy?"; ``to_dict()`` equals ``changegate windows`` JSON."""

    @property
    def windows(self) -> tuple[AllowedWindow, ...]: ...
    @property
    def blocked(self) -> tuple[BlockedStretch, ...]: ...
    @property
    def searched(self) -> tuple[datetime.datetime, datetime.datetime]: ...
    @property
    def confirmations(self) -> int: ...
    @property
    def confirmation_limit_reached(self) -> bool: ...
    @property
    def note(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_text(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class OccurrencePreview:
    """One occurrence of a window, in local time and UTC."""

    @property
    def start(self) -> datetime.datetime: ...
    @property
    def end(self) -> datetime.datetime: ...
    @property
    def start_utc(self) -> datetime.datetime: ...
    @property
    def end_utc(self) -> datetime.datetime: ...
    @property
    def dst(self) -> tuple[str, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class WindowPreview:
    """The next occurrences of one blackout or preferred window."""

    @property
    def environment(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def occurrences(self) -> tuple[OccurrencePreview, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Preview:
    """Every window's next occurrences; ``to_dict()`` equals ``changegate preview`` JSON."""

    @property
    def from_(self) -> datetime.datetime: ...
    @property
    def windows(self) -> tuple[WindowPreview, ...]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_text(self) -> str: ...
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
        validation: _ValidationLike | None = None,
        history: _HistoryLike | None = None,
    ) -> Decision: ...
    def assess_risk(
        self,
        request: _RequestLike,
        *,
        validation: _ValidationLike | None = None,
        history: _HistoryLike | None = None,
        now: _InstantLike,
    ) -> Decision: ...
    def check_approvals(
        self,
        request: _RequestLike,
        *,
        approvals: _ApprovalsLike | None = None,
        directory: _DirectoryLike | None = None,
        validation: _ValidationLike | None = None,
        history: _HistoryLike | None = None,
        risk_level: _RiskLevel | None = None,
        now: _InstantLike,
    ) -> Decision: ...
    def evaluate(
        self,
        request: _RequestLike,
        *,
        calendar: Calendar | None = None,
        approvals: _ApprovalsLike | None = None,
        directory: _DirectoryLike | None = None,
        validation: _ValidationLike | None = None,
        history: _HistoryLike | None = None,
        risk_level: _RiskLevel | None = None,
        now: _InstantLike,
    ) -> Decision: ...
    def check_gates(
        self,
        deployment: _RequestLike,
        measurements: _MeasurementsLike,
        now: _InstantLike,
        *,
        events: _EventsLike | None = None,
        baseline: _MeasurementsLike | None = None,
        rollbacks: _RollbacksLike | None = None,
    ) -> Decision:
        """Is the deployment healthy enough to continue or promote (``check == "gates"``)?"""
    def check_rollback(
        self,
        deployment: _RequestLike,
        measurements: _MeasurementsLike,
        now: _InstantLike,
        *,
        events: _EventsLike | None = None,
        baseline: _MeasurementsLike | None = None,
        rollbacks: _RollbacksLike | None = None,
    ) -> Decision:
        """Should the deployment roll back, how far and by when (``check == "rollback"``)?"""
    def check_schedule_many(
        self,
        requests: Iterable[_RequestLike],
        *,
        calendar: Calendar | None = None,
        now: _InstantLike,
    ) -> list[Decision]: ...
    def next_windows(
        self,
        request: _RequestLike,
        *,
        calendar: Calendar | None = None,
        now: _InstantLike,
        count: int = 3,
        horizon: _DurationLike = "90d",
    ) -> NextWindows: ...
    def preview(self, *, from_: _InstantLike, count: int = 5) -> Preview: ...
    def _check_repeat(
        self,
        request: _RequestLike,
        calendar: Calendar | None,
        now: _InstantLike,
        n: int,
    ) -> float: ...

@final
class Monitor:
    """A deployment watched as its telemetry arrives: ``push`` measurements, events and
    rollbacks performed one at a time and get the current rollback decision, equal to
    ``PolicySet.check_rollback`` over what was pushed, at ``now``. Items may arrive out of
    order within ``tolerance``; older ones raise ``InvalidInputError``."""

    def __new__(
        cls,
        policy: PolicySet,
        deployment: _RequestLike,
        start: _InstantLike,
        *,
        tolerance: _DurationLike | None = None,
    ) -> Monitor: ...
    def push(self, item: Mapping[str, Any]) -> Decision:
        """Adds a measurement ``{metric, at, value, labels?}``, an event ``{kind, at,
        source?}`` or a rollback performed ``{level, at}`` (told apart by their keys) and
        returns the current rollback decision."""
    def advance(self, to: _InstantLike) -> Decision:
        """Time has passed: nothing older than ``to`` will arrive; the rollback decision at
        ``to``."""
    def flush(self) -> Decision:
        """The end of the stream: every item pushed counts; the final rollback decision."""
    def decision(self) -> Decision: ...
    def gates(self) -> Decision: ...
    @property
    def now(self) -> datetime.datetime: ...
