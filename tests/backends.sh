#!/usr/bin/env bash
# Runs the command given (the end-to-end tests) against PostgreSQL and Redis, when both answer
# on this machine. DATABASE_URL and REDIS_URL may be set to point elsewhere.
set -euo pipefail
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
if ! "$1" - <<'PY'
import os, sys, psycopg, redis
try:
    psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=3).close()
    redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3).ping()
except Exception as exc:
    print(f"PostgreSQL/Redis not reachable ({exc}); the end-to-end tests ran on the embedded defaults only.")
    sys.exit(1)
PY
then
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  exit 0
fi
echo "== end-to-end tests on PostgreSQL ($DATABASE_URL) and Redis ($REDIS_URL)"
exec "$@"
