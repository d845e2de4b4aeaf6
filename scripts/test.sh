#!/usr/bin/env bash
# `npm test`: type-check, the rules of the house (floors and cycles by dependency-cruiser, ESLint
# with zero warnings), then the whole suite (scripts/run-tests.mjs stops and resumes a run that
# stalls, and reports where it stalled).
set -u
cd "$(dirname "$0")/.."
node_modules/.bin/tsc -p tsconfig.test.json || exit 1
node_modules/.bin/depcruise src --config .dependency-cruiser.cjs || exit 1
node_modules/.bin/eslint src --max-warnings 0 || exit 1
exec node scripts/run-tests.mjs "$@"
