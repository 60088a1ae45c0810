#!/usr/bin/env bash
# Checks `krylov forecast` against the numpy reference (scripts/reference/forecaster.py):
# for each model (the two embedded checkpoints, a tiny model trained here with system inputs,
# and a small random model of an unusual shape written by the reference itself) and, for a
# model that reads the system, for several contexts, the transformer's forecast must agree
# with the reference's to a relative difference of 1e-4 (the Swift model runs in float32).
#
#     scripts/reference/test_reference.sh .build/release/krylov
#
# TOLERANCE=1e-5 in the environment tightens the check. Needs python3 with numpy.
# Ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

KRYLOV="${1:?usage: $0 path/to/krylov}"
[ -x "$KRYLOV" ] || { echo "test_reference: $KRYLOV is not an executable krylov binary" >&2; exit 2; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
REFERENCE="$HERE/forecaster.py"
RESOURCES="$ROOT/Sources/KrylovForecaster/Resources"
TOLERANCE="${TOLERANCE:-1e-4}"  # relative; the agreement seen is ~1e-7
PREFIX=30
HORIZON=80

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  PY=/usr/bin/python3
elif python3 -c 'import numpy' 2>/dev/null; then
  PY=python3
else
  echo "test_reference: no python3 with numpy found" >&2
  exit 2
fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

fail_case() {  # fail_case LABEL MESSAGE
  printf '%-48s FAIL  %s\n' "$1" "$2"
  failed=$((failed + 1))
}

# compare LABEL SWIFT_JSON REFERENCE_TXT: the largest |a - b| / max(|a|, |b|) over the forecast.
compare() {
  local result
  if result="$("$PY" "$HERE/compare_forecasts.py" "$2" "$3" "$TOLERANCE")"; then
    printf '%-48s ok    %s\n' "$1" "$result"
    passed=$((passed + 1))
  else
    fail_case "$1" "$result"
  fi
}

# run_case LABEL MODEL INPUT PREFIX HORIZON [--n N [--bc B]]: krylov and the reference, compared.
# The reference is told the context the way krylov is: by the same options, or by the file.
run_case() {
  local label="$1" model="$2" input="$3" prefix="$4" horizon="$5"
  shift 5
  local tag
  tag="$(echo "$label" | tr -c 'A-Za-z0-9' '_')"
  if ! "$KRYLOV" forecast --input "$input" --prefix "$prefix" --horizon "$horizon" --model "$model" \
    --format json -o "$TMP/$tag.json" "$@" 2>"$TMP/$tag.err"; then
    fail_case "$label" "krylov forecast failed: $(tail -n 1 "$TMP/$tag.err")"
    return
  fi
  if ! "$PY" "$REFERENCE" "$model" --prefix-file "$input" --prefix "$prefix" --horizon "$horizon" "$@" \
    >"$TMP/$tag.txt" 2>"$TMP/$tag.err"; then
    fail_case "$label" "reference failed: $(tail -n 1 "$TMP/$tag.err")"
    return
  fi
  compare "$label" "$TMP/$tag.json" "$TMP/$tag.txt"
}

reads_system() {  # reads_system MODEL: prints 1 if the checkpoint's config has system inputs
  "$PY" - "$REFERENCE" "$1" <<'EOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("forecaster", sys.argv[1])
forecaster = importlib.util.module_from_spec(spec)
spec.loader.exec_module(forecaster)
config, _ = forecaster.load_checkpoint(sys.argv[2])
print(1 if config["systemInputs"] else 0)
EOF
}

# The sequence: mfim, N = 8, sz_total (b.json, with its system block) and the same values as a
# plain CSV of n,b_n rows (no system: the size is unknown unless --n says it).
"$KRYLOV" lanczos --n 8 --steps 80 --format json -o "$TMP/b.json" 2>/dev/null
"$PY" - "$TMP/b.json" "$TMP/b.csv" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
b = doc["b"][:doc.get("trusted") or len(doc["b"])]
with open(sys.argv[2], "w") as f:
    f.write("n,b_n\n" + "".join(f"{n},{v!r}\n" for n, v in enumerate(b, start=1)))
EOF

# A tiny model with system inputs, trained for a few steps on a tiny dataset.
cat >"$TMP/spec.json" <<'EOF'
{"name":"tiny","seed":3,"steps":60,"groups":[{"model":"mfim","sizes":[5,6],"operators":["sz_total"],
 "samples":3,"parameters":{"g":{"range":[-1.3,-0.8]}}}]}
EOF
cat >"$TMP/config.json" <<'EOF'
{"layers":1,"heads":2,"channels":8,"batchSize":4,"sequenceLength":60,"evaluationInterval":5,"warmupSteps":2}
EOF
"$KRYLOV" dataset build --spec "$TMP/spec.json" --out "$TMP/data" -q
"$KRYLOV" train --data "$TMP/data" --out "$TMP/tiny.safetensors" --config "$TMP/config.json" --steps 10 -q

# A random model of an unusual shape (three heads, so slopes 2^(-8/3)..., two layers, its own
# scale window and step gain), weights large enough that the system features matter.
"$PY" - "$REFERENCE" "$TMP/random.safetensors" <<'EOF'
import importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location("forecaster", sys.argv[1])
forecaster = importlib.util.module_from_spec(spec)
spec.loader.exec_module(forecaster)
config = {"layers": 2, "heads": 3, "channels": 12, "scaleWindow": 8, "stepGain": 3, "systemInputs": True}
rng = np.random.default_rng(7)
params = {}
for name, shape in forecaster.parameter_shapes(config).items():
    if name in ("ln1w", "ln2w", "lnfw"):
        params[name] = 1 + 0.2 * rng.standard_normal(shape)
    elif name.endswith("b"):
        params[name] = 0.05 * rng.standard_normal(shape)
    else:
        params[name] = 0.3 * rng.standard_normal(shape)
params["headw"] *= 0.2  # modest steps, so the rollout neither explodes nor sits at zero
forecaster.save_checkpoint(sys.argv[2], config, params)
EOF

models=(
  "default:$RESOURCES/default-model.safetensors"
  "classical:$RESOURCES/classical-model.safetensors"
  "tiny-trained:$TMP/tiny.safetensors"
  "random-3-heads:$TMP/random.safetensors"
)
for entry in "${models[@]}"; do
  name="${entry%%:*}"
  model="${entry#*:}"
  if [ "$(reads_system "$model")" = 1 ]; then
    run_case "$name, size unknown (csv)" "$model" "$TMP/b.csv" $PREFIX $HORIZON
    run_case "$name, --n 8" "$model" "$TMP/b.csv" $PREFIX $HORIZON --n 8
    run_case "$name, --n 8 --bc obc" "$model" "$TMP/b.csv" $PREFIX $HORIZON --n 8 --bc obc
    run_case "$name, --n inf" "$model" "$TMP/b.csv" $PREFIX $HORIZON --n inf
    run_case "$name, N = 8 pbc from the file (json)" "$model" "$TMP/b.json" $PREFIX $HORIZON
    # The comparison only tests the system path if the context changes the forecast.
    tag_unknown="$TMP/$(echo "$name, size unknown (csv)" | tr -c 'A-Za-z0-9' '_').txt"
    tag_n8="$TMP/$(echo "$name, --n 8" | tr -c 'A-Za-z0-9' '_').txt"
    if sensitivity="$("$PY" - "$tag_unknown" "$tag_n8" <<'EOF'
import sys
a = [float(x) for x in open(sys.argv[1])]
b = [float(x) for x in open(sys.argv[2])]
d = max(abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a, b))
print(f"unknown vs N = 8 differ by {d:.3e}")
sys.exit(0 if d > 1e-6 else 1)
EOF
    )"; then
      printf '%-48s ok    %s\n' "$name, context reaches the output" "$sensitivity"
      passed=$((passed + 1))
    else
      fail_case "$name, context reaches the output" "$sensitivity"
    fi
  else
    run_case "$name, size-blind (csv)" "$model" "$TMP/b.csv" $PREFIX $HORIZON
    run_case "$name, size-blind, --n 8 ignored" "$model" "$TMP/b.csv" $PREFIX $HORIZON --n 8
  fi
done
# The shortest prefix a model accepts (its scale window), over a longer horizon.
run_case "default, prefix 10 horizon 120" "$RESOURCES/default-model.safetensors" "$TMP/b.csv" 10 120
run_case "classical, prefix 10 horizon 40" "$RESOURCES/classical-model.safetensors" "$TMP/b.csv" 10 40

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
