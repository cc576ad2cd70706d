#!/usr/bin/env bash
# Drives the file-processing example over a batch of files:
#
#   run.sh FILE...          e.g.  run.sh a.csv b.csv c.csv
#
# For each file: `download` on the base queue (any host), then `process` and `upload` on the
# host queue that download returned, so all three run on the host that holds the file. A host
# step that fails (its host is gone: not started within START_TIMEOUT, or not finished within
# RUN_TIMEOUT) starts the file over from download, on whichever host takes it, at most
# MAX_TRIES times. Prints one line per file: `FILE ok HOST` or `FILE failed`; exits 1 if any
# file failed.
#
# Environment (defaults in brackets): TQD [tqd on PATH], TQD_SERVER and TQD_TOKEN (read by tqd),
# QUEUE [files], OUT_DIR [./uploaded], START_TIMEOUT [5s], RUN_TIMEOUT [1m], WAIT_TIMEOUT [10m],
# MAX_TRIES [5], PARALLEL [4] (files in flight at once). Needs bash 4.3+ and jq.
set -euo pipefail

TQD="${TQD:-tqd}"
QUEUE="${QUEUE:-files}"
OUT_DIR="${OUT_DIR:-$PWD/uploaded}"
START_TIMEOUT="${START_TIMEOUT:-5s}"
RUN_TIMEOUT="${RUN_TIMEOUT:-1m}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-10m}"
MAX_TRIES="${MAX_TRIES:-5}"
PARALLEL="${PARALLEL:-4}"

if [ "$#" -eq 0 ]; then
  echo "usage: run.sh FILE... (see the comment at the top)" >&2
  exit 2
fi

# One step: enqueue, wait, print the result JSON. Non-zero when the task did not complete.
step() {
  local queue=$1 type=$2 input=$3
  shift 3
  "$TQD" enqueue "$queue" "$type" "$input" --timeout-run "$RUN_TIMEOUT" --wait --timeout "$WAIT_TIMEOUT" "$@"
}

# Host steps are not retried in place: if the host is gone, the file starts over elsewhere.
host_step() {
  step "$@" --timeout-start "$START_TIMEOUT" --retries 0
}

process_file() {
  local file=$1 try result host_queue path
  for ((try = 1; try <= MAX_TRIES; try++)); do
    result=$(step "$QUEUE" download "$(jq -nc --arg name "$file" '{name: $name}')") || {
      echo "$file: download failed (try $try)" >&2
      continue
    }
    host_queue=$(jq -er .hostQueue <<<"$result") && path=$(jq -er .path <<<"$result") || continue
    result=$(host_step "$host_queue" process "$(jq -nc --arg path "$path" '{path: $path}')") || {
      echo "$file: process on $host_queue failed (try $try); starting over" >&2
      continue
    }
    path=$(jq -er .path <<<"$result") || continue
    result=$(host_step "$host_queue" upload "$(jq -nc --arg path "$path" --arg out "$OUT_DIR" '{path: $path, outDir: $out}')") || {
      echo "$file: upload on $host_queue failed (try $try); starting over" >&2
      continue
    }
    echo "$file ok $(jq -r .host <<<"$result")"
    return 0
  done
  echo "$file failed"
  return 1
}

failed=0
running=0
for file in "$@"; do
  if ((running >= PARALLEL)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
  process_file "$file" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
