#!/bin/sh
# Follows one profile's config on the local HTTP endpoint of `hotswap agent`
# and prints each new version as it arrives: a long-poll with If-None-Match,
# so a request returns at once when the agent has a config this script has not
# seen, and otherwise waits up to 60 s for one (304 when none came).
#
#   hotswap agent --service orders --environment STAGING --listen 127.0.0.1:8181 ...
#   ./long-poll.sh orders-staging                 # or AGENT=http://127.0.0.1:9000 ./long-poll.sh …
#
# Needs curl and a POSIX shell. Replace the printf with what your service does.
set -eu

profile=${1:?usage: long-poll.sh PROFILE}
agent=${AGENT:-http://127.0.0.1:8181}
etag=''
headers=$(mktemp) body=$(mktemp)
trap 'rm -f "$headers" "$body"' EXIT

while :; do
  # --max-time above the wait: the agent answers 304 when the wait ends.
  code=$(curl -sS --max-time 70 -o "$body" -D "$headers" -w '%{http_code}' \
    ${etag:+-H "If-None-Match: $etag"} "$agent/configs/$profile?wait=60") || code=000
  case $code in
    200)
      etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$headers" | tr -d '\r')
      version=$(sed -n 's/^[Xx]-[Hh]ot[Ss]wap-[Vv]ersion: *//p' "$headers" | tr -d '\r')
      printf '%s version %s: %s\n' "$profile" "$version" "$(cat "$body")"
      ;;
    304) ;;                         # the wait ended with nothing new: ask again
    404) ;;                         # no config for this profile yet (the agent waited for one): ask again
    000) echo "agent not reachable at $agent; retrying" >&2; sleep 2 ;;
    *) echo "agent answered $code: $(cat "$body")" >&2; sleep 2 ;;
  esac
done
