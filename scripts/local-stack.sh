#!/usr/bin/env bash
# The local emulator stack (DESIGN.md §1 "Local stack"), on 127.0.0.1 only:
#
#   Pub/Sub emulator      :8085  Google's own (java)
#   OIDC + metadata       :8900  scripts/oidc-fixture.ts
#   MinIO (S3 + STS)      :9000  console :9001; trusts the fixture's tokens
#   fake-gcs-server       :4443  publishes notifications to the Pub/Sub emulator
#
#   bash scripts/local-stack.sh up|down|status|env
#
# LOCAL_STACK_PORT_OFFSET=N (default 0) runs a second, private stack: every port above
# shifted by N, its state (pid files, logs, env) under .local-stack-N/ instead of
# .local-stack/, and its env pointing at the shifted ports (the soak uses 20000).
#
# Every server runs in its own session/process group (setsid) with a pid file and a log
# under .local-stack/, so `down` kills whole groups and leaves no orphans. `up` is
# idempotent: running, healthy servers are left alone, stale pid files are cleared, and
# the topic, subscription, buckets and MinIO policy are (re)created only if missing.
# `up` writes .local-stack/env: KEY=value lines for the worker and the tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OFFSET="${LOCAL_STACK_PORT_OFFSET:-0}"
[[ "$OFFSET" =~ ^[0-9]+$ ]] && ((OFFSET <= 56000)) || { echo "local-stack: LOCAL_STACK_PORT_OFFSET must be an integer 0-56000, got '$OFFSET'" >&2; exit 2; }
if ((OFFSET == 0)); then STATE="$ROOT/.local-stack"; else STATE="$ROOT/.local-stack-$OFFSET"; fi
BIN="$ROOT/.tools/bin"
HOST=127.0.0.1

PROJECT=gcs2s3-local
TOPIC_ID=gcs2s3-notifications
SUBSCRIPTION_ID=gcs2s3-notifications
SOURCE_BUCKET=gcs2s3-source
DEST_BUCKET=gcs2s3-dest
AUDIENCE=gcs2s3-local # MinIO's OpenID client id = the `aud` the worker requests
MINIO_USER=minioadmin
MINIO_PASSWORD=minioadmin
MINIO_POLICY=gcs2s3-replicator
# MinIO's built-in KMS with one static key (MINIO_KMS_SECRET_KEY=NAME:BASE64_32_BYTES), for the
# SSE-S3/SSE-KMS tests. TEST-ONLY, NOT A SECRET: a local emulator key derived from a fixed
# string, so every run has the same key; never use it outside this stack.
MINIO_KMS_KEY_NAME=gcs2s3-local-key
MINIO_KMS_KEY="$MINIO_KMS_KEY_NAME:$(printf '%s' 'gcs2s3 local-stack test-only KMS key' | openssl dgst -sha256 -binary | base64)"
SERVICE_ACCOUNT_EMAIL=gcs2s3-worker@gcs2s3-local.iam.gserviceaccount.com

PUBSUB_PORT=$((8085 + OFFSET))
OIDC_PORT=$((8900 + OFFSET))
MINIO_PORT=$((9000 + OFFSET))
MINIO_CONSOLE_PORT=$((9001 + OFFSET))
GCS_PORT=$((4443 + OFFSET))
PUSH_PORT=$((8080 + OFFSET))
OIDC_URL="http://$HOST:$OIDC_PORT"
KEY_FILE="$STATE/oidc-key.json"

SERVICES=(pubsub oidc minio gcs) # start order; `down` goes in reverse

log() { echo "local-stack: $*" >&2; }
die() { log "$*"; exit 1; }

port_of() {
  case $1 in
    pubsub) echo $PUBSUB_PORT ;; oidc) echo $OIDC_PORT ;; minio) echo $MINIO_PORT ;; gcs) echo $GCS_PORT ;;
  esac
}
health_url_of() {
  case $1 in
    pubsub) echo "http://$HOST:$PUBSUB_PORT/" ;;
    oidc) echo "$OIDC_URL/.well-known/openid-configuration" ;;
    minio) echo "http://$HOST:$MINIO_PORT/minio/health/ready" ;;
    gcs) echo "http://$HOST:$GCS_PORT/_internal/healthcheck" ;;
  esac
}
# A string that the service's command line contains, so that a pid file pointing
# at a recycled pid is recognised as stale.
marker_of() {
  case $1 in
    pubsub) echo cloud-pubsub-emulator ;; oidc) echo oidc-fixture.ts ;; minio) echo "$BIN/minio" ;; gcs) echo "$BIN/fake-gcs-server" ;;
  esac
}

find_pubsub_emulator() {
  local c root
  for c in "${PUBSUB_EMULATOR_LAUNCHER:-}" /usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator; do
    if [[ -n "$c" && -x "$c" ]]; then echo "$c"; return 0; fi
  done
  # gcloud info takes about a second, so it is only asked when the usual place is empty.
  if command -v gcloud >/dev/null 2>&1; then
    root="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
    c="$root/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
    if [[ -n "$root" && -x "$c" ]]; then echo "$c"; return 0; fi
  fi
}

# Prints the pid of a running service we started, or fails (clearing a stale pid file).
running_pid() {
  local name=$1 pidfile="$STATE/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(marker_of "$name")"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pidfile"
  return 1
}

healthy() { curl -fsS -o /dev/null --max-time 2 "$(health_url_of "$1")" 2>/dev/null; }

port_busy() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' || echo "unknown process"; }

# start NAME ENV... -- CMD...: runs CMD in a new session, stdin from /dev/null,
# SIGHUP ignored, output to .local-stack/NAME.log; the pid (= process group id) goes
# to .local-stack/NAME.pid, written by the process itself right before exec.
start() {
  local name=$1; shift
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  local pidfile="$STATE/$name.pid"
  rm -f "$pidfile"
  (
    cd "$ROOT"
    exec 9>&- # the lock fd must not outlive this script
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
    exec env "${envs[@]}" setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
      >"$STATE/$name.log" 2>&1 </dev/null
  ) &
  disown $! 2>/dev/null || true
  local i
  for i in $(seq 50); do [[ -s "$pidfile" ]] && return 0; sleep 0.1; done
  die "$name did not start; see $STATE/$name.log"
}

# Waits until NAME answers its health URL; fails early if the process died.
wait_healthy() {
  local name=$1 timeout=${2:-60} deadline=$((SECONDS + ${2:-60}))
  until healthy "$name"; do
    if ! running_pid "$name" >/dev/null; then
      log "$name exited during startup; last lines of $STATE/$name.log:"
      tail -n 20 "$STATE/$name.log" >&2 || true
      exit 1
    fi
    ((SECONDS < deadline)) || die "$name not healthy after ${timeout}s ($(health_url_of "$name")); see $STATE/$name.log"
    sleep 0.25
  done
}

# Starts NAME unless it already runs; then waits for it to be healthy.
ensure() {
  local name=$1; shift
  if running_pid "$name" >/dev/null; then
    wait_healthy "$name" 60
    return 0
  fi
  local port
  port="$(port_of "$name")"
  port_busy "$port" && die "port $port ($name) is in use by another process ($(port_owner "$port")); stop it first"
  log "starting $name on $HOST:$port"
  "start_$name"
  wait_healthy "$name" 120
}

start_pubsub() {
  local launcher
  launcher="$(find_pubsub_emulator)"
  # The launcher gcloud runs, called directly: `gcloud beta emulators pubsub start`
  # would need the gcloud beta component, and its --data-dir only holds env.yaml
  # (the emulator keeps topics and messages in memory).
  start pubsub -- "$launcher" --host=$HOST --port=$PUBSUB_PORT
}

start_oidc() {
  start oidc NODE_NO_WARNINGS=1 -- node --import tsx "$ROOT/scripts/oidc-fixture.ts" \
    --host $HOST --port $OIDC_PORT --key-file "$KEY_FILE" --email "$SERVICE_ACCOUNT_EMAIL"
}

start_minio() {
  mkdir -p "$STATE/minio-data"
  # A role policy makes MinIO define one role, arn:minio:iam:::role/<base64url(sha1(client id))>,
  # whose sessions get that policy; the token must carry the client id in `aud` (or `azp`).
  start minio \
    MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD \
    MINIO_IDENTITY_OPENID_CONFIG_URL="$OIDC_URL/.well-known/openid-configuration" \
    MINIO_IDENTITY_OPENID_CLIENT_ID=$AUDIENCE \
    MINIO_IDENTITY_OPENID_ROLE_POLICY=$MINIO_POLICY \
    MINIO_IDENTITY_OPENID_DISPLAY_NAME="gcs2s3 local OIDC fixture" \
    MINIO_KMS_SECRET_KEY="$MINIO_KMS_KEY" \
    MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    -- "$BIN/minio" server "$STATE/minio-data" --address $HOST:$MINIO_PORT --console-address $HOST:$MINIO_CONSOLE_PORT
}

start_gcs() {
  # Events are published by the server's Go Pub/Sub client, which honours PUBSUB_EMULATOR_HOST.
  start gcs PUBSUB_EMULATOR_HOST=$HOST:$PUBSUB_PORT -- "$BIN/fake-gcs-server" \
    -scheme http -host $HOST -port $GCS_PORT -backend memory \
    -public-host $HOST:$GCS_PORT -external-url http://$HOST:$GCS_PORT \
    -event.pubsub-project-id $PROJECT -event.pubsub-topic $TOPIC_ID \
    -event.list finalize,delete,metadataUpdate,archive
}

# PUT/POST that treats 409 Already Exists as success. Args: what, curl args...
create_if_missing() {
  local what=$1; shift
  local out status
  out="$(mktemp)"
  status="$(curl -sS -o "$out" -w '%{http_code}' --max-time 10 "$@")" || status=000
  if [[ $status == 2?? || $status == 409 ]]; then rm -f "$out"; return 0; fi
  log "creating $what failed (HTTP $status): $(head -c 500 "$out")"
  rm -f "$out"
  return 1
}

provision_pubsub() {
  local base="http://$HOST:$PUBSUB_PORT/v1/projects/$PROJECT"
  create_if_missing "topic $TOPIC_ID" -X PUT "$base/topics/$TOPIC_ID" -H 'Content-Type: application/json' -d '{}' || exit 1
  create_if_missing "subscription $SUBSCRIPTION_ID" -X PUT "$base/subscriptions/$SUBSCRIPTION_ID" \
    -H 'Content-Type: application/json' \
    -d "{\"topic\":\"projects/$PROJECT/topics/$TOPIC_ID\",\"ackDeadlineSeconds\":60}" || exit 1
}

minio_curl() { curl -sS --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" -u "$MINIO_USER:$MINIO_PASSWORD" "$@"; }

provision_minio() {
  # Least privilege for the role: objects in gcs2s3-* buckets, no bucket administration.
  local policy body
  policy="$(
    cat <<'JSON'
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":["arn:aws:s3:::gcs2s3-*"]},
 {"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectAttributes","s3:PutObject","s3:DeleteObject","s3:AbortMultipartUpload","s3:ListMultipartUploadParts"],"Resource":["arn:aws:s3:::gcs2s3-*/*"]}]}
JSON
  )"
  body="$(mktemp)"
  printf '%s' "$policy" >"$body"
  # Right after /minio/health/ready the IAM subsystem may still be loading: retry.
  local deadline=$((SECONDS + 60)) status
  while :; do
    status="$(minio_curl -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$body" \
      -H "x-amz-content-sha256: $(sha256sum "$body" | cut -d' ' -f1)" \
      "http://$HOST:$MINIO_PORT/minio/admin/v3/add-canned-policy?name=$MINIO_POLICY")" || status=000
    [[ $status == 200 ]] && break
    ((SECONDS < deadline)) || { rm -f "$body"; die "could not create MinIO policy $MINIO_POLICY (HTTP $status)"; }
    sleep 0.5
  done
  rm -f "$body"
  status="$(minio_curl -o /dev/null -w '%{http_code}' -X PUT \
    -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "http://$HOST:$MINIO_PORT/$DEST_BUCKET")" || status=000
  # 409 BucketAlreadyOwnedByYou: it exists.
  [[ $status == 200 || $status == 409 ]] || die "could not create bucket $DEST_BUCKET in MinIO (HTTP $status)"
}

provision_gcs() {
  create_if_missing "bucket $SOURCE_BUCKET" -X POST "http://$HOST:$GCS_PORT/storage/v1/b?project=$PROJECT" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$SOURCE_BUCKET\"}" || exit 1
}

# The role ARN as MinIO prints it at startup ("IAM Roles: arn:minio:iam:::role/…"),
# falling back to MinIO's own derivation: base64url(sha1(client id)), no padding,
# with the server region (none configured here) in the ARN.
role_arn() {
  local printed computed
  printed="$(sed 's/\x1b\[[0-9;]*m//g' "$STATE/minio.log" | grep -o 'arn:minio:iam:[^ ]*:role/[A-Za-z0-9_-]*' | tail -n 1 || true)"
  computed="arn:minio:iam:::role/$(printf '%s' "$AUDIENCE" | openssl dgst -sha1 -binary | base64 | tr '+/' '-_' | tr -d '=')"
  if [[ -z "$printed" ]]; then
    log "warning: MinIO printed no IAM role, so its OpenID config may have failed; see $STATE/minio.log"
  elif [[ "$printed" != "$computed" ]]; then
    log "note: MinIO printed role $printed (expected $computed)"
  fi
  echo "${printed:-$computed}"
}

write_env() {
  local tmp="$STATE/env.tmp"
  cat >"$tmp" <<EOF
AWS_ROLE_ARN=$(role_arn)
AWS_REGION=us-east-1
S3_BUCKET=$DEST_BUCKET
ID_TOKEN_AUDIENCE=$AUDIENCE
AWS_ENDPOINT_URL_S3=http://$HOST:$MINIO_PORT
AWS_ENDPOINT_URL_STS=http://$HOST:$MINIO_PORT
S3_FORCE_PATH_STYLE=true
STORAGE_EMULATOR_HOST=http://$HOST:$GCS_PORT
PUBSUB_EMULATOR_HOST=$HOST:$PUBSUB_PORT
GCE_METADATA_HOST=$HOST:$OIDC_PORT
METADATA_SERVER_DETECTION=assume-present
GOOGLE_CLOUD_PROJECT=$PROJECT
PUBSUB_SUBSCRIPTION=projects/$PROJECT/subscriptions/$SUBSCRIPTION_ID
PUBSUB_TOPIC=projects/$PROJECT/topics/$TOPIC_ID
GCS_BUCKET=$SOURCE_BUCKET
MINIO_ROOT_USER=$MINIO_USER
MINIO_ROOT_PASSWORD=$MINIO_PASSWORD
MINIO_KMS_KEY_NAME=$MINIO_KMS_KEY_NAME
PUSH_AUDIENCE=http://$HOST:$PUSH_PORT/pubsub/push
PUSH_SERVICE_ACCOUNT=$SERVICE_ACCOUNT_EMAIL
PUSH_OIDC_ISSUER=$OIDC_URL
PUSH_JWKS_URL=$OIDC_URL/jwks
OIDC_FIXTURE_KEY_FILE=$KEY_FILE
EOF
  mv "$tmp" "$STATE/env"
}

check_tools() {
  local hint="run: bash scripts/install-tools.sh (or: npm run setup)"
  [[ -x "$BIN/minio" ]] || { log "missing .tools/bin/minio; $hint"; exit 2; }
  [[ -x "$BIN/fake-gcs-server" ]] || { log "missing .tools/bin/fake-gcs-server; $hint"; exit 2; }
  [[ -n "$(find_pubsub_emulator)" ]] || { log "missing the Pub/Sub emulator (apt-get install google-cloud-cli-pubsub-emulator); $hint"; exit 2; }
  command -v java >/dev/null 2>&1 || { log "missing java (apt-get install default-jre-headless); $hint"; exit 2; }
  [[ -d "$ROOT/node_modules/tsx" && -d "$ROOT/node_modules/jose" ]] || { log "missing node_modules (tsx, jose); run: npm ci"; exit 2; }
  local tool
  for tool in curl ss setsid openssl sha256sum; do
    command -v $tool >/dev/null 2>&1 || { log "missing $tool, needed by this script"; exit 2; }
  done
}

cmd_up() {
  check_tools
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "another local-stack.sh is running"
  local name all_up=true
  for name in "${SERVICES[@]}"; do running_pid "$name" >/dev/null && healthy "$name" || all_up=false; done

  ensure pubsub
  # The topic must exist before fake-gcs-server publishes to it.
  provision_pubsub
  ensure oidc
  ensure minio # reads the fixture's discovery document at startup
  provision_minio
  ensure gcs
  provision_gcs
  write_env
  if $all_up; then log "already up"; else log "up; variables in $STATE/env"; fi
}

stop_service() {
  local name=$1 pid i
  pid="$(running_pid "$name")" || return 0
  log "stopping $name (process group $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 -- "-$pid" 2>/dev/null; then
    log "$name ignored SIGTERM for 10s; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE/$name.pid"
}

cmd_down() {
  [[ -d "$STATE" ]] || { log "nothing to stop"; return 0; }
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "another local-stack.sh is running"
  local i name port
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[i]}"; done
  for name in "${SERVICES[@]}"; do
    port="$(port_of "$name")"
    for i in $(seq 50); do port_busy "$port" || break; sleep 0.1; done
    port_busy "$port" && log "warning: port $port ($name) is still in use by $(port_owner "$port")"
  done
  rm -f "$STATE/env"
  log "down"
}

cmd_status() {
  local name pid state all=0
  for name in "${SERVICES[@]}"; do
    if pid="$(running_pid "$name")"; then
      if healthy "$name"; then state="up (pid $pid)"; else state="running but not healthy (pid $pid)"; all=1; fi
    else
      state="down"; all=1
      port_busy "$(port_of "$name")" && state="down (port taken by $(port_owner "$(port_of "$name")"))"
    fi
    printf '%-7s %-16s %s\n' "$name" "$HOST:$(port_of "$name")" "$state"
  done
  [[ -f "$STATE/env" ]] && echo "env     $STATE/env"
  return $all
}

cmd_env() {
  [[ -f "$STATE/env" ]] || die "no $STATE/env; run: bash scripts/local-stack.sh up"
  cat "$STATE/env"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: bash scripts/local-stack.sh up|down|status|env" >&2; exit 2 ;;
esac
