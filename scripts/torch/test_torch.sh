#!/usr/bin/env bash
# The PyTorch trainer against krylov, on the CPU: a tiny dataset built by krylov, trained by
# scripts/torch/train.py, then used by krylov with no conversion.
#
#     scripts/torch/test_torch.sh .build/release/krylov
#
# Checks: the checkpoint loads in `krylov forecast`, and krylov's forecast equals PyTorch's own
# rollout to 1e-4 (relative) on a finite chain, the infinite chain and with the size withheld;
# `krylov calibrate` bands it on exactly the validation systems the PyTorch run held out; the
# explorer (`krylov render`) runs on it; PyTorch reads krylov's embedded checkpoint (the same
# forecast) and continues training from it; `krylov train` continues from PyTorch's checkpoint;
# scripts/slurm/train.sbatch trains and calibrates; SIGTERM mid-training still writes a loadable
# checkpoint and exits 130; bad input is refused.
# Creates .venv-torch/ first if needed (scripts/torch/setup-env.sh). Ends "N passed, M failed".
set -euo pipefail

KRYLOV="${1:?usage: $0 path/to/krylov}"
[ -x "$KRYLOV" ] || { echo "test_torch: $KRYLOV is not an executable krylov binary" >&2; exit 2; }
KRYLOV="$(cd "$(dirname "$KRYLOV")" && pwd)/$(basename "$KRYLOV")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="$("$HERE/setup-env.sh")"
EMBEDDED="$ROOT/Sources/KrylovForecaster/Resources/default-model.safetensors"
TOLERANCE=1e-4
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
passed=0
failed=0
ok() { printf '%-58s ok    %s\n' "$1" "${2:-}"; passed=$((passed + 1)); }
fail() { printf '%-58s FAIL  %s\n' "$1" "${2:-}"; failed=$((failed + 1)); }

# compare LABEL MODEL FILE PREFIX HORIZON [krylov options]: krylov forecast against PyTorch's rollout.
compare() {
  local label="$1" model="$2" file="$3" prefix="$4" horizon="$5" tag
  shift 5
  tag="$(echo "$label" | tr -c 'A-Za-z0-9' '_')"
  if ! "$KRYLOV" forecast --input "$file" --prefix "$prefix" --horizon "$horizon" --model "$model" \
    --format json -o "$tag.json" "$@" 2>"$tag.err"; then
    fail "$label" "krylov forecast failed: $(tail -n 1 "$tag.err")"
    return
  fi
  if ! "$PY" "$HERE/model.py" "$model" --prefix-file "$file" --prefix "$prefix" --horizon "$horizon" "$@" \
    >"$tag.txt" 2>"$tag.err"; then
    fail "$label" "PyTorch rollout failed: $(tail -n 1 "$tag.err")"
    return
  fi
  local result
  if result="$(python3 "$ROOT/scripts/reference/compare_forecasts.py" "$tag.json" "$tag.txt" "$TOLERANCE")"; then
    ok "$label" "$result"
  else
    fail "$label" "$result"
  fi
}

# --- A tiny dataset, and a short PyTorch training run ---------------------------------------------
cat > spec.json <<'EOF'
{ "name": "torch-tiny", "seed": 5, "steps": 60,
  "groups": [ { "model": "mfim", "sizes": [6, 7], "operators": ["sz_total", "sx_total"], "samples": 3,
                "parameters": { "g": { "range": [-1.3, -0.8] } } },
              { "model": "tfim", "sizes": [6, 7], "operators": ["sz_total"], "samples": 2, "boundaries": ["obc"],
                "parameters": { "g": { "range": [0.6, 1.4] } } },
              { "model": "tfim", "sizes": ["inf"], "operators": ["sz_total"], "steps": 24,
                "parameters": { "g": { "values": [0.7, 1.1, 1.3] } } } ] }
EOF
cat > config.json <<'EOF'
{ "layers": 2, "heads": 2, "channels": 16, "steps": 60, "batchSize": 8, "sequenceLength": 64,
  "warmupSteps": 10, "evaluationInterval": 20, "rolloutPrefix": 20, "validationFraction": 0.3 }
EOF
"$KRYLOV" dataset build --spec spec.json --out data -q
if "$PY" "$HERE/train.py" --data data --out torch.safetensors --config config.json --device cpu --seed 3 \
  2>train.err && [ -s torch.safetensors ]; then
  ok "train.py writes a checkpoint" "$(grep -o 'validation rollout error [0-9.]*' train.err | tail -n 1)"
else
  fail "train.py writes a checkpoint" "$(tail -n 2 train.err)"
  echo "$passed passed, $failed failed"
  exit 1
fi

finite="$(python3 -c 'import json; m = json.load(open("data/manifest.json")); print(next(e["file"] for e in m["entries"] if e["size"] == "7" and e["boundary"] == "pbc"))')"
open="$(python3 -c 'import json; m = json.load(open("data/manifest.json")); print(next(e["file"] for e in m["entries"] if e["boundary"] == "obc"))')"
infinite="$(python3 -c 'import json; m = json.load(open("data/manifest.json")); print(next(e["file"] for e in m["entries"] if e["size"] == "inf"))')"
compare "krylov forecast = PyTorch rollout, N = 7 pbc" torch.safetensors "data/$finite" 20 60
compare "krylov forecast = PyTorch rollout, N = 7 obc" torch.safetensors "data/$open" 20 60
compare "krylov forecast = PyTorch rollout, N = ∞" torch.safetensors "data/$infinite" 12 40
# A plain CSV carries no system: the size is unknown unless the options tell it.
python3 -c 'import json, sys; print("n,b_n"); [print(f"{n},{b!r}") for n, b in enumerate(json.load(open(sys.argv[1]))["b"], 1)]' \
  "data/$finite" > plain.csv
compare "krylov forecast = PyTorch rollout, size unknown" torch.safetensors plain.csv 20 60
compare "krylov forecast = PyTorch rollout, told N = 12 obc" torch.safetensors plain.csv 20 90 --n 12 --bc obc

# --- krylov calibrate bands it on the systems the PyTorch run held out ------------------------------
if "$KRYLOV" calibrate --data data --model torch.safetensors --out banded.safetensors 2>calibrate.err; then
  held="$(python3 - <<'EOF'
import json, struct
data = open("torch.safetensors", "rb").read()
(n,) = struct.unpack("<Q", data[:8])
record = json.loads(json.loads(data[8:8 + n])["__metadata__"]["training"])
print(len(record["validation_systems"]))
EOF
  )"
  used="$(sed -n 's/.*calibrated on \([0-9]*\) validation sequences.*/\1/p' calibrate.err)"
  if [ -n "$used" ] && [ "$used" = "$held" ] && [ "$held" -gt 0 ]; then
    ok "calibrate uses PyTorch's validation systems" "$used of $held"
  else
    fail "calibrate uses PyTorch's validation systems" "calibrated on '${used:-?}', PyTorch held out $held"
  fi
  if "$KRYLOV" forecast --input "data/$finite" --prefix 20 --horizon 60 --model banded.safetensors --format json 2>/dev/null |
    python3 -c 'import json, sys; b = json.load(sys.stdin)["band"]; sys.exit(0 if b and len(b["lower"]) == 40 else 1)'; then
    ok "the calibrated checkpoint forecasts with a band"
  else
    fail "the calibrated checkpoint forecasts with a band"
  fi
else
  fail "krylov calibrate on PyTorch's checkpoint" "$(tail -n 1 calibrate.err)"
fi

# --- The explorer on it ---------------------------------------------------------------------------
if "$KRYLOV" render --checkpoint torch.safetensors --n 6 --steps 60 --width 120 --height 34 >frame.txt 2>render.err &&
  grep -q 'model: torch.safetensors' frame.txt && grep -q 'transformer' frame.txt; then
  ok "the explorer forecasts with it (krylov render)"
else
  fail "the explorer forecasts with it (krylov render)" "$(tail -n 1 render.err)"
fi

# --- Both directions of continued training --------------------------------------------------------
compare "PyTorch reads krylov's embedded model" "$EMBEDDED" "data/$finite" 30 60
if "$PY" "$HERE/train.py" --data data --out continued.safetensors --initial-weights "$EMBEDDED" --steps 20 \
  --eval-every 10 --batch-size 4 --device cpu -q 2>continue.err &&
  "$KRYLOV" forecast --input "data/$finite" --prefix 30 --horizon 60 --model continued.safetensors >/dev/null 2>&1; then
  ok "PyTorch continues krylov's model; krylov loads it"
else
  fail "PyTorch continues krylov's model; krylov loads it" "$(tail -n 1 continue.err)"
fi
if "$KRYLOV" train --data data --out swift.safetensors --initial-weights torch.safetensors --steps 5 --eval-every 5 \
  -q 2>swift.err && [ -s swift.safetensors ]; then
  ok "krylov train continues PyTorch's model"
else
  fail "krylov train continues PyTorch's model" "$(tail -n 1 swift.err)"
fi

# --- The Slurm GPU job's script, run as a plain script (its #SBATCH lines are comments) ----------
if KRYLOV="$KRYLOV" KRYLOV_ROOT="$ROOT" KRYLOV_TORCH_PYTHON="$PY" "$ROOT/scripts/slurm/train.sbatch" data job.safetensors \
  --config config.json --steps 20 --device cpu -q >job.out 2>&1 &&
  "$KRYLOV" forecast --input "data/$finite" --prefix 20 --horizon 40 --model job.safetensors --format json 2>/dev/null |
  python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["band"] else 1)'; then
  ok "train.sbatch trains and calibrates (band present)"
else
  fail "train.sbatch trains and calibrates (band present)" "$(tail -n 1 job.out)"
fi

# --- A signal keeps the best weights; bad input is refused ----------------------------------------
"$PY" "$HERE/train.py" --data data --out signalled.safetensors --config config.json --steps 100000 --eval-every 5 \
  --device cpu -q 2>signal.err &
pid=$!
for _ in $(seq 1 100); do [ -s signalled.safetensors ] && break; sleep 0.1; done
kill -TERM "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
if [ "$status" -eq 130 ] && "$KRYLOV" forecast --input "data/$finite" --prefix 20 --horizon 40 \
  --model signalled.safetensors >/dev/null 2>&1; then
  ok "SIGTERM: exit 130, the checkpoint loads"
else
  fail "SIGTERM: exit 130, the checkpoint loads" "exit $status; $(tail -n 1 signal.err)"
fi
expect_refusal() {  # LABEL PATTERN ARGS...: train.py must exit 1 with a message matching PATTERN.
  local label="$1" pattern="$2" status=0
  shift 2
  "$PY" "$HERE/train.py" "$@" >refusal.out 2>refusal.err || status=$?
  if [ "$status" -eq 1 ] && grep -q "$pattern" refusal.err && [ ! -e refused.safetensors ]; then
    ok "$label" "$(head -n 1 refusal.err | cut -c 1-70)"
  else
    fail "$label" "exit $status: $(head -n 1 refusal.err)"
  fi
}
expect_refusal "refuses a directory without a dataset" "no readable dataset manifest" \
  --data "$TMP/nowhere" --out refused.safetensors
echo '{"steps": 0}' > bad.json
expect_refusal "refuses a setting out of range" "steps must be" --data data --out refused.safetensors --config bad.json
echo '{"stepz": 10}' > typo.json
expect_refusal "refuses an unknown setting" "unknown setting" --data data --out refused.safetensors --config typo.json
printf 'not a checkpoint' > junk.safetensors
expect_refusal "refuses a corrupt initial checkpoint" "initial-weights" \
  --data data --out refused.safetensors --initial-weights junk.safetensors
if ! "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  expect_refusal "refuses --device cuda without a GPU" "no CUDA device" \
    --data data --out refused.safetensors --device cuda
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
