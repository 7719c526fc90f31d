#!/usr/bin/env bash
# expect_error.sh REGEX COMMAND...: passes when COMMAND exits non-zero and prints
# exactly one line on stderr that matches REGEX (a clear one-line error).
set -u
regex=$1
shift
err=$("$@" 2>&1 >/dev/null)
status=$?
if [[ $status -eq 0 ]]; then
  echo "expected a non-zero exit from: $*" >&2
  exit 1
fi
lines=$(printf '%s\n' "$err" | grep -c .)
if [[ $lines -ne 1 ]]; then
  printf 'expected one line of error, got %s:\n%s\n' "$lines" "$err" >&2
  exit 1
fi
if ! grep -Eq -- "$regex" <<<"$err"; then
  printf 'error does not match /%s/:\n%s\n' "$regex" "$err" >&2
  exit 1
fi
echo "ok (exit $status): $err"
