#!/usr/bin/env bash
# Soak test of the explorer in a real terminal (tmux): for SECONDS seconds it changes the
# system and reruns it, switches heads off and on, asks for head rankings, cycles themes and
# resizes the terminal, every couple of seconds, while sampling the explorer's resident memory.
# It passes when the explorer is still alive, its settled RSS at the end (the smallest of 20
# samples a second apart once the actions stop, so work still in flight does not count) is
# within 10% (15% for runs under two minutes) of the most it held during the warm-up (a third of the run, at most a minute: every
# kind of action has run by then, and its worker threads and their allocator arenas exist), and
# q then exits 0 with the terminal restored.
#
#     scripts/soak-explorer.sh .build/release/krylov            # the short form make test runs (45 s)
#     SOAK_SECONDS=600 scripts/soak-explorer.sh .build/release/krylov   # the 10-minute form
#
# The RSS samples go to $SOAK_LOG when set (seconds, KiB per line).
set -euo pipefail
bin="${1:-.build/release/krylov}"
seconds="${SOAK_SECONDS:-45}"
name=soak
source "$(dirname "${BASH_SOURCE[0]}")/explorer-session.sh"
log="${SOAK_LOG:-$out/rss.log}"

tmux new-session -d -s "$session" -x 140 -y 40 "$bin --n 8 --steps 120; echo EXIT=\$? > $out/status; sleep 600"
shell_pid=$(tmux display-message -p -t "$session" "#{pane_pid}")
pid=""
for _ in $(seq 1 100); do
  pid=$(pgrep -P "$shell_pid" -f krylov | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || fail "the explorer did not start"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true; }
warmup=$(( seconds / 3 < 60 ? seconds / 3 : 60 ))
# The largest screen of the cycle first: its frame buffers are part of the working set from
# the warm-up on, so a later large resize is not mistaken for growth.
tmux resize-window -t "$session" -x 180 -y 50
start=$(date +%s)
: > "$log"
baseline=""
peak=""
step=0
while :; do
  now=$(( $(date +%s) - start ))
  [ "$now" -ge "$seconds" ] && break
  kill -0 "$pid" 2>/dev/null || fail "the explorer died after $now s"
  current=$(rss)
  echo "$now $current" >> "$log"
  # The warm-up's peak: a single sample could fall between two runs' allocations.
  if [ "$now" -lt "$warmup" ] && [ -n "$current" ] && { [ -z "$peak" ] || [ "$current" -gt "$peak" ]; }; then
    peak=$current
  fi
  if [ -z "$baseline" ] && [ "$now" -ge "$warmup" ]; then baseline=${peak:-$current}; fi
  # One action every ~2 s, in a fixed cycle: rerun with another size, toggle a head, rank the
  # heads, cycle the theme, resize.
  case $(( step % 6 )) in
    # The focus starts on the system pane and comes back to it after the five Tabs of 1.
    0) tmux send-keys -t "$session" '+' s ;;
    1) tmux send-keys -t "$session" Tab Tab Tab Tab Space r Tab ;;
    2) tmux send-keys -t "$session" g ;;
    3) tmux send-keys -t "$session" '-' s ;;
    4) tmux send-keys -t "$session" t ;;
    5) tmux resize-window -t "$session" -x $(( 100 + (step * 7) % 80 )) -y $(( 30 + (step * 3) % 20 )) ;;
  esac
  step=$(( step + 1 ))
  sleep 2
done
# Let the last actions' work finish (a run, a forecast, a head ranking hold memory while they
# run: a ranking, up to 15 MB for about 12 s) and take the settled RSS: the smallest of 20
# samples a second apart. A leak keeps it high; the memory of work still in flight does not
# count against the explorer.
final=""
for _ in $(seq 1 20); do
  sleep 1
  kill -0 "$pid" 2>/dev/null || fail "the explorer died while settling"
  current=$(rss)
  echo "$(( $(date +%s) - start )) $current" >> "$log"
  if [ -n "$current" ] && { [ -z "$final" ] || [ "$current" -lt "$final" ]; }; then final=$current; fi
done
[ -n "$baseline" ] && [ -n "$final" ] || fail "no RSS samples (baseline '$baseline', final '$final')"
# The RSS of a run with no leak wanders by about ±10% around its level (the 10-minute form,
# docs/benchmarks.md: 46–56 MiB from one minute on), and a 15 s warm-up can catch the low end
# of that band: the short form allows 15%, the 10-minute form, which is the strict one, 10%.
if [ "$seconds" -lt 120 ]; then allowance=15; else allowance=10; fi
limit=$(( baseline + baseline * allowance / 100 ))
echo "soak-explorer: $step actions in $seconds s; RSS peak in the warm-up ${baseline} KiB, at the end ${final} KiB (limit ${limit})"
[ "$final" -le "$limit" ] || fail "RSS grew from $baseline KiB to $final KiB"
tmux send-keys -t "$session" Escape q
for _ in $(seq 1 150); do [ -s "$out/status" ] && break; sleep 0.1; done
grep -q "EXIT=0" "$out/status" || fail "q did not exit with status 0"
echo "soak-explorer: ok"
