import Foundation

/// Timing loops that must run inside this module, where the generic layers are specialized
/// for `Float` (called from another module they would run unspecialized, several times slower).
public enum ForecasterBenchmarks {
  /// Seconds per training step (forward, loss, backward, clipping, AdamW) on synthetic (B, T)
  /// windows, for `steps` timed steps after two untimed ones.
  public static func trainingStepSeconds(config: ForecasterConfig, B: Int, T: Int, steps: Int) -> [Double] {
    Parallelism.configure()
    let model = Transformer<Float>(config: config)
    model.initialize(seed: 1)
    var optimizer = AdamW<Float>(count: model.layout.count)
    var rng = RandomSource(seed: 2)
    let targets = (0..<(B * T)).map { _ in Float(rng.gaussian()) }
    let mask = [Float](repeating: 1, count: B * T)
    let inputs = model.inputBuffer(B: B, T: T)
    for i in 0..<inputs.count { inputs[i] = Float(rng.gaussian()) }
    var times: [Double] = []
    for step in 0..<(steps + 2) {
      let start = DispatchTime.now()
      model.forward(B: B, T: T)
      _ = targets.withUnsafeBufferPointer { y in mask.withUnsafeBufferPointer { model.loss(targets: y, mask: $0) } }
      model.zeroGrad()
      model.backward()
      clipGradients(model.grads, maxNorm: 1)
      optimizer.update(params: model.params, grads: model.grads, lr: 1e-4)
      if step >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9) }
    }
    return times
  }
}
