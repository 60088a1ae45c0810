import Foundation

/// One coefficient sequence to learn from, with the key that decides its split.
public struct TrainingSequence: Sendable {
  /// The coefficients b_n from n = 1 (trusted values only).
  public var values: [Double]
  /// Sequences sharing a group go to the same side of the validation split (the system without
  /// its size, so validation systems are unseen physics, not unseen windows).
  public var group: String
  public var label: String
  /// The chain's size and boundary, told to a model with system inputs.
  public var context: SystemContext
  public init(values: [Double], group: String, label: String, context: SystemContext = .unknown) {
    self.values = values
    self.group = group
    self.label = label
    self.context = context
  }

  /// The prefix a validation rollout starts from: `preferred`, but at most half the sequence
  /// (an infinite-chain sequence of 33 values is scored from 16), and at least `minimum`.
  func rolloutPrefix(preferred: Int, minimum: Int) -> Int {
    max(minimum, min(preferred, values.count / 2))
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
  /// Prefix of the rollout check on validation systems that picks the kept weights (at most
  /// half of each sequence).
  public var rolloutPrefix = 30
  /// Share of training windows whose system is withheld (fed as unknown), so the model also
  /// forecasts from the sequence alone.
  public var unknownSystemFraction = 0.25
  public var seed: UInt64 = 1
  public init() {}

  enum CodingKeys: String, CodingKey {
    case steps, batchSize, sequenceLength, learningRate, warmupSteps, weightDecay, gradientClip, inputNoise
    case validationFraction, evaluationInterval, rolloutPrefix, unknownSystemFraction, seed
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = TrainingOptions()
    steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
    batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
    sequenceLength = try c.decodeIfPresent(Int.self, forKey: .sequenceLength) ?? d.sequenceLength
    learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
    warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
    weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
    gradientClip = try c.decodeIfPresent(Double.self, forKey: .gradientClip) ?? d.gradientClip
    inputNoise = try c.decodeIfPresent(Double.self, forKey: .inputNoise) ?? d.inputNoise
    validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? d.validationFraction
    evaluationInterval = try c.decodeIfPresent(Int.self, forKey: .evaluationInterval) ?? d.evaluationInterval
    rolloutPrefix = try c.decodeIfPresent(Int.self, forKey: .rolloutPrefix) ?? d.rolloutPrefix
    unknownSystemFraction = try c.decodeIfPresent(Double.self, forKey: .unknownSystemFraction) ?? d.unknownSystemFraction
    seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
  }

  /// A description of the first setting out of range, or nil: every number from a file or a
  /// flag passes here before training allocates anything.
  public var problem: String? {
    func between<T: Comparable>(_ name: String, _ v: T, _ lo: T, _ hi: T) -> String? {
      v >= lo && v <= hi ? nil : "\(name) must be between \(lo) and \(hi) (got \(v))"
    }
    func check(_ ok: Bool, _ message: @autoclosure () -> String) -> String? { ok ? nil : message() }
    let problems: [String?] = [
      between("steps", steps, 1, 10_000_000),
      between("batchSize", batchSize, 1, 4096),
      between("sequenceLength", sequenceLength, 2, 100_000),
      check(learningRate > 0 && learningRate <= 1, "learningRate must be in (0, 1] (got \(learningRate))"),
      between("warmupSteps", warmupSteps, 0, 10_000_000),
      check(weightDecay >= 0 && weightDecay <= 1, "weightDecay must be between 0 and 1 (got \(weightDecay))"),
      check(gradientClip > 0 && gradientClip.isFinite, "gradientClip must be positive and finite (got \(gradientClip))"),
      check(inputNoise >= 0 && inputNoise <= 0.5, "inputNoise must be between 0 and 0.5 (got \(inputNoise))"),
      check(
        validationFraction >= 0 && validationFraction < 1,
        "validationFraction must be in [0, 1) (got \(validationFraction))"),
      between("evaluationInterval", evaluationInterval, 1, 10_000_000),
      between("rolloutPrefix", rolloutPrefix, 1, 100_000),
      check(
        unknownSystemFraction >= 0 && unknownSystemFraction <= 1,
        "unknownSystemFraction must be between 0 and 1 (got \(unknownSystemFraction))"),
    ]
    return problems.lazy.compactMap { $0 }.first
  }
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
  /// The band calibration of the kept weights (see `Trainer.calibrate`).
  public var calibration: BandCalibration
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

  /// Splits `sequences` for training: by a seeded shuffle of their groups, or, with
  /// `validationLabels` (the systems another run held out, from its checkpoint's record), exactly
  /// those sequences are the validation set.
  public init(
    config: ForecasterConfig, options: TrainingOptions, sequences: [TrainingSequence], validationLabels: [String]? = nil
  ) throws(TrainingError) {
    if let problem = config.problem { throw TrainingError(message: "invalid model configuration: \(problem)") }
    if let problem = options.problem { throw TrainingError(message: "invalid training options: \(problem)") }
    let minimum = config.scaleWindow + 2
    let usable = sequences.filter { $0.values.count >= minimum && $0.values.allSatisfy { $0 > 0 && $0.isFinite } }
    guard !usable.isEmpty else {
      throw TrainingError(message: "no sequence has the \(minimum) positive coefficients training needs")
    }
    self.config = config
    self.options = options
    if let validationLabels {
      let held = Set(validationLabels)
      training = usable.filter { !held.contains($0.label) }
      validation = usable.filter { held.contains($0.label) }
      guard Set(validation.map(\.label)).count == held.count else {
        let missing = held.subtracting(validation.map(\.label)).sorted()
        throw TrainingError(
          message: "\(missing.count) of the \(held.count) recorded validation systems are not in these datasets "
            + "(first: \(missing[0])): give the datasets the model was trained on")
      }
    } else {
      // Split by group, seeded: a group is wholly in training or wholly in validation.
      var rng = RandomSource(seed: options.seed ^ 0xA5A5)
      var groups = Array(Set(usable.map(\.group))).sorted()
      groups.shuffle(using: &rng)
      let heldOut = groups.count < 2 ? 0 : max(1, Int((Double(groups.count) * options.validationFraction).rounded()))
      let validationGroups = Set(groups.prefix(heldOut))
      training = usable.filter { !validationGroups.contains($0.group) }
      validation = usable.filter { validationGroups.contains($0.group) }
    }
    // The kept weights are chosen by rollouts from `rolloutPrefix` values: some sequence must be longer.
    let scored = validation.isEmpty ? training : validation
    let rolloutReady = scored.contains {
      $0.values.count > $0.rolloutPrefix(preferred: options.rolloutPrefix, minimum: config.scaleWindow)
    }
    guard options.rolloutPrefix >= config.scaleWindow, rolloutReady else {
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
      let inputs = model.inputPointer(B: B, T: T)
      for b in 0..<B {
        let sequence = training[Int(rng.next() % UInt64(training.count))]
        // Part of the time the system is withheld, so the "unknown" input is learned too.
        let withheld = config.systemInputs && rng.uniform() < options.unknownSystemFraction
        tokens += fillWindow(
          sequence.values, context: withheld ? .unknown : sequence.context, row: b, T: T, inputs: inputs,
          targets: &targets, mask: &mask, noise: options.inputNoise, rng: &rng)
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
    let kept = bestStep > 0 || initial != nil ? best : model
    return TrainingResult(
      model: kept, bestStep: bestStep, bestRolloutError: bestError, history: history,
      trainingSystems: training.map(\.label), validationSystems: validation.map(\.label), cancelled: cancelled,
      calibration: calibrate(kept))
  }

  /// Writes one sequence's window into batch row `row`; returns the number of scored positions.
  private func fillWindow(
    _ b: [Double], context: SystemContext, row: Int, T: Int, inputs: UnsafeMutablePointer<Float>, targets: inout [Float],
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
      SequenceEncoding.write(x: x, previous: previous, n: t + 1, context: context, config: config, into: inputs + i * F)
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
      let inputs = evaluator.inputPointer(B: B, T: T)
      var count = 0
      for b in 0..<B {
        if start + b < validation.count {
          count += fillWindow(
            validation[start + b].values, context: validation[start + b].context, row: b, T: T, inputs: inputs,
            targets: &targets, mask: &mask, noise: 0, rng: &rng)
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

  /// The validation systems' geometric mean of rollout errors (the quantity the forecaster is judged by).
  ///
  /// A system's error is the relative RMS error of rollouts from each sequence's rollout prefix
  /// to its end, each told its system. The geometric mean keeps a few outlying systems from
  /// deciding which weights are kept.
  public func rolloutError(_ model: Transformer<Float>) -> Double {
    let set = validation.isEmpty ? training : validation
    let forecaster = Forecaster(model: model)
    var logSum = 0.0
    var count = 0
    for sequence in set {
      guard let r = rollout(forecaster, sequence, context: sequence.context) else { continue }
      var num = 0.0
      var den = 0.0
      for (p, q) in zip(r.forecast, r.truth) {
        num += (p - q) * (p - q)
        den += q * q
      }
      logSum += Foundation.log(max((num / max(den, 1e-300)).squareRoot(), 1e-12))
      count += 1
    }
    return count > 0 ? Foundation.exp(logSum / Double(count)) : .nan
  }

  /// A validation rollout: the forecast and the truth after the sequence's rollout prefix.
  private func rollout(
    _ forecaster: Forecaster, _ sequence: TrainingSequence, context: SystemContext
  ) -> (forecast: [Double], truth: ArraySlice<Double>)? {
    let k = sequence.rolloutPrefix(preferred: options.rolloutPrefix, minimum: config.scaleWindow)
    let M = min(sequence.values.count, k + options.sequenceLength)
    guard M > k,
      let f = try? forecaster.forecast(prefix: Array(sequence.values[0..<k]), horizon: M, context: context)
    else { return nil }
    return (f.values, sequence.values[k..<M])
  }

  /// The band calibration of `model`: log-residuals of rollouts on the validation systems
  /// (training systems if there are none), told their system and, for a model with system
  /// inputs, again with the system withheld (the "unknown" table).
  public func calibrate(_ model: Transformer<Float>, level: Double = 0.8) -> BandCalibration {
    let set = validation.isEmpty ? training : validation
    let forecaster = Forecaster(model: model)
    var residuals: [String: [[Double]]] = [:]
    for sequence in set {
      var contexts = [sequence.context]
      if config.systemInputs && sequence.context.isKnown { contexts.append(.unknown) }
      for context in contexts {
        guard let r = rollout(forecaster, sequence, context: context) else { continue }
        let told = config.systemInputs ? context : .unknown
        residuals[told.regime, default: []].append(
          // A forecast clamped to 0 is among the worst: count it with a tiny floor, never drop it.
          zip(r.forecast, r.truth).map { p, q in q > 0 ? Foundation.log(q / max(p, q * 1e-6)) : .nan })
      }
    }
    return BandCalibration.calibrate(residuals: residuals, level: level)
  }
}
