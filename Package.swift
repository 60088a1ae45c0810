// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "krylov",
  products: [
    .executable(name: "krylov", targets: ["krylov"]),
    .library(name: "KrylovEngine", targets: ["KrylovEngine"]),
    .library(name: "KrylovForecaster", targets: ["KrylovForecaster"]),
    .library(name: "KrylovTUI", targets: ["KrylovTUI"]),
    .library(name: "KrylovExplorer", targets: ["KrylovExplorer"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // Generic elementary functions, so every layer is written once for Float and Double.
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
    // Exact rational arithmetic in the tests only: the independent check of the Lanczos engine.
    .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
  ],
  targets: [
    // System libraries.
    .systemLibrary(
      name: "CNcursesw",
      pkgConfig: "ncursesw",
      providers: [.apt(["libncurses-dev"])]
    ),
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),

    // A software prefetch for the sparse product (C: Swift cannot spell one).
    .target(name: "CPrefetch"),

    // The physics engine: no UI, no ML.
    .target(
      name: "KrylovEngine",
      dependencies: ["COpenBLAS", "CPrefetch"]
    ),

    // The transformer: layers, training, checkpoints, rollout, attention and ablation.
    // Knows nothing of spin chains: it sees sequences of numbers.
    .target(
      name: "KrylovForecaster",
      dependencies: ["COpenBLAS", .product(name: "RealModule", package: "swift-numerics")],
      resources: [.copy("Resources/default-model.safetensors"), .copy("Resources/classical-model.safetensors")]
    ),

    // Forecasts beside their baselines and the truth: shared by the CLI and the explorer.
    .target(name: "KrylovAnalysis", dependencies: ["KrylovEngine", "KrylovForecaster"]),

    // The terminal UI core: cell buffer, widgets, themes. No ncurses, no engine.
    .target(name: "KrylovTUI"),

    // The command-line front end.
    // The explorer: state, panes, jobs and the ncurses run loop (one file talks to ncurses).
    .target(
      name: "KrylovExplorer",
      dependencies: ["KrylovEngine", "KrylovForecaster", "KrylovAnalysis", "KrylovTUI", "CNcursesw"]
    ),

    .executableTarget(
      name: "krylov",
      dependencies: [
        "KrylovEngine",
        "KrylovForecaster",
        "KrylovAnalysis",
        "KrylovExplorer",
        "KrylovTUI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // Test support shared by the test targets: the seeded input mutator of the fuzz tests.
    .target(name: "KrylovTestSupport", path: "Tests/KrylovTestSupport"),

    .testTarget(
      name: "KrylovEngineTests",
      dependencies: [
        "KrylovEngine",
        "KrylovTestSupport",
        "COpenBLAS",
        .product(name: "BigInt", package: "BigInt"),
      ]
    ),
    .testTarget(
      name: "KrylovForecasterTests",
      dependencies: ["KrylovForecaster", "KrylovTestSupport"]
    ),
    .testTarget(
      name: "KrylovAnalysisTests",
      dependencies: ["KrylovAnalysis", "KrylovEngine", "KrylovForecaster"]
    ),
    .testTarget(
      name: "KrylovExplorerTests",
      dependencies: ["KrylovExplorer", "KrylovEngine", "KrylovForecaster", "KrylovAnalysis", "KrylovTUI"]
    ),
    .testTarget(
      name: "KrylovTUITests",
      dependencies: ["KrylovTUI", "KrylovEngine", "KrylovTestSupport"]
    ),
    .testTarget(
      name: "KrylovCLITests",
      dependencies: ["krylov"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
