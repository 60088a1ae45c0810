#!/usr/bin/env bash
# Reruns the documented command that made an embedded model and compares the weights it writes
# with the shipped file (docs/model-card.md records the expected SHA-256). It trains, so it is
# not part of `make test`: about 10 minutes of data and 25 of training on two cores.
#
#     scripts/reproduce-model.sh            # the default (size-aware) quantum model
#
# Training is deterministic for a seed on a given machine (a fixed work split over the cores,
# single-threaded BLAS); another processor or BLAS build may differ in the last bits, and then
# the weights differ while the model card's errors agree to their printed digits.
set -euo pipefail
cd "$(dirname "$0")/.."
KRYLOV=.build/release/krylov
[ -x "$KRYLOV" ] || swift build -c release
shipped=Sources/KrylovForecaster/Resources/default-model.safetensors
out="$(mktemp -d)/default-model.safetensors"
"$KRYLOV" dataset build --spec docs/datasets/default-train.json --out .data/train
"$KRYLOV" train --data .data/train --config docs/datasets/default-model.json --seed 1 --out "$out"
# The metadata records the training history (timings differ run to run): compare the tensors.
tensors() { python3 - "$1" <<'PY'
import hashlib, json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
h = hashlib.sha256()
for name in sorted(k for k in header if k != "__metadata__"):
    start, end = header[name]["data_offsets"]
    h.update(name.encode()); h.update(data[8 + n + start:8 + n + end])
print(h.hexdigest())
PY
}
expected="$(tensors "$shipped")"
got="$(tensors "$out")"
echo "shipped tensors:    $expected"
echo "reproduced tensors: $got"
if [ "$expected" = "$got" ]; then echo "reproduced: identical weights"; else echo "weights differ" >&2; exit 1; fi
