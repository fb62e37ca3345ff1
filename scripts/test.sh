#!/bin/sh
# Runs the test suite inside a network namespace that has only loopback, when the system
# allows one (unshare -rn and ip), so that no test can send a packet off the machine.
# Tests that name other addresses run only there; elsewhere they are reported as ignored.
set -eu
cd "$(dirname "$0")/.."
# Fetch npm dependencies while the network is still there.
deno cache main.ts tests/*.ts >/dev/null
if [ -z "${VEIL_TEST_ISOLATED:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
  unshare -rn true 2>/dev/null; then
  exec unshare -rn sh -c 'ip link set lo up && VEIL_TEST_ISOLATED=1 exec deno test --allow-all --parallel tests/ "$@"' sh "$@"
fi
echo "scripts/test.sh: no network namespace here; the isolated attack tests will be ignored" >&2
exec deno test --allow-all --parallel tests/ "$@"
