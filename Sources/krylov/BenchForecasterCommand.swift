import ArgumentParser
import Foundation
import KrylovEngine
import KrylovForecaster

struct BenchForecasterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-forecaster",
    abstract: "Measure the forecaster: training throughput, rollout and ablation latency.",
    discussion: """
      Training: forward, backward, gradient clipping and an AdamW update of the given \
      configuration on (B, T) synthetic windows, all cores; reported as positions (B·T) per \
      second, the unit scripts/benchmarks/torch_train.py reports for PyTorch. Rollout: the \
      embedded model (or --model) continuing a 30-value prefix to M = 230 (200 new values), \
      with and without an ablation (one head off and a 16-position window). Median of the runs.
      """
  )

  @Option(help: "Training steps timed (after two untimed ones).")
  var steps: Int = 20

  @Option(help: "Batch size B.")
  var batchSize: Int = 16

  @Option(help: "Sequence length T.")
  var sequenceLength: Int = 320

  @Option(help: "Rollouts timed.")
  var rollouts: Int = 20

  @OptionGroup var modelOptions: ModelOptions

  func validate() throws {
    try requireRange("--steps", steps, 1...100_000)
    try requireRange("--batch-size", batchSize, 1...4096)
    try requireRange("--sequence-length", sequenceLength, 2...Forecaster.maximumHorizon)
    try requireRange("--rollouts", rollouts, 1...100_000)
  }

  func run() throws {
    let config = ForecasterConfig()
    let B = batchSize
    let T = sequenceLength
    let times = ForecasterBenchmarks.trainingStepSeconds(config: config, B: B, T: T, steps: steps)
    let stepTime = median(times)
    print(
      String(
        format: "training: L=%d NH=%d C=%d B=%d T=%d, %d workers: %.1f ms/step, %.0f positions/s",
        config.layers, config.heads, config.channels, B, T, Parallelism.workers, stepTime * 1e3,
        Double(B * T) / stepTime))

    let forecaster = try modelOptions.load()
    let prefix = (1...30).map { n in 2 * Double(n).squareRoot() + 0.1 * Double(n) }
    let ablation = Ablation(disabledHeads: [HeadID(layer: 0, head: 0)], history: .window(16))
    for (label, a) in [("rollout", Ablation.none), ("ablated rollout", ablation)] {
      var t: [Double] = []
      for _ in 0..<rollouts {
        let start = DispatchTime.now()
        _ = try forecaster.forecast(prefix: prefix, horizon: 230, ablation: a)
        t.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
      }
      print(
        String(
          format: "%@: k=30 to M=230 (200 new values): median %.2f ms, min %.2f ms", label, median(t) * 1e3,
          (t.min() ?? .nan) * 1e3))
    }
  }

  private func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[s.count / 2]
  }
}
