#!/usr/bin/env bash
# `npm test`: type-check, then the whole suite (scripts/run-tests.mjs stops and resumes a run that
# stalls, and reports where it stalled).
set -u
cd "$(dirname "$0")/.."
node_modules/.bin/tsc -p tsconfig.test.json || exit 1
exec node scripts/run-tests.mjs "$@"
