# The two commands of the README, and the benchmarks.
.PHONY: deps run test build release bench clean

deps:
	@scripts/install-deps.sh

# The main job: a default Lanczos run (mfim, N = 8, sz_total, 200 steps).
run: deps release
	.build/release/krylov lanczos

test: deps
	swift test -c release

build: deps
	swift build

release: deps
	swift build -c release

# Engine benchmark (docs/benchmarks.md); the numpy baseline needs numpy and scipy.
bench: release
	.build/release/krylov bench --sizes 8 10 11 --steps 200
	python3 scripts/benchmarks/numpy_lanczos.py --sizes 8 10 11 --steps 200

clean:
	rm -rf .build
