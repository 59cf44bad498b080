#!/usr/bin/env bash
# The L4 proxy cases again with two workers (lcores on the bed's two CPUs):
# both sides of a proxied connection owned by the worker that accepted it,
# and the engine-wide state: connection limits, least connections, passive
# health seen by every worker.
set -uo pipefail
SL_WORKERS=2 bash "$(dirname "$0")/l4.sh" | sed -u 's/^ok - /ok - 2 workers: /; s/^not ok - /not ok - 2 workers: /'
exit "${PIPESTATUS[0]}"
