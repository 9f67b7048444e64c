#!/usr/bin/env bash
# The whole suite: lint, then the tests on SQLite, on a throwaway PostgreSQL server, and the
# browser tests in Debian's Chromium. Prints one closing line with the totals.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
results=$(mktemp -d)
status=0

run() {  # name, env..., -- pytest args
  local name=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  echo "=== $name ==="
  env "${envs[@]}" $BIN/pytest -q --junitxml="$results/$name.xml" "$@"
  local code=$?
  # 5 = no tests collected: not a failure of the suite.
  if [ $code -ne 0 ] && [ $code -ne 5 ]; then status=1; fi
}

echo "=== ruff, import contracts ==="
$BIN/ruff check . || status=1
$BIN/lint-imports --no-cache || status=1
run sqlite JINDU_TEST_DB=sqlite -- -m "not browser"
# Schemathesis (jindu/tests/test_api_schemathesis.py, about a minute) runs on SQLite only: it
# tests the API against its schema, which does not depend on the database.
run postgres JINDU_TEST_DB=postgres -- -m "not browser and not schemathesis"
run browser JINDU_TEST_DB=sqlite JINDU_BROWSER_TESTS=1 -- -m browser

$BIN/python - "$results" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in pathlib.Path(sys.argv[1]).glob("*.xml"):
    for suite in ET.parse(f).getroot().iter("testsuite"):
        t, fl, e, s = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += t - fl - e - s; failed += fl + e; skipped += s
print(f"jindu: {passed} passed, {failed} failed, {skipped} skipped")
PY
rm -rf "$results"
exit $status
