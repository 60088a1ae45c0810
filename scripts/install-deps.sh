#!/usr/bin/env bash
# Installs the system libraries krylov builds against, if they are missing:
# OpenBLAS (BLAS and LAPACK), ncursesw, pkg-config to find them, tmux for the explorer's
# end-to-end test, ncurses-term for truecolor terminals, and numpy for the forecaster's
# reference test.
set -euo pipefail

missing=()
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1" 2>/dev/null; }
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
have_pc openblas || missing+=(libopenblas-dev)
have_pc ncursesw || missing+=(libncurses-dev)
# tmux drives the explorer's end-to-end test (scripts/e2e-explorer.sh).
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
# Direct-colour terminfo entries (xterm-direct, tmux-direct) for COLORTERM=truecolor terminals.
[ -e /usr/share/terminfo/x/xterm-direct ] || [ -e /lib/terminfo/x/xterm-direct ] || missing+=(ncurses-term)
# numpy runs the independent reference of the forecaster (scripts/reference/test_reference.sh):
# Debian's, unless some python3 on the PATH already has it.
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "krylov needs Swift 6 (swift on PATH); install it first." >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${missing[*]} (Debian names); install their equivalents." >&2
  exit 1
fi
echo "Installing ${missing[*]} ..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
