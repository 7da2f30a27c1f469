#!/usr/bin/env bash
# The reliability suite: kill -9 of the daemon mid-task, worker kills and stops, fuzzed
# protocol lines, broken files, a full disk (it pauses, no attempt lost), another uid, a
# forged worker, a command run as its submitter, 64 clients for N minutes, memory
# against history. Prints one summary line per check; exit 0 when all pass.
#
#   scripts/reliability.sh            # full: 10 min soak, 10,000-trial history (build -c release first)
#   scripts/reliability.sh --short    # 30 s soak
#   scripts/reliability.sh --smoke    # tiny sizes, seconds (what the test suite runs)
#   scripts/reliability.sh --only fuzz,soak --minutes 2 --bin .build-x/debug
#
# Needs python3 and sqlite3 (scripts/setup.sh); the disk-full check needs root (tmpfs mount).
# Results and how to read them: docs/RELIABILITY.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=/dev/null
source "$here/env.sh"
exec python3 "$here/reliability.py" "$@"
