#!/bin/sh
# A validate-then-reload hook for `hotswap agent --on-change`: the service
# checks the config the agent just wrote, and is told to reload only if it
# takes it — the `nginx -t && nginx -s reload` pattern.
#
#   hotswap agent --service orders --environment STAGING --file /config/orders.json \
#     --on-change '/opt/orders/reload-or-refuse.sh /run/orders/orders.pid'
#
# The agent runs it with HOTSWAP_PROFILE, HOTSWAP_VERSION and HOTSWAP_FILE set.
# Exit 0: applied. Exit non-zero: the agent puts the previous file back and
# acks the version as failed with the end of this script's stderr as the
# error, which is what the operator reads in the deployment's rollback reason.
set -eu
pid_file=${1:?usage: reload-or-refuse.sh PID_FILE}
here=$(dirname "$0")

# Refused: sighup-service.py --check has said why on stderr; exit 1 carries it to the ack.
python3 "$here/sighup-service.py" --check "$HOTSWAP_FILE" || exit 1
kill -HUP "$(cat "$pid_file")"
