#!/usr/bin/env bash
# Install the Debian packages vm-system needs, only those missing (idempotent).
#   scripts/install-system-deps.sh           # runtime: python3-venv, nodejs + npm (UI build),
#                                            # bubblewrap + util-linux (the exec sandbox)
#   scripts/install-system-deps.sh --test    # plus chromium (browser tests), git and python3
#                                            # (attacks of the security suite)
set -euo pipefail

want=()
need() { dpkg -s "$1" >/dev/null 2>&1 || command -v "${2:-$1}" >/dev/null 2>&1 || want+=("$1"); }

python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || want+=(python3-venv)
need nodejs node
need npm npm
need bubblewrap bwrap
need util-linux prlimit
if [ "${1:-}" = "--test" ]; then
    [ -x /usr/bin/chromium ] || want+=(chromium)
    need git git
    [ -x /usr/bin/python3 ] || want+=(python3)
fi
if [ ${#want[@]} -gt 0 ]; then
    echo "install-system-deps: installing ${want[*]}" >&2
    as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
fi
