"""How fast is `changegate` from Python, against the same rules written in plain Python?

    .venv/bin/python bindings/python/benches/bench_schedule.py [--deployments 10000]

Baseline: the default bundle's schedule rules for production (advance notice, maximum duration,
the weekly and yearly blackouts in Europe/Berlin via zoneinfo, one-off calendar blackouts, the
preferred window, conflicts, concurrency, dependencies, and the three scripts: change ticket,
emergency incident, team overlap) written the way a team would without changegate: a list of
dicts and loops over it. Both sides get the same calendar (deterministic, 10 deployments a day
on 200 services) and the same requests; the script first checks that they agree on every
outcome and rule, then times:

- single: `policy.check_schedule(request_dict, calendar=..., now=...)`, one call per request;
- parsed: the same with `ChangeRequest` objects read once;
- batch: `policy.check_schedule_many(requests, ...)`, one call for all;
- rust: the same check looped inside Rust (`PolicySet._check_repeat`), the floor without Python;
- python: the plain-Python rules.

Figures are the best of `--repeat` runs (the machines are noisy); the ratios are what to quote.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import time
from typing import Any, Callable
from zoneinfo import ZoneInfo

import changegate

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
BASE = dt.datetime(2026, 1, 5, 0, 0, tzinfo=BERLIN)
PER_DAY = 10
NOW = dt.datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

# --- inputs --------------------------------------------------------------------------------


def make_calendar(n: int, rng: random.Random) -> list[dict[str, Any]]:
    span = max(1, n // PER_DAY) * 24 * 60
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"dep-{i}",
                "services": [f"svc-{rng.randrange(200)}"],
                "environment": "production",
                "type": "feature",
                "start": BASE + dt.timedelta(minutes=rng.randrange(span)),
                "duration": dt.timedelta(minutes=30 + rng.randrange(210)),
                "labels": {"team": f"team-{rng.randrange(40)}"},
            }
        )
    return out


def make_requests(n: int, deployments: int, rng: random.Random) -> list[dict[str, Any]]:
    span_days = max(1, deployments // PER_DAY)
    kinds = ["feature", "feature", "feature", "hotfix", "emergency"]
    out = []
    for i in range(n):
        day = rng.randrange(span_days)
        start = BASE + dt.timedelta(days=day, hours=rng.choice([1, 10, 15, 22, 23]))
        labels: dict[str, Any] = {"team": f"team-{rng.randrange(40)}"}
        if rng.random() < 0.7:
            labels["ticket"] = f"CHG-{rng.randrange(10000)}"
        if rng.random() < 0.5:
            labels["incident"] = f"INC-{rng.randrange(100)}"
        services = [f"svc-{rng.randrange(200)}"]
        if rng.random() < 0.2:
            services.append(rng.choice(["payments", "checkout", "search"]))
        out.append(
            {
                "id": f"req-{i}",
                "services": services,
                "environment": "production",
                "type": rng.choice(kinds),
                "start": start,
                "duration": dt.timedelta(minutes=rng.choice([30, 60, 120, 240, 600])),
                "requested_at": start - dt.timedelta(hours=rng.choice([2, 30, 100])),
                "depends_on": [f"dep-{rng.randrange(deployments)}"] if rng.random() < 0.3 else [],
                "labels": labels,
            }
        )
    return out


# --- the same rules in plain Python ---------------------------------------------------------

CRITICAL = {"payments", "checkout", "auth", "identity"}


class PlainPython:
    """The default bundle's production rules over a list of deployments, without an index."""

    def __init__(self, deployments: list[dict[str, Any]], blackouts: list[dict[str, Any]]):
        self.deployments = [
            dict(d, start=d["start"].astimezone(UTC), end=(d["start"] + d["duration"]).astimezone(UTC))
            for d in deployments
        ]
        self.blackouts = blackouts

    @staticmethod
    def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)

    def weekly_blackout(self, s: dt.datetime, e: dt.datetime) -> bool:
        """Fri 16:00 to Mon 06:00, Europe/Berlin."""
        day = s.astimezone(BERLIN).date() - dt.timedelta(days=7)
        last = e.astimezone(BERLIN).date()
        while day <= last:
            if day.weekday() == 4:
                start = self.local(day, 16)
                end = self.local(day + dt.timedelta(days=3), 6)
                if start < e and end > s:
                    return True
            day += dt.timedelta(days=1)
        return False

    def yearly_blackout(self, s: dt.datetime, e: dt.datetime) -> bool:
        """Dec 20 00:00 to Jan 3 00:00, Europe/Berlin."""
        for year in range(s.astimezone(BERLIN).year - 1, e.astimezone(BERLIN).year + 1):
            start = self.local(dt.date(year, 12, 20), 0)
            end = self.local(dt.date(year + 1, 1, 3), 0)
            if start < e and end > s:
                return True
        return False

    def in_preferred_window(self, s: dt.datetime, e: dt.datetime) -> bool:
        """Covered by Mon-Thu 22:00 to 06:00 the next day, Europe/Berlin."""
        windows = []
        day = s.astimezone(BERLIN).date() - dt.timedelta(days=1)
        last = e.astimezone(BERLIN).date()
        while day <= last:
            if day.weekday() < 4:
                windows.append((self.local(day, 22), self.local(day + dt.timedelta(days=1), 6)))
            day += dt.timedelta(days=1)
        covered = s
        for ws, we in sorted(windows):
            if ws <= covered < we:
                covered = we
            if covered >= e:
                return True
        return covered >= e

    def check(self, r: dict[str, Any], now: dt.datetime) -> tuple[str, list[tuple[str, str]]]:
        findings: list[tuple[str, str]] = []
        kind = r["type"]
        s = r["start"].astimezone(UTC)
        e = s + r["duration"]
        if kind not in ("hotfix", "emergency"):
            asked = r.get("requested_at") or now
            if s - asked < dt.timedelta(hours=24):
                findings.append(("advance_notice", "deny"))
        if r["duration"] > dt.timedelta(hours=8):
            findings.append(("max_duration", "deny"))
        if self.yearly_blackout(s, e):
            findings.append(("blackout", "deny"))
        if kind != "emergency" and self.weekly_blackout(s, e):
            findings.append(("blackout", "deny"))
        for b in self.blackouts:
            if b["from"] < e and b["to"] > s:
                findings.append(("blackout", "deny"))
        if not self.in_preferred_window(s, e):
            findings.append(("preferred_window", "warn"))
        conflicts = [
            d["id"]
            for d in self.deployments
            if d["environment"] == r["environment"]
            and d["id"] != r["id"]
            and d["start"] < e
            and d["end"] > s
            and any(x in d["services"] for x in r["services"])
        ]
        if conflicts:
            findings.append(("conflict", "deny"))
        running = [
            d
            for d in self.deployments
            if d["environment"] == r["environment"] and d["id"] != r["id"]
            and d["start"] < e and d["end"] > s
        ]
        if len(running) >= 3:
            events = []
            for d in running:
                events.append((max(d["start"], s), 1))
                events.append((min(d["end"], e), -1))
            events.sort()
            peak = count = 0
            for _, delta in events:
                count += delta
                peak = max(peak, count)
            if peak + 1 > 3:
                findings.append(("concurrency", "deny"))
        for dep in r.get("depends_on", []):
            found = None
            for d in self.deployments:
                if d["id"] == dep:
                    found = d
                    break
            if found is None or found["end"] > s:
                findings.append(("dependency", "deny"))
        labels = r.get("labels", {})
        # change_ticket.rhai, emergency_incident.rhai, team_overlap.rhai (in file-name order)
        if kind != "emergency" and any(x in CRITICAL for x in r["services"]):
            ticket = labels.get("ticket")
            if not (isinstance(ticket, str) and ticket.startswith("CHG-") and len(ticket) >= 5):
                findings.append(("change_ticket", "deny"))
        if kind == "emergency" and not labels.get("incident"):
            findings.append(("emergency_incident", "deny"))
        team = labels.get("team")
        if isinstance(team, str):
            same = [d["id"] for d in running if d["labels"].get("team") == team]
            if same:
                findings.append(("team_overlap", "warn"))
        severities = {sev for _, sev in findings}
        outcome = "deny" if "deny" in severities else "warn" if severities else "allow"
        return outcome, findings


# --- timing ----------------------------------------------------------------------------------


def best(repeat: int, f: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        f()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rng = random.Random(7)
    deployments = make_calendar(args.deployments, rng)
    requests = make_requests(args.requests, args.deployments, rng)
    blackouts = [
        {
            "name": "incident-review",
            "from": BASE + dt.timedelta(days=3, hours=9),
            "to": BASE + dt.timedelta(days=3, hours=18),
        }
    ]

    policy = changegate.PolicySet.builtin()
    started = time.perf_counter()
    calendar = changegate.Calendar(deployments=deployments, blackouts=blackouts)
    index_time = time.perf_counter() - started
    plain = PlainPython(deployments, blackouts)
    parsed = [changegate.ChangeRequest.from_dict(r) for r in requests]

    # The two must agree before their speed means anything.
    disagree = 0
    for r in requests:
        d = policy.check_schedule(r, calendar=calendar, now=NOW)
        outcome, findings = plain.check(r, NOW)
        if (d.outcome, sorted((f.rule, f.severity) for f in d.findings)) != (outcome, sorted(findings)):
            disagree += 1
    outcomes: dict[str, int] = {}
    for d in policy.check_schedule_many(requests, calendar=calendar, now=NOW):
        outcomes[d.outcome] = outcomes.get(d.outcome, 0) + 1

    n = len(requests)
    t_single = best(args.repeat, lambda: [policy.check_schedule(r, calendar=calendar, now=NOW) for r in requests]) / n
    t_parsed = best(args.repeat, lambda: [policy.check_schedule(r, calendar=calendar, now=NOW) for r in parsed]) / n
    t_batch = best(args.repeat, lambda: policy.check_schedule_many(requests, calendar=calendar, now=NOW)) / n
    t_batch_parsed = best(args.repeat, lambda: policy.check_schedule_many(parsed, calendar=calendar, now=NOW)) / n
    # The Rust floor: the check alone, timed inside Rust around each call (no conversion, no
    # GIL hand-off), over the same requests.
    t_rust = min(sum(policy._check_repeat(r, calendar, NOW, 1) for r in parsed) for _ in range(args.repeat)) / n
    t_plain = best(max(1, args.repeat // 2), lambda: [plain.check(r, NOW) for r in requests]) / n

    us = 1e6
    print(f"changegate {changegate.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"calendar: {args.deployments} deployments (indexed in {index_time * 1e3:.1f} ms), "
          f"{n} requests, outcomes {outcomes}, plain Python disagrees on {disagree}")
    print(f"{'':34} {'per call':>10} {'calls/s':>10} {'vs plain Python':>16}")
    rows = [
        ("plain Python (lists and loops)", t_plain),
        ("check_schedule(dict)", t_single),
        ("check_schedule(ChangeRequest)", t_parsed),
        ("check_schedule_many(dicts)", t_batch),
        ("check_schedule_many(ChangeRequests)", t_batch_parsed),
        ("Rust loop (_check_repeat)", t_rust),
    ]
    for name, t in rows:
        print(f"{name:34} {t * us:8.1f}us {1 / t:10.0f} {t_plain / t:15.1f}x")
    # The crossing alone: one parsed request checked over and over from Python, against the
    # same loop inside Rust (caches hot in both, so the difference is the binding's own cost).
    one = parsed[0]
    reps = 2000
    now_text = NOW.isoformat()
    t_hot_py = best(args.repeat, lambda: [policy.check_schedule(one, calendar=calendar, now=now_text) for _ in range(reps)]) / reps
    t_hot_rust = min(policy._check_repeat(one, calendar, NOW, reps) for _ in range(args.repeat)) / reps
    print(f"per-call overhead over the Rust API, same request in a loop: "
          f"{(t_hot_py - t_hot_rust) * us:.1f}us ({t_hot_py * us:.1f}us from Python, {t_hot_rust * us:.1f}us in Rust)")
    print(f"over the Rust loop, per request: {(t_parsed - t_rust) * us:+.1f}us with a ChangeRequest, "
          f"{(t_single - t_rust) * us:+.1f}us with a dict (reading it is most of that), "
          f"{(t_batch_parsed - t_rust) * us:+.1f}us in a batch of ChangeRequests")
    if disagree:
        raise SystemExit(f"plain Python and changegate disagree on {disagree} requests")


if __name__ == "__main__":
    main()
