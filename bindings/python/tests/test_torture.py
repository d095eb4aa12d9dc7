"""Hostile and careless input: each call ends in a clean exception or a correct decision.

Recursive and very deep dicts, conversions that mutate what is being converted, wrong types
everywhere, huge values and many threads at once. "Clean" means `InvalidInputError` (bad
input) or `InternalError` (a caught bug), both `Exception`s: never a crash of the interpreter,
a hang, or pyo3's `PanicException` (a `BaseException` that `except Exception` misses).
Deterministic and fast: no randomness, no sleeps, no wall-clock assertions.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator, Optional

import pytest

import changegate
from changegate import ChangegateError, InternalError, InvalidInputError

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEEP = 100_000


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


@pytest.fixture(scope="module")
def policy() -> changegate.PolicySet:
    return changegate.PolicySet.builtin()


@pytest.fixture(scope="module")
def expected(policy: changegate.PolicySet) -> dict[str, Any]:
    """The decision on the plain request, which the mutated conversions must reproduce."""
    return policy.check_schedule(request(), now=NOW).to_dict()


def outcome(f: Callable[[], object]) -> object:
    """Runs `f`; returns its answer or the exception it raised, which must be a clean one."""
    try:
        return f()
    except BaseException as e:  # noqa: BLE001 - the point is to see everything
        assert isinstance(e, Exception), f"{type(e).__name__} is not an Exception: {e}"
        assert isinstance(e, (InvalidInputError, InternalError)), f"{type(e).__name__}: {e}"
        return e


def invalid(f: Callable[[], object]) -> InvalidInputError:
    result = outcome(f)
    assert isinstance(result, InvalidInputError), f"expected InvalidInputError, got {result!r}"
    return result


def nested_dicts(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_lists(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


# --- the exception classes ----------------------------------------------------------------


def test_internal_error_is_a_plain_exception() -> None:
    assert issubclass(InternalError, ChangegateError)
    assert issubclass(InternalError, Exception)
    assert not issubclass(InternalError, InvalidInputError)
    assert InternalError.__module__ == "changegate"
    assert changegate.MAX_INPUT_DEPTH == 64
    assert changegate.MAX_INPUT_VALUES == 1_000_000


# --- recursive input ----------------------------------------------------------------------


def test_a_request_that_contains_itself(policy: changegate.PolicySet) -> None:
    r = request()
    r["self"] = r
    e = invalid(lambda: policy.check_schedule(r, now=NOW))
    assert e.field == "request.self"
    assert "contains itself" in str(e)


def test_recursive_labels(policy: changegate.PolicySet) -> None:
    labels: dict[str, Any] = {"team": "search"}
    labels["me"] = labels
    e = invalid(lambda: policy.check_schedule(request(labels=labels), now=NOW))
    assert e.field == "request.labels.me"
    assert "contains itself" in str(e)

    inner: list[Any] = [1, 2]
    inner.append(inner)
    e = invalid(lambda: policy.check_schedule(request(labels={"l": inner}), now=NOW))
    assert e.field == "request.labels.l[2]"

    # Indirect: a -> b -> a.
    a: dict[str, Any] = {}
    b: dict[str, Any] = {"a": a}
    a["b"] = b
    e = invalid(lambda: changegate.ChangeRequest.from_dict(request(labels=a)))
    assert e.field == "request.labels.b.a"


def test_recursive_calendars() -> None:
    deployment = request(id="dep-2")
    deployment["labels"] = {"back": deployment}
    e = invalid(lambda: changegate.Calendar.from_dict({"deployments": [deployment]}))
    assert e.field == "calendar.deployments[0].labels.back"

    deployments: list[Any] = [request(id="dep-2")]
    deployments.append(deployments)
    e = invalid(lambda: changegate.Calendar.from_dict({"deployments": deployments}))
    assert e.field == "calendar.deployments[1]"
    e = invalid(lambda: changegate.Calendar(deployments=deployments))
    assert e.field == "calendar.deployments[1]"

    calendar: dict[str, Any] = {"deployments": []}
    calendar["blackouts"] = [{"name": "loop", "why": calendar}]
    e = invalid(lambda: changegate.Calendar.from_dict(calendar))
    assert e.field == "calendar.blackouts[0].why"


def test_a_shared_value_is_not_a_cycle(policy: changegate.PolicySet) -> None:
    shared = {"team": "search"}
    r = request(labels={"a": shared, "b": shared, "c": [shared, shared]})
    decision = policy.check_schedule(r, now=NOW)
    assert decision.to_dict()["outcome"] in ("allow", "deny")


def test_a_list_that_refers_to_one_list_many_times_is_bounded(
    policy: changegate.PolicySet,
) -> None:
    # 2**40 paths through 40 lists: refused after MAX_INPUT_VALUES values (about 100 MB of
    # JSON built on the way), not walked for ever.
    value: Any = "x"
    for _ in range(40):
        value = [value, value]
    e = invalid(lambda: policy.check_schedule(request(labels={"dag": value}), now=NOW))
    assert "more than 1000000 values" in str(e)
    assert e.field is not None and e.field.startswith("request.labels.dag[")


# --- deep input ---------------------------------------------------------------------------


@pytest.mark.parametrize("build", [nested_dicts, nested_lists], ids=["dicts", "lists"])
def test_deep_labels(policy: changegate.PolicySet, build: Callable[[int], Any]) -> None:
    e = invalid(lambda: policy.check_schedule(request(labels={"a": build(DEEP)}), now=NOW))
    assert "nested more than 64 levels" in str(e)
    assert e.field is not None and e.field.startswith("request.labels.a")


def test_deep_requests_and_calendars(policy: changegate.PolicySet) -> None:
    deep = nested_dicts(DEEP)
    e = invalid(lambda: policy.check_schedule(request(id=deep), now=NOW))
    assert e.field is not None and e.field.startswith("request.id.a.a")
    e = invalid(lambda: changegate.ChangeRequest.from_dict(deep))
    assert e.field is not None and e.field.startswith("request.a.a")
    e = invalid(lambda: changegate.Calendar.from_dict(deep))
    assert e.field is not None and e.field.startswith("calendar.a.a")
    e = invalid(lambda: changegate.Calendar.from_dict({"deployments": [request(labels=deep)]}))
    assert e.field is not None and e.field.startswith("calendar.deployments[0].labels.a")
    blackout = {"name": "deep", "from": NOW, "to": NOW, "why": nested_lists(DEEP)}
    e = invalid(lambda: changegate.Calendar(blackouts=[blackout]))
    assert e.field is not None and e.field.startswith("calendar.blackouts[0].why[0][0]")
    e = invalid(lambda: policy.check_schedule_many([request(labels=deep)], now=NOW))
    assert e.field is not None and e.field.startswith("requests[0].labels.a")


def test_just_under_the_depth_limit_is_read(policy: changegate.PolicySet) -> None:
    # request (level 1) > labels (level 2, the outermost of 63 dicts): 64 levels.
    r = request(labels=nested_dicts(63))
    decision = policy.check_schedule(r, now=NOW)
    assert decision.to_dict()["outcome"] in ("allow", "deny")
    e = invalid(lambda: policy.check_schedule(request(labels=nested_dicts(64)), now=NOW))
    assert "nested more than 64 levels" in str(e)


# --- conversions that mutate what is being converted ----------------------------------------


def test_a_datetime_that_empties_the_request(
    policy: changegate.PolicySet, expected: dict[str, Any]
) -> None:
    r = request()

    class Evil(dt.datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            r.clear()
            for i in range(1000):
                r[f"junk{i}"] = i
            return super().isoformat(sep, timespec)

    r["start"] = Evil(2026, 12, 1, 21, 0, tzinfo=UTC)
    assert policy.check_schedule(r, now=NOW).to_dict() == expected


def test_a_tzinfo_that_grows_the_labels(policy: changegate.PolicySet) -> None:
    labels: dict[str, Any] = {}

    class Growing(dt.tzinfo):
        def utcoffset(self, d: Optional[dt.datetime]) -> dt.timedelta:
            for i in range(100):
                labels[f"k{len(labels)}"] = i
            return dt.timedelta(0)

        def dst(self, d: Optional[dt.datetime]) -> dt.timedelta:
            return dt.timedelta(0)

        def tzname(self, d: Optional[dt.datetime]) -> str:
            return "UTC"

    labels["when"] = dt.datetime(2026, 1, 1, tzinfo=Growing())
    labels["other"] = "x"
    decision = outcome(lambda: policy.check_schedule(request(labels=labels), now=NOW))
    assert isinstance(decision, changegate.Decision)
    assert len(labels) > 2  # it did grow, while the snapshot was read


def test_subclasses_that_mutate_in_items_and_iter(
    policy: changegate.PolicySet, expected: dict[str, Any]
) -> None:
    class Items(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            self.clear()
            return super().items()

        def __iter__(self) -> Iterator[Any]:
            self["junk"] = 1
            return super().__iter__()

    class Endless(list):  # type: ignore[type-arg]
        def __iter__(self) -> Iterator[Any]:
            while True:
                self.append("more")
                yield "more"

    r = Items(request(labels=Items({"l": Endless(["a"])})))
    assert policy.check_schedule(r, now=NOW).to_dict() == expected
    assert changegate.ChangeRequest.from_dict(r).to_dict()["labels"] == {"l": ["a"]}


def test_keys_with_their_own_eq_and_hash(policy: changegate.PolicySet) -> None:
    calls: list[int] = []

    class Key(str):
        def __hash__(self) -> int:
            calls.append(1)
            return id(self)

        def __eq__(self, other: object) -> bool:
            calls.append(1)
            return False

        def __str__(self) -> str:
            return "surprise"

    labels = {Key("team"): "a", Key("team"): "b"}
    e = invalid(lambda: policy.check_schedule(request(labels=labels), now=NOW))
    assert e.field == "request.labels.team"
    assert "twice" in str(e)
    ok = changegate.ChangeRequest.from_dict(request(labels={Key("team"): "a"}))
    assert ok.to_dict()["labels"] == {"team": "a"}


def test_a_date_that_mutates_during_a_calendar(policy: changegate.PolicySet) -> None:
    deployments: list[Any] = []

    class Growing(dt.date):
        def isoformat(self) -> str:
            deployments.append(request(id=f"dep-{len(deployments) + 10}"))
            return super().isoformat()

    deployments.append(request(id="dep-2", labels={"day": Growing(2026, 1, 1)}))
    calendar = changegate.Calendar(deployments=deployments)
    assert len(calendar) == 1
    assert len(deployments) == 2


def test_a_list_of_requests_that_grows_while_read(policy: changegate.PolicySet) -> None:
    requests: list[Any] = []

    class Grow(dt.datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            requests.append(request(id=f"dep-{len(requests) + 100}"))
            return super().isoformat(sep, timespec)

    requests.append(request(start=Grow(2026, 12, 1, 21, 0, tzinfo=UTC)))
    decisions = policy.check_schedule_many(requests, now=NOW)
    assert len(decisions) == 1


def test_python_errors_during_conversion_are_input_errors(policy: changegate.PolicySet) -> None:
    class Broken(dt.datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            raise RuntimeError("boom")

    e = invalid(
        lambda: policy.check_schedule(
            request(start=Broken(2026, 12, 1, 21, 0, tzinfo=UTC)), now=NOW
        )
    )
    assert e.field == "request.start"
    assert "boom" in str(e)


def test_an_interrupt_during_conversion_is_raised_unchanged(policy: changegate.PolicySet) -> None:
    # Not an Exception: Ctrl-C while a dict is read must stop the program, not become an
    # InvalidInputError.
    class Interrupted(dt.datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            raise KeyboardInterrupt

    start = Interrupted(2026, 12, 1, 21, 0, tzinfo=UTC)
    with pytest.raises(KeyboardInterrupt):
        policy.check_schedule(request(start=start), now=NOW)
    with pytest.raises(KeyboardInterrupt):
        changegate.Calendar.from_dict({"deployments": [request(labels={"t": start})]})
    with pytest.raises(KeyboardInterrupt):
        policy.check_schedule_many([request(), request(start=start)], now=NOW)


# --- wrong types everywhere ---------------------------------------------------------------

WRONG: list[Any] = [
    object(),
    {1, 2},
    frozenset(),
    1j,
    b"\xff\xfe",
    bytearray(b"x"),
    float("nan"),
    float("inf"),
    -float("inf"),
    10**400,
    -(10**400),
    True,
    [],
    {},
    (),
    dt.time(1, 2),
    dt.timedelta(microseconds=1),
    dt.datetime(2026, 1, 1),
    lambda: None,
    type,
    Ellipsis,
    NotImplemented,
    range(3),
    memoryview(b"x"),
]
FIELDS = [
    "id",
    "service",
    "services",
    "environment",
    "type",
    "start",
    "end",
    "duration",
    "requested_at",
    "labels",
    "depends_on",
]


@pytest.mark.parametrize("field", FIELDS)
def test_wrong_types_in_every_request_field(policy: changegate.PolicySet, field: str) -> None:
    for value in WRONG:
        result = outcome(lambda: policy.check_schedule(request(**{field: value}), now=NOW))
        if isinstance(result, Exception):
            assert isinstance(result, InvalidInputError), (field, value, result)
            assert result.field is not None and result.field.startswith("request"), result
        else:
            assert isinstance(result, changegate.Decision)
        # In labels too, as a value and nested.
        outcome(lambda: policy.check_schedule(request(labels={field: value}), now=NOW))
        outcome(lambda: policy.check_schedule(request(labels={"n": [{"x": value}]}), now=NOW))


def test_wrong_types_for_every_argument(policy: changegate.PolicySet) -> None:
    for value in WRONG:
        invalid(lambda: policy.check_schedule(value, now=NOW))
        invalid(lambda: policy.check_schedule(request(), now=value))
        outcome(lambda: policy.check_schedule(request(), calendar=value, now=NOW))
        outcome(lambda: policy.check_schedule_many(value, now=NOW))
        outcome(lambda: policy.check_schedule_many([value], now=NOW))
        outcome(lambda: policy.next_windows(request(), now=NOW, count=value))
        outcome(lambda: policy.next_windows(request(), now=NOW, horizon=value))
        outcome(lambda: policy.preview(from_=value))
        outcome(lambda: changegate.Calendar.from_dict(value))
        outcome(lambda: changegate.Calendar.from_dict({"deployments": value}))
        outcome(lambda: changegate.Calendar.from_dict({"deployments": [value]}))
        outcome(lambda: changegate.Calendar.from_dict({"blackouts": [value]}))
        outcome(lambda: changegate.Calendar(deployments=value))
        outcome(lambda: changegate.Calendar(blackouts=value))
        outcome(lambda: changegate.ChangeRequest.from_dict(value))
        # Keys of every wrong type.
        try:
            keyed = {value: 1}
        except TypeError:
            continue
        invalid(lambda: policy.check_schedule(request(labels=keyed), now=NOW))


def test_wrong_types_for_text_and_path_arguments() -> None:
    # Where the signature wants text or a path, the argument parser raises TypeError; a value
    # it takes but changegate cannot use is a ChangegateError.
    readers: list[Callable[[Any], object]] = [
        changegate.PolicySet.from_files,
        changegate.PolicySet.load,
        changegate.ChangeRequest.from_text,
        changegate.ChangeRequest.load,
        changegate.Calendar.from_text,
        changegate.Calendar.load,
        lambda v: changegate.PolicySet.from_files({"policy.yaml": "x"}, label=v),
        lambda v: changegate.ChangeRequest.from_text("id: x", origin=v),
    ]
    values = [*WRONG, None, {"policy.yaml": {}}, {"policy.yaml": 5}, {5: "x"}, "\x00"]
    for read in readers:
        for value in values:
            try:
                read(value)
            except BaseException as e:  # noqa: BLE001
                assert isinstance(e, TypeError) or (
                    isinstance(e, ChangegateError) and not isinstance(e, InternalError)
                ), (read, value, e)


# --- huge values --------------------------------------------------------------------------


def test_huge_values(policy: changegate.PolicySet) -> None:
    long = "x" * 1_000_000
    for r in (
        request(id=long),
        request(service=long),
        request(environment=long),
        request(type=long),
        request(start=long),
        request(duration=long),
        request(labels={"big": long}),
        request(labels={long: "v"}),
        request(labels={"n": 10**5000}),
        request(labels={"n": 2**63}),
        request(labels={"n": 2**64}),
        request(labels={"n": -(2**63) - 1}),
        request(labels={"f": 1e308, "g": -1e308, "h": 5e-324}),
        request(labels={"many": list(range(100_000))}),
        request(depends_on=[f"dep-{i}" for i in range(10_000)]),
        request(start=dt.datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        request(start=dt.datetime(1, 1, 1, tzinfo=UTC)),
        request(duration=dt.timedelta(days=999_999_999)),
    ):
        outcome(lambda: policy.check_schedule(r, now=NOW))
    # Text that is not valid Unicode (a lone surrogate), as a value and as a key.
    e = invalid(lambda: policy.check_schedule(request(id="\ud800"), now=NOW))
    assert e.field == "request.id"
    e = invalid(lambda: policy.check_schedule(request(labels={"\ud800": 1}), now=NOW))
    assert e.field == "request.labels"
    # An error about a huge value quotes only the start of it.
    for field in ("start", "end", "duration", "requested_at"):
        e = invalid(lambda: policy.check_schedule(request(**{field: long}), now=NOW))
        assert e.field == f"request.{field}"
        # (the core quotes at most a few hundred characters itself; the bindings cut what is
        # still longer, ending with "more characters)")
        assert len(str(e)) < 1_200, str(e)[-100:]
    e = invalid(lambda: changegate.ChangeRequest.from_text(f"id: x\nstart: {long}\n"))
    assert len(str(e)) < 1_200
    for special in (float("nan"), float("inf"), -float("inf")):
        e = invalid(lambda: policy.check_schedule(request(labels={"f": special}), now=NOW))
        assert e.field == "request.labels.f"
    e = invalid(lambda: policy.check_schedule(request(labels={"n": 10**5000}), now=NOW))
    assert e.field == "request.labels.n"
    # A long key in a path is cut short in the message.
    e = invalid(lambda: policy.check_schedule(request(labels={long: nested_dicts(DEEP)}), now=NOW))
    assert e.field is not None and len(e.field) < 1_000
    assert len(str(e)) < 2_000


# --- many threads at once -----------------------------------------------------------------


def test_many_threads(policy: changegate.PolicySet, expected: dict[str, Any]) -> None:
    recursive: dict[str, Any] = {}
    recursive["r"] = recursive
    deep = nested_dicts(DEEP)
    calendar = changegate.Calendar(deployments=[request(id="dep-9")])
    start = threading.Barrier(8)

    def work(n: int) -> list[str]:
        start.wait(timeout=60)
        seen: list[str] = []
        for i in range(30):
            kind = (n + i) % 4
            if kind == 0:
                d = policy.check_schedule(request(), now=NOW)
                assert d.to_dict() == expected
                seen.append("ok")
            elif kind == 1:
                e = invalid(lambda: policy.check_schedule(request(labels=recursive), now=NOW))
                assert e.field == "request.labels.r"
                seen.append("cycle")
            elif kind == 2:
                e = invalid(lambda: changegate.Calendar.from_dict({"deployments": [deep]}))
                assert "64 levels" in str(e)
                seen.append("deep")
            else:
                ds = policy.check_schedule_many([request(), request(id="dep-3")], calendar=calendar, now=NOW)
                assert len(ds) == 2
                seen.append("many")
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert sum(len(r) for r in results) == 8 * 30
    assert {k for r in results for k in r} == {"ok", "cycle", "deep", "many"}


def test_threads_with_a_shared_mutating_input(policy: changegate.PolicySet) -> None:
    # Every thread converts the same dict while a datetime in it mutates it.
    shared = request()
    lock = threading.Lock()

    class Mutating(dt.datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            with lock:
                shared["labels"] = {"n": len(shared)}
            return super().isoformat(sep, timespec)

    shared["start"] = Mutating(2026, 12, 1, 21, 0, tzinfo=UTC)

    def work(_: int) -> None:
        for _ in range(20):
            outcome(lambda: policy.check_schedule(shared, now=NOW))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(work, range(6)))


# --- a panic inside changegate --------------------------------------------------------------


def test_a_panic_in_a_check_is_an_exception_not_a_panic_exception() -> None:
    # `sleep(1.0e300)` panicked inside the host (issue 8, item 1). Until the core turns it
    # into a `policy_error` deny, the panic guard raises InternalError; afterwards the
    # decision denies. Either way `except Exception` sees it, and the next call works.
    bundle = changegate.PolicySet.from_files(
        {
            "policy.yaml": "timezone: UTC\nenvironments:\n  production: {}\n",
            "sleepy.rhai": "fn schedule(request) { sleep(1.0e300); }\n",
            "other.rhai": 'fn schedule(request) { warn("other", "still here"); }\n',
        },
        label="panic",
    )
    for call in (
        lambda: bundle.check_schedule(request(), now=NOW),
        lambda: bundle.check_schedule_many([request(), request(id="dep-2")], now=NOW),
    ):
        result = outcome(call)
        if isinstance(result, Exception):
            assert isinstance(result, InternalError), result
            assert "internal error in changegate" in str(result)
        else:
            decisions = result if isinstance(result, list) else [result]
            for d in decisions:
                assert isinstance(d, changegate.Decision)
                assert d.allowed is False
    plain = changegate.PolicySet.builtin().check_schedule(request(), now=NOW)
    assert isinstance(plain, changegate.Decision)


def test_a_thread_with_a_small_stack(policy: changegate.PolicySet) -> None:
    # The conversion's depth limit keeps its stack use small: a 256 KiB thread reads a request
    # 64 levels deep and refuses a 100 000-deep one.
    results: list[object] = []

    def work() -> None:
        results.append(outcome(lambda: policy.check_schedule(request(labels=nested_dicts(63)), now=NOW)))
        results.append(outcome(lambda: policy.check_schedule(request(labels=nested_dicts(DEEP)), now=NOW)))
        recursive: dict[str, Any] = {}
        recursive["r"] = [recursive]
        results.append(outcome(lambda: changegate.Calendar.from_dict({"deployments": [request(labels=recursive)]})))

    old = threading.stack_size(256 * 1024)
    try:
        thread = threading.Thread(target=work)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    assert isinstance(results[0], changegate.Decision)
    assert isinstance(results[1], InvalidInputError) and "64 levels" in str(results[1])
    assert isinstance(results[2], InvalidInputError)
    assert results[2].field == "calendar.deployments[0].labels.r[0]"
