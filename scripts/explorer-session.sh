# Sourced by the explorer's terminal tests (e2e-explorer.sh, soak-explorer.sh): a private tmux
# server, so a test neither sees nor disturbs the user's sessions; a scratch directory; both
# removed on exit; and `fail`, which shows the screen. Set `name` before sourcing.
session="krylov-$name-$$"
out="$(mktemp -d)"
tmux() { command tmux -L "$session" "$@"; }
trap 'tmux kill-server 2>/dev/null || true; rm -rf "$out"' EXIT
fail() { echo "$name-explorer: FAIL: $*" >&2; tmux capture-pane -t "$session" -p >&2 || true; exit 1; }
