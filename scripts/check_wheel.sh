#!/usr/bin/env bash
# The README's deployment, from the built wheel and nothing else of the checkout (CONTRACT.md,
# "A non-editable install works"): build the wheel, install it into a fresh virtualenv in a
# temporary folder, then for Passport and AYNI_SERVIDOR run `db upgrade` on a fresh database
# and `serve` on a free port, and fetch their pages. Called by `make test` (and so by CI).
#
# PostgreSQL when TEST_DATABASE_URL names one (its server gets two fresh databases, dropped at
# the end); SQLite files in the temporary folder otherwise. Every step has a time limit; the
# servers, databases and folder are removed on success and on failure alike.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${CHECK_WHEEL_PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/passport-wheel.XXXXXX")"
VENV="$WORK/venv"
PIDS=()
DATABASES=()
SERVER_URL=""

say() { echo "check_wheel: $*"; }

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  for database in "${DATABASES[@]}"; do
    psql "$SERVER_URL" -qXc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] && { say "--- last lines of $(basename "$log")"; tail -n 15 "$log"; }
    done
    say "FAILED"
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# fresh_database NAME VARIABLE: VARIABLE names a new database, on TEST_DATABASE_URL's server or
# a SQLite file. (Not called as $(...): the database must be recorded in this shell to be dropped.)
fresh_database() {
  if [[ "${TEST_DATABASE_URL:-}" == postgresql* ]]; then
    local database="wheel_check_${1}_$$"
    DATABASES+=("$database")
    psql "$SERVER_URL" -qXc "CREATE DATABASE \"$database\"" >/dev/null
    printf -v "$2" '%s' "$("$PYTHON" -c 'import sys, urllib.parse as u
print(u.urlsplit(sys.argv[1])._replace(path="/" + sys.argv[2]).geturl())' \
      "$TEST_DATABASE_URL" "$database")"
  else
    printf -v "$2" '%s' "sqlite:///$WORK/$1.db"
  fi
  export "${2?}"
}

# fetch URL TEXT [ACCEPT-LANGUAGE]: the body must contain TEXT.
fetch() {
  local body
  body="$(curl --silent --show-error --fail --max-time 10 \
    -H "Accept-Language: ${3:-es}" "$1")"
  if [[ "$body" != *"$2"* ]]; then
    say "$1 does not contain $2"
    return 1
  fi
  say "ok: $1 contains $2"
}

# wait_until_up NAME PID URL: up to 60 s for the server to answer.
wait_until_up() {
  for _ in $(seq 1 120); do
    if curl --silent --fail --max-time 2 -o /dev/null "$3"; then
      return 0
    fi
    kill -0 "$2" 2>/dev/null || { say "$1 exited before answering"; return 1; }
    sleep 0.5
  done
  say "$1 did not answer $3 within 60 s"
  return 1
}

# migrate_and_serve APP PORT URL: `APP db upgrade`, then `APP serve` until URL answers.
migrate_and_serve() {
  timeout 120 "$VENV/bin/$1" db upgrade >"$WORK/$1-upgrade.log" 2>&1
  say "ok: $1 db upgrade"
  "$VENV/bin/$1" serve --port "$2" >"$WORK/$1-serve.log" 2>&1 &
  PIDS+=("$!")
  wait_until_up "$1" "$!" "$3"
}

if [[ "${TEST_DATABASE_URL:-}" == postgresql* ]]; then
  # libpq's URL: the server of TEST_DATABASE_URL, its maintenance database.
  SERVER_URL="$("$PYTHON" -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(p._replace(scheme="postgresql", path="/postgres").geturl())' \
    "$TEST_DATABASE_URL")"
fi

say "building the wheel"
timeout 300 "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$ROOT" \
  >"$WORK/build.log" 2>&1
say "installing it into a fresh virtualenv in $WORK"
timeout 60 "$PYTHON" -m venv "$VENV"
timeout 600 "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "$WORK"/dist/*.whl >"$WORK/install.log" 2>&1

# From here on nothing of the checkout is importable: another folder, no PYTHONPATH.
cd "$WORK"
unset PYTHONPATH
export -n TEST_DATABASE_URL 2>/dev/null || true
"$VENV/bin/python" - "$VENV" <<'PY'
import importlib.metadata
import importlib.util
import sys

venv = sys.argv[1]
for name in ("passport", "relying_party_demo", "minedu_sso"):
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, f"the wheel does not install {name}"
    assert spec.origin.startswith(venv), f"{name} comes from {spec.origin}, not the wheel"
top_level = importlib.metadata.distribution("passport").read_text("top_level.txt").split()
assert sorted(top_level) == ["minedu_sso", "passport", "relying_party_demo"], top_level
assert importlib.util.find_spec("config") is None, "the wheel installs a package named config"
PY
say "ok: the packages come from the wheel; top-level names minedu_sso, passport, relying_party_demo"

PASSPORT_PORT="$(free_port)"
export PASSPORT_ISSUER="http://127.0.0.1:$PASSPORT_PORT"
fresh_database passport PASSPORT_DATABASE_URL
migrate_and_serve passport "$PASSPORT_PORT" "$PASSPORT_ISSUER/healthz"
fetch "$PASSPORT_ISSUER/ingresar" 'name="username"'
fetch "$PASSPORT_ISSUER/ingresar" '<label for="username">Username</label>' en  # translations
curl --silent --show-error --fail --max-time 10 "$PASSPORT_ISSUER/.well-known/openid-configuration" |
  "$VENV/bin/python" -c 'import json, sys; assert json.load(sys.stdin)["issuer"] == sys.argv[1]' \
    "$PASSPORT_ISSUER"
say "ok: discovery names the issuer $PASSPORT_ISSUER"
fetch "$PASSPORT_ISSUER/static/passport.css" '{'

AYNI_PORT="$(free_port)"
export AYNI_ISSUER="$PASSPORT_ISSUER"
export AYNI_BASE_URL="http://127.0.0.1:$AYNI_PORT"
fresh_database ayni AYNI_DATABASE_URL
migrate_and_serve ayni "$AYNI_PORT" "$AYNI_BASE_URL/"
fetch "$AYNI_BASE_URL/" 'Plataforma de Servicios para el Servidor Público'
fetch "$AYNI_BASE_URL/static/ayni.css" '{'
say "passed"
