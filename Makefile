# The commands of the README (run, test, test-cluster, test-torch), the lint, and the benchmarks.
.PHONY: deps run lint test test-cluster test-torch torch-env build release bench bench-forecaster datasets model model-card model-card-scale \
  classical-train-data classical-eval-data classical-model model-card-classical clean

deps:
	@scripts/install-deps.sh

# The main job: the explorer on its default system (mfim, N = 10, sz_total) and the embedded model.
run: deps release
	.build/release/krylov

# `make lint`: swift-format's lint of Sources and Tests, strict (a finding fails), with the
# checked-in .swift-format (Tests/.swift-format for the tests: force unwraps and tries allowed).
lint:
	swift format lint --strict -r Sources Tests

# The lint, the unit and CLI tests, the forecaster against its numpy reference, then the explorer
# end to end in a real terminal (tmux) and a 45-second soak of it (SOAK_SECONDS=600 for the long form).
test: deps
	$(MAKE) lint
	swift test -c release
	scripts/reference/test_reference.sh .build/release/krylov
	scripts/e2e-explorer.sh .build/release/krylov
	scripts/soak-explorer.sh .build/release/krylov

# The sharded dataset build as a Slurm job array and its dependent merge, on a single-node Slurm
# started for the test (needs root; installs Debian's slurm and munge packages when missing).
test-cluster: release
	scripts/test-cluster.sh .build/release/krylov

# The PyTorch trainer (scripts/torch) against krylov, on the CPU. The first time, it creates
# .venv-torch/ in the checkout with PyTorch from PyPI (a few GB, about a minute).
test-torch: release torch-env
	scripts/torch/test_torch.sh .build/release/krylov

torch-env:
	@scripts/torch/setup-env.sh >/dev/null

build: deps
	swift build

release: deps
	swift build -c release

# Engine benchmark (docs/benchmarks.md); the numpy baseline needs numpy and scipy.
bench: release
	.build/release/krylov bench --sizes 8 10 11 --steps 200
	python3 scripts/benchmarks/numpy_lanczos.py --sizes 8 10 11 --steps 200

# The forecaster's datasets (computed by the engine; cached in .data/) and the embedded model.
datasets: release
	.build/release/krylov dataset build --spec docs/datasets/default-train.json --out .data/train
	.build/release/krylov dataset build --spec docs/datasets/default-eval.json --out .data/eval

model: datasets
	.build/release/krylov train --data .data/train --config docs/datasets/default-model.json --seed 1 \
	  --source-commit "$$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- Sources || echo +changes)" \
	  --out Sources/KrylovForecaster/Resources/default-model.safetensors

# The size-blind model shipped before size-aware models: the reference row of the model card.
.data/size-blind.safetensors:
	mkdir -p .data
	git show 5890f27:Sources/KrylovForecaster/Resources/default-model.safetensors > $@.partial
	mv $@.partial $@

# The tables of docs/model-card.md: finite chains (k = 30 → 200), then the infinite chain
# (k = 15 → 33, the exact coefficients the engine reaches in seconds).
model-card: datasets .data/size-blind.safetensors
	.build/release/krylov evaluate --data .data/eval --prefix 30 --horizon 200 \
	  --reference-model .data/size-blind.safetensors --format markdown
	.build/release/krylov evaluate --data .data/eval --prefix 15 --horizon 33 \
	  --reference-model .data/size-blind.safetensors --format markdown

# Sizes only the partial-reorthogonalization engine reaches (N = 13, 14): several minutes.
model-card-scale: release .data/size-blind.safetensors
	.build/release/krylov dataset build --spec docs/datasets/scale-eval.json --out .data/scale-eval
	.build/release/krylov evaluate --data .data/scale-eval --prefix 30 --horizon 200 \
	  --reference-model .data/size-blind.safetensors --format markdown

# Classical chains (infinite chain, 18 exact coefficients to train on, 20 to score): about half
# an hour for the training set and as long again for the held-out one, on two cores. The
# classical model is the default one fine-tuned on the training set (under a minute).
classical-train-data: release
	.build/release/krylov dataset build --spec docs/datasets/classical-train.json --out .data/classical-train

classical-eval-data: release
	.build/release/krylov dataset build --spec docs/datasets/classical-eval.json --out .data/classical-eval

classical-model: classical-train-data
	.build/release/krylov train --data .data/classical-train --config docs/datasets/classical-model.json --seed 1 \
	  --initial-weights default --out Sources/KrylovForecaster/Resources/classical-model.safetensors

model-card-classical: classical-eval-data
	.build/release/krylov evaluate --data .data/classical-eval --prefix 10 --horizon 20 --format markdown

# Forecaster benchmark, and the same training step in PyTorch on the CPU.
bench-forecaster: release torch-env
	.build/release/krylov bench-forecaster
	.venv-torch/bin/python scripts/benchmarks/torch_train.py --threads 2

clean:
	rm -rf .build
