import Foundation

/// One coefficient sequence to learn from, with the key that decides its split.
public struct TrainingSequence: Sendable {
  /// b_1, b_2, ... (trusted values only).
  public var values: [Double]
  /// Sequences sharing a group go to the same side of the validation split (the system without
  /// its size, so validation systems are unseen physics, not unseen windows).
  public var group: String
  public var label: String
  public init(values: [Double], group: String, label: String) {
    self.values = values
    self.group = group
    self.label = label
  }
}

/// Training hyperparameters.
public struct TrainingOptions: Codable, Sendable, Equatable {
  public var steps = 3000
  public var batchSize = 16
  /// Longest window fed (positions beyond it are not used).
  public var sequenceLength = 320
  public var learningRate = 1e-3
  public var warmupSteps = 100
  public var weightDecay = 0.01
  public var gradientClip = 1.0
  /// Relative Gaussian noise on the input values, so the model learns to recover from its own
  /// errors during rollout instead of only ever seeing true histories.
  public var inputNoise = 0.01
  public var validationFraction = 0.15
  public var evaluationInterval = 100
  /// Prefix and horizon of the rollout check on validation systems that picks the kept weights.
  public var rolloutPrefix = 30
  public var seed: UInt64 = 1
  public init() {}
}

/// A report emitted at every evaluation.
public struct TrainingProgress: Sendable {
  public var step: Int
  public var totalSteps: Int
  public var loss: Double
  public var validationLoss: Double
  /// Mean relative RMS error of rollouts from `rolloutPrefix` on validation systems.
  public var validationRolloutError: Double
  public var tokensPerSecond: Double
  public var learningRate: Double
  public var elapsedSeconds: Double
  public var isBest: Bool
}

/// The outcome of a run: the weights kept (best validation rollout) and the record.
public struct TrainingResult: Sendable {
  public var model: Transformer<Float>
  public var bestStep: Int
  public var bestRolloutError: Double
  public var history: [TrainingProgress]
  public var trainingSystems: [String]
  public var validationSystems: [String]
  public var cancelled: Bool
}

public struct TrainingError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Trains a transformer on coefficient sequences with AdamW, gradient clipping and a warm-up +
/// cosine schedule, on every core; keeps the weights with the lowest validation rollout error.
public final class Trainer {
  public let config: ForecasterConfig
  public let options: TrainingOptions
  public let training: [TrainingSequence]
  public let validation: [TrainingSequence]

  public init(config: ForecasterConfig, options: TrainingOptions, sequences: [TrainingSequence]) throws(TrainingError) {
    if let problem = config.problem { throw TrainingError(message: "invalid model configuration: \(problem)") }
    let minimum = config.scaleWindow + 2
    let usable = sequences.filter { $0.values.count >= minimum && $0.values.allSatisfy { $0 > 0 && $0.isFinite } }
    guard !usable.isEmpty else {
      throw TrainingError(message: "no sequence has the \(minimum) positive coefficients training needs")
    }
    // Split by group, seeded: a group is wholly in training or wholly in validation.
    var rng = RandomSource(seed: options.seed ^ 0xA5A5)
    var groups = Array(Set(usable.map(\.group))).sorted()
    groups.shuffle(using: &rng)
    let heldOut = groups.count < 2 ? 0 : max(1, Int((Double(groups.count) * options.validationFraction).rounded()))
    let validationGroups = Set(groups.prefix(heldOut))
    self.config = config
    self.options = options
    training = usable.filter { !validationGroups.contains($0.group) }
    validation = usable.filter { validationGroups.contains($0.group) }
    // The kept weights are chosen by rollouts from `rolloutPrefix` values: some sequence must be longer.
    let scored = validation.isEmpty ? training : validation
    guard options.rolloutPrefix >= config.scaleWindow, scored.contains(where: { $0.values.count > options.rolloutPrefix }) else {
      throw TrainingError(
        message: "no \(validation.isEmpty ? "training" : "validation") sequence is longer than the rollout prefix "
          + "(\(options.rolloutPrefix)), and it must be at least the scale window (\(config.scaleWindow)): "
          + "set rolloutPrefix in the configuration")
    }
  }

  /// Runs the training; `progress` is called at every evaluation, `isCancelled` polled every step.
  ///
  /// With `initial` weights (of the same configuration) training continues from them instead of
  /// a seeded initialization: fine-tuning a trained model on a related, smaller set of sequences.
  public func run(
    initial: Transformer<Float>? = nil,
    progress: (TrainingProgress) -> Void = { _ in }, isCancelled: () -> Bool = { false }
  ) -> TrainingResult {
    Parallelism.configure()
    let model = Transformer<Float>(config: config)
    if let initial {
      precondition(initial.config == config, "initial weights must have the trained configuration")
      _ = model.params.update(fromContentsOf: initial.params)
    } else {
      model.initialize(seed: options.seed)
    }
    let best = Transformer<Float>(config: config)
    _ = best.params.update(fromContentsOf: model.params)
    var optimizer = AdamW<Float>(count: model.layout.count, weightDecay: Float(options.weightDecay))
    let schedule = LearningRateSchedule(
      peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps)
    var rng = RandomSource(seed: options.seed)
    let B = options.batchSize
    let T = min(options.sequenceLength, (training.map(\.values.count).max() ?? 2) - 1)
    var targets = [Float](repeating: 0, count: B * T)
    var mask = [Float](repeating: 0, count: B * T)
    var history: [TrainingProgress] = []
    // Fine-tuning keeps the starting weights unless training improves on them.
    var bestError = initial == nil ? Double.infinity : rolloutError(model)
    var bestStep = 0
    var lossSum = 0.0
    var lossCount = 0
    var tokens = 0
    var clock = Date()
    let start = Date()
    var cancelled = false

    for step in 1...max(1, options.steps) {
      if isCancelled() {
        cancelled = true
        break
      }
      let inputs = model.inputBuffer(B: B, T: T)
      for b in 0..<B {
        let sequence = training[Int(rng.next() % UInt64(training.count))].values
        tokens += fillWindow(
          sequence, row: b, T: T, inputs: inputs.baseAddress!, targets: &targets, mask: &mask,
          noise: options.inputNoise, rng: &rng)
      }
      model.forward(B: B, T: T)
      let loss = targets.withUnsafeBufferPointer { y in
        mask.withUnsafeBufferPointer { m in model.loss(targets: y, mask: m) }
      }
      model.zeroGrad()
      model.backward()
      clipGradients(model.grads, maxNorm: Float(options.gradientClip))
      let lr = schedule.rate(at: step)
      optimizer.update(params: model.params, grads: model.grads, lr: Float(lr))
      lossSum += Double(loss)
      lossCount += 1

      if step % options.evaluationInterval == 0 || step == options.steps {
        let seconds = Date().timeIntervalSince(clock)
        let rate = Double(tokens) / max(seconds, 1e-9)
        let validationLoss = self.validationLoss(model)
        let rolloutError = self.rolloutError(model)
        let isBest = rolloutError < bestError
        if isBest {
          bestError = rolloutError
          bestStep = step
          _ = best.params.update(fromContentsOf: model.params)
        }
        let report = TrainingProgress(
          step: step, totalSteps: options.steps, loss: lossSum / Double(max(1, lossCount)),
          validationLoss: validationLoss, validationRolloutError: rolloutError, tokensPerSecond: rate,
          learningRate: lr, elapsedSeconds: Date().timeIntervalSince(start), isBest: isBest)
        history.append(report)
        progress(report)
        lossSum = 0
        lossCount = 0
        tokens = 0
        clock = Date()
      }
    }
    return TrainingResult(
      model: bestStep > 0 || initial != nil ? best : model, bestStep: bestStep, bestRolloutError: bestError, history: history,
      trainingSystems: training.map(\.label), validationSystems: validation.map(\.label), cancelled: cancelled)
  }

  /// Writes one sequence's window into batch row `row`; returns the number of scored positions.
  private func fillWindow(
    _ b: [Double], row: Int, T: Int, inputs: UnsafeMutablePointer<Float>, targets: inout [Float],
    mask: inout [Float], noise: Double, rng: inout RandomSource
  ) -> Int {
    let F = config.features
    let gain = config.stepGain
    let scale = SequenceEncoding.scale(of: b, window: config.scaleWindow)
    let length = min(T, b.count - 1)
    var previous: Double?
    var scored = 0
    for t in 0..<T {
      let i = row * T + t
      guard t < length else {
        for f in 0..<F { inputs[i * F + f] = 0 }
        targets[i] = 0
        mask[i] = 0
        continue
      }
      let clean = b[t] / scale
      let x = noise > 0 ? clean * (1 + noise * rng.gaussian()) : clean
      let features = SequenceEncoding.features(x: x, previous: previous, stepGain: gain)
      inputs[i * F] = Float(features.0)
      inputs[i * F + 1] = Float(features.1)
      inputs[i * F + 2] = Float(features.2)
      targets[i] = Float(gain * (b[t + 1] / scale - x))
      // Positions before the normalizing window is complete are never forecast from.
      let scoredHere = t >= config.scaleWindow - 1
      mask[i] = scoredHere ? 1 : 0
      if scoredHere { scored += 1 }
      previous = x
    }
    return scored
  }

  /// Teacher-forced loss on the validation sequences, without noise.
  public func validationLoss(_ model: Transformer<Float>) -> Double {
    guard !validation.isEmpty else { return .nan }
    let B = options.batchSize
    let T = min(options.sequenceLength, (validation.map(\.values.count).max() ?? 2) - 1)
    var targets = [Float](repeating: 0, count: B * T)
    var mask = [Float](repeating: 0, count: B * T)
    var rng = RandomSource(seed: 0)
    var total = 0.0
    var weight = 0.0
    let evaluator = Transformer<Float>(config: config)
    _ = evaluator.params.update(fromContentsOf: model.params)
    for start in stride(from: 0, to: validation.count, by: B) {
      let inputs = evaluator.inputBuffer(B: B, T: T)
      var count = 0
      for b in 0..<B {
        if start + b < validation.count {
          count += fillWindow(
            validation[start + b].values, row: b, T: T, inputs: inputs.baseAddress!, targets: &targets,
            mask: &mask, noise: 0, rng: &rng)
        } else {
          for t in 0..<T { mask[b * T + t] = 0 }
        }
      }
      evaluator.forward(B: B, T: T)
      let loss = targets.withUnsafeBufferPointer { y in
        mask.withUnsafeBufferPointer { m in evaluator.loss(targets: y, mask: m) }
      }
      total += Double(loss) * Double(count)
      weight += Double(count)
    }
    return weight > 0 ? total / weight : .nan
  }

  /// Mean relative RMS error of rollouts from the first `rolloutPrefix` values to each
  /// validation sequence's end (the quantity the forecaster is judged by).
  public func rolloutError(_ model: Transformer<Float>) -> Double {
    let set = validation.isEmpty ? training : validation
    let forecaster = Forecaster(model: model)
    var sum = 0.0
    var count = 0
    for sequence in set {
      let k = options.rolloutPrefix
      let M = min(sequence.values.count, k + options.sequenceLength)
      guard M > k, let f = try? forecaster.forecast(prefix: Array(sequence.values[0..<k]), horizon: M) else { continue }
      let truth = sequence.values[k..<M]
      var num = 0.0
      var den = 0.0
      for (p, q) in zip(f.values, truth) {
        num += (p - q) * (p - q)
        den += q * q
      }
      sum += (num / max(den, 1e-300)).squareRoot()
      count += 1
    }
    return count > 0 ? sum / Double(count) : .nan
  }
}
