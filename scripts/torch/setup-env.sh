#!/usr/bin/env bash
# Creates the PyTorch trainer's virtual environment, .venv-torch/ in the checkout (git-ignored),
# from scripts/torch/requirements.txt; never installs anything system-wide. Does nothing when
# the environment already imports torch and numpy. Prints the environment's python.
#
#     scripts/torch/setup-env.sh        # then: .venv-torch/bin/python scripts/torch/train.py --help
#
# On a cluster, run it once on a node that can reach PyPI (the login node); PyPI's torch wheel
# for Linux carries CUDA, so the same environment trains on GPU nodes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${KRYLOV_TORCH_VENV:-$ROOT/.venv-torch}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  echo "$VENV/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "setup-env: python3 is needed" >&2; exit 2; }
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "setup-env: python3 has no venv/ensurepip; installing Debian's python3-venv" >&2
  apt-get install -y -q python3-venv >&2
fi
echo "setup-env: creating $VENV with PyTorch from PyPI (a few GB, about a minute on a fast link)" >&2
# A failed install leaves no environment behind: the next run starts over.
trap 'rm -rf "$VENV"' ERR INT TERM
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/torch/requirements.txt" >&2
"$VENV/bin/python" -c 'import torch, numpy'
trap - ERR INT TERM
echo "$VENV/bin/python"
