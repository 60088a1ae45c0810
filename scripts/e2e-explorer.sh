#!/usr/bin/env bash
# End-to-end check of the explorer in a real terminal (tmux): it opens on the default model,
# computes, forecasts, reacts to keys, quits with q and with SIGTERM, and restores the terminal;
# a classical run gets its molecular-dynamics C(t); a chain larger than the model saw is flagged;
# a parameter nudge, the chart views, a pinned run, the truncation shade, the attention cursor,
# the export key, the saved view and the legends without colour.
set -euo pipefail
bin="${1:-.build/release/krylov}"
name=e2e
source "$(dirname "${BASH_SOURCE[0]}")/explorer-session.sh"

wait_for() {  # wait_for TEXT SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do
    tmux capture-pane -t "$session" -p | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  fail "did not see '$1' within $2 s"
}

quit_with_q() {  # quit_with_q STATUS_FILE WHAT: q ends the explorer, which must exit 0
  tmux send-keys -t "$session" q
  for _ in $(seq 1 150); do [ -s "$1" ] && break; sleep 0.1; done
  grep -q "EXIT=0" "$1" || fail "q did not quit $2"
}

# 1. Default launch, keys, quit with q.
tmux new-session -d -s "$session" -x 120 -y 36 "$bin --n 6 --steps 80; echo EXIT=\$? > $out/status; sleep 60"
wait_for "coefficients b_n" 20
wait_for "done (completed)" 60
wait_for "model: embedded default" 10
wait_for "b_n error" 60
tmux send-keys -t "$session" Tab Tab Tab Tab Space
wait_for "H0○" 10
wait_for "ablated " 30
tmux send-keys -t "$session" '?'
wait_for "start (or restart) the run" 10
tmux send-keys -t "$session" Escape q
for _ in $(seq 1 150); do [ -s "$out/status" ] && break; sleep 0.1; done
grep -q "EXIT=0" "$out/status" || fail "q did not exit with status 0"
tmux kill-session -t "$session"

# 2. Coefficients stream and grow; resizing works at any moment; SIGTERM ends the app.
tmux new-session -d -s "$session" -x 100 -y 30 "$bin --n 10 --steps 2000; echo EXIT=\$? > $out/status2; sleep 60"
wait_for " trusted" 30
count() { tmux capture-pane -t "$session" -p | grep -o '[0-9][0-9]* b_n, [0-9]* trusted' | head -1 | cut -d' ' -f1; }
first=$(count)
sleep 1.5
second=$(count)
[ -n "$first" ] && [ -n "$second" ] && [ "$second" -gt "$first" ] || fail "coefficients did not grow ($first, then $second)"
tmux resize-window -t "$session" -x 60 -y 15
wait_for "terminal too small" 10
tmux resize-window -t "$session" -x 110 -y 32
wait_for "coefficients b_n" 10
shell_pid=$(tmux display-message -p -t "$session" "#{pane_pid}")
pkill -TERM -P "$shell_pid" || fail "no explorer process to signal"
for _ in $(seq 1 150); do [ -s "$out/status2" ] && break; sleep 0.1; done
grep -q "EXIT=143" "$out/status2" || fail "SIGTERM did not end the explorer with status 143"

# 3. A terminal below the minimum size says so, and q still quits.
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 60 -y 15 "$bin --n 6 --steps 20; echo EXIT=\$? > $out/status3; sleep 60"
wait_for "terminal too small" 20
quit_with_q "$out/status3" "from the too-small screen"

# 4. A classical run forecasts with the classical model and is followed by its
#    molecular-dynamics C(t); m hides and shows it.
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 120 -y 36 "$bin --spins classical --n 6 --steps 8; echo EXIT=\$? > $out/status4; sleep 60"
wait_for "done (completed)" 60
wait_for "model: embedded classical" 10
wait_for "MD N=6 pbc, 20k ±2σ" 60
wait_for "MD vs computed" 10
tmux send-keys -t "$session" m
wait_for "MD hidden (m)" 10
tmux send-keys -t "$session" m q
for _ in $(seq 1 150); do [ -s "$out/status4" ] && break; sleep 0.1; done
grep -q "EXIT=0" "$out/status4" || fail "q did not quit the classical explorer"
# 5. A chain larger than any the model was trained on: the forecast is still made (told N),
#    and the status line says where it lies against the training sizes.
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 220 -y 40 "$bin --n 12 --steps 40; echo EXIT=\$? > $out/status5; sleep 60"
wait_for "done (completed)" 120
wait_for "⚠ N = 12" 60
quit_with_q "$out/status5" "the N = 12 explorer"

# 6. Colours: COLORTERM=truecolor under a 256-colour TERM sends the theme's RGB colours (nord's
#    background #2e3440 is 46;52;64), and without it the 256-colour palette only.
if [ -e /usr/share/terminfo/x/xterm-direct ] || [ -e /lib/terminfo/x/xterm-direct ]; then
  for colorterm in truecolor none; do
    tmux kill-session -t "$session"
    tmux new-session -d -s "$session" -x 120 -y 36 \
      "env TERM=xterm-256color COLORTERM=$colorterm $bin --n 6 --steps 40 --theme nord; echo EXIT=\$? > $out/status6; sleep 60"
    wait_for "done (completed)" 60
    rgb="$(tmux capture-pane -t "$session" -p -e | grep -c '48;2;46;52;64' || true)"
    if [ "$colorterm" = truecolor ]; then
      [ "$rgb" -gt 0 ] || fail "COLORTERM=truecolor: nord's background was not sent as RGB"
    else
      [ "$rgb" -eq 0 ] || fail "without COLORTERM the background was sent as RGB"
    fi
    rm -f "$out/status6"
    quit_with_q "$out/status6" "the COLORTERM=$colorterm explorer"
  done
else
  echo "e2e-explorer: no xterm-direct terminfo (Debian's ncurses-term); truecolor not checked" >&2
fi
# 7. Saved settings: the system and the theme of a session come back in the next one started
#    without options; a broken settings file is reported and ignored.
config="$out/config"
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 140 -y 40 \
  "env XDG_CONFIG_HOME=$config $bin --n 7 --steps 40 --theme nord; echo EXIT=\$? > $out/status7; sleep 60"
wait_for "done (completed)" 60
tmux send-keys -t "$session" v
wait_for "⠒⠒ b_n/n" 10
quit_with_q "$out/status7" "the first settings session"
[ -s "$config/krylov/settings.json" ] || fail "no settings file written at $config/krylov/settings.json"
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 140 -y 40 "env XDG_CONFIG_HOME=$config $bin; echo EXIT=\$? > $out/status8; sleep 60"
wait_for "N=7" 60
wait_for "steps     40" 10
wait_for "theme: nord" 30
wait_for "⠒⠒ b_n/n" 10
quit_with_q "$out/status8" "the second settings session"
echo '{broken' > "$config/krylov/settings.json"
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 140 -y 40 "env XDG_CONFIG_HOME=$config $bin --n 6 --steps 20; echo EXIT=\$? > $out/status9; sleep 60"
wait_for "saved settings ignored" 30
quit_with_q "$out/status9" "after a broken settings file"

# 8. Keys of a finished run: ←/→ nudge a parameter by a small step and back (its value kept);
#    v cycles b_n, b_n/n and log-log; C(t) and K(t) are shaded past the truncation; P pins the
#    run, which stays on the chart beside the next system's; J, K and Shift-← move the attention
#    cursor, whose weight the pane reads; e exports the run as JSON files that parse.
mkdir -p "$out/export"
binary="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"  # the session starts in the export directory
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 140 -y 45 -c "$out/export" \
  "env XDG_CONFIG_HOME=$out/config8 $binary --n 6 --steps 80; echo EXIT=\$? > $out/status10; sleep 60"
wait_for "done (completed)" 60
wait_for "b_n error" 60
tmux send-keys -t "$session" Down Down Right
wait_for "J         1.05" 10
wait_for "settings changed" 10
tmux send-keys -t "$session" Left
wait_for "J         1    " 10
tmux capture-pane -t "$session" -p | grep -qF "settings changed" && fail "a nudge undone still says the settings changed"
wait_for "truncated at M=80" 30
tmux send-keys -t "$session" v
wait_for "⠒⠒ b_n/n" 10
tmux send-keys -t "$session" v
wait_for "⠒⠒ b_n log-log" 10
tmux send-keys -t "$session" v P
wait_for "pinned mfim N=6" 10
tmux send-keys -t "$session" + s
wait_for ") N=7" 30
wait_for "n=1..79" 90
wait_for "⠒⠀ mfim N=6 pinned" 10
tmux send-keys -t "$session" Tab Tab Tab J
wait_for "q=30 k=30 w=" 30
tmux send-keys -t "$session" K
wait_for "q=29 k=29 w=" 10
tmux send-keys -t "$session" S-Left
wait_for "q=29 k=28 w=" 10
tmux send-keys -t "$session" e
wait_for "exported" 30
for kind in b forecast observables; do
  file="$(ls "$out/export"/krylov-export-*-"$kind".json 2>/dev/null | head -1)"
  [ -n "$file" ] || fail "e wrote no $kind file"
  jq -e . "$file" > /dev/null || fail "the exported $kind file is not JSON"
done
jq -e '.b | length == 80' "$out/export"/krylov-export-*-b.json > /dev/null || fail "the export holds no 80 b_n"
jq -e '.forecast | length > 0' "$out/export"/krylov-export-*-forecast.json > /dev/null || fail "the export holds no forecast"
jq -e '.t | length > 0' "$out/export"/krylov-export-*-observables.json > /dev/null || fail "the export holds no C(t)"
quit_with_q "$out/status10" "the keys session"

# 9. Without colour (NO_COLOR) every chart's legend shows its line's own glyphs.
tmux kill-session -t "$session"
tmux new-session -d -s "$session" -x 140 -y 45 \
  "env NO_COLOR=1 XDG_CONFIG_HOME=$out/config9 $bin --n 6 --steps 80; echo EXIT=\$? > $out/status11; sleep 60"
wait_for "b_n error" 60
for legend in "⠒⠒ b_n" "⠒⠂ transformer" "⠂⠂ fit" "⠂⠀ linear AR" "⠒⠒ C computed" "⠒⠂ C transformer" "⠒⠒ K computed"; do
  wait_for "$legend" 10
done
quit_with_q "$out/status11" "the NO_COLOR explorer"
echo "e2e-explorer: ok"
