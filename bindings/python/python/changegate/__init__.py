"""changegate: decide when a production change may happen and whether it may proceed.

The Python face of the changegate Rust library. Every class lives in the compiled module
``changegate._changegate`` and is re-exported here::

    import changegate
    policy = changegate.PolicySet.builtin()
    calendar = changegate.Calendar.load("calendar.yaml")
    decision = policy.check_schedule(request, calendar=calendar, now=now)
    answer = policy.next_windows(request, calendar=calendar, now=now)  # when can I deploy?
    validation = changegate.ValidationResults.load("validation.yaml")
    risk = policy.assess_risk(request, validation=validation, history=None, now=now)
    gates = policy.check_gates(deployment, measurements, now)   # healthy enough to promote?
    rollback = policy.check_rollback(deployment, measurements, now, events=events)
    monitor = changegate.Monitor(policy, deployment, start)     # the same, one item at a time
"""

from ._changegate import (
    MAX_CONFIRMATIONS,
    MAX_INPUT_DEPTH,
    MAX_INPUT_VALUES,
    AllowedWindow,
    BlockedStretch,
    Calendar,
    ChangegateError,
    ChangeRequest,
    Decision,
    Finding,
    History,
    InternalError,
    InvalidInputError,
    InvalidPolicyError,
    Monitor,
    NextWindows,
    OccurrencePreview,
    PolicySet,
    SCHEMA_VERSION,
    Preview,
    ValidationResults,
    WindowPreview,
    __version__,
)

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
