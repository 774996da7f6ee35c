#!/usr/bin/env bash
# Stops a test instance started by scripts/postfix/start.sh DIR, and waits (10 s at most)
# for its master process to exit. Harmless if it is not running.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$(realpath -m "$1")
pidfile="$dir/queue/pid/master.pid"
[ -f "$dir/etc/main.cf" ] || exit 0
pid=$(tr -d ' \n' < "$pidfile" 2>/dev/null || true)
/usr/sbin/postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
if [ -n "$pid" ]; then
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || exit 0
    sleep 0.1
  done
  echo "postfix-stop: master $pid still running, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
fi
