#!/bin/sh
# Copies seeds from tests/cases, tests/windows and examples into fuzz/corpus/<target>/.
set -eu
cd "$(dirname "$0")/.."
c=fuzz/corpus
mkdir -p $c/request $c/calendar $c/policy $c/script $c/ics $c/check $c/approvals
i=0
for f in examples/request*.yaml $(find tests/cases -name 'request*.yaml' -o -name '*.case.yaml' 2>/dev/null | head -200); do
  i=$((i+1)); cp "$f" "$c/request/seed-$i"
done
i=0
for f in examples/calendar.yaml $(find tests/cases -name 'calendar*.yaml' | head -200); do
  i=$((i+1)); cp "$f" "$c/calendar/seed-$i"
done
i=0
for f in policies/policy.yaml $(find tests/cases tests/windows -name 'policy.yaml'); do
  i=$((i+1)); cp "$f" "$c/policy/seed-$i"
  printf '%s\0%s\0%s' "$(cat "$f")" "$(cat examples/request.yaml)" "$(cat examples/calendar.yaml)" > "$c/check/seed-$i"
  printf '%s\0%s\0%s\0%s' "$(cat "$f")" "$(cat examples/request.yaml)" "$(cat examples/approvals.yaml)" "$(cat examples/directory.yaml)" > "$c/approvals/seed-$i"
done
i=0
for f in $(find policies tests/cases -name '*.rhai'); do
  i=$((i+1)); cp "$f" "$c/script/seed-$i"
done
i=0
for f in $(find tests examples -name '*.ics'); do
  i=$((i+1)); cp "$f" "$c/ics/seed-$i"
done
