import Foundation
import KrylovForecaster
import Testing

let tinyConfig = ForecasterConfig(layers: 2, heads: 2, channels: 8, scaleWindow: 3, stepGain: 5)

/// A model with random (not GPT-2-small) parameters, so every path carries signal.
func randomModel<S: ForecastScalar>(_ config: ForecasterConfig, seed: UInt64, as: S.Type) -> Transformer<S> {
  let model = Transformer<S>(config: config)
  let values = randomValues(model.layout.count, seed: seed)
  for i in 0..<model.layout.count { model.params[i] = S(0.3 * values[i]) }
  for name in ["ln1w", "ln2w", "lnfw"] {
    let slot = model.layout.slot(named: name)!
    for i in slot.offset..<(slot.offset + slot.count) { model.params[i] += 1 }
  }
  return model
}

@Suite("The whole transformer")
struct ModelTests {
  @Test("Every parameter's gradient equals finite differences of the loss")
  func wholeModelGradient() {
    let (B, T) = (2, 5)
    let model: Transformer<Double> = randomModel(tinyConfig, seed: 21, as: Double.self)
    let inputs = randomValues(B * T * tinyConfig.features, seed: 22)
    let targets = randomValues(B * T, seed: 23)
    let mask: [Double] = [1, 1, 0, 1, 1, 1, 1, 1, 1, 0]
    func loss() -> Double {
      let buffer = model.inputBuffer(B: B, T: T)
      for i in inputs.indices { buffer[i] = inputs[i] }
      model.forward(B: B, T: T)
      return targets.withUnsafeBufferPointer { y in mask.withUnsafeBufferPointer { m in model.loss(targets: y, mask: m) } }
    }
    _ = loss()
    model.zeroGrad()
    model.backward()
    let analytic = Array(model.grads)
    var worst = 0.0
    var worstName = ""
    for slot in model.layout.slots {
      for i in slot.offset..<(slot.offset + slot.count) {
        let saved = model.params[i]
        let h = 1e-6
        model.params[i] = saved + h
        let up = loss()
        model.params[i] = saved - h
        let down = loss()
        model.params[i] = saved
        let numeric = (up - down) / (2 * h)
        let error = abs(numeric - analytic[i]) / max(1e-4, abs(numeric))
        if error > worst {
          worst = error
          worstName = "\(slot.name)[\(i - slot.offset)]"
        }
      }
    }
    #expect(worst < 1e-5, "worst relative gradient error \(worst) at \(worstName)")
  }

  @Test("With every head off, the model is the hand-written MLP stack")
  func allHeadsOffByHand() {
    let config = tinyConfig
    let (L, C, NH, F) = (config.layers, config.channels, config.heads, config.features)
    let model: Transformer<Double> = randomModel(config, seed: 31, as: Double.self)
    let T = 4
    let inputs = randomValues(T * F, seed: 32)
    let buffer = model.inputBuffer(B: 1, T: T)
    for i in inputs.indices { buffer[i] = inputs[i] }
    let off = (0..<L).map { _ in AttentionSwitches(headEnabled: Array(repeating: false, count: NH)) }
    let out = Array(model.forward(B: 1, T: T, switches: off))

    // The same function written out directly: attention contributes only its projection bias.
    let p = Array(model.params)
    let lay = model.layout
    func linear(_ x: [Double], _ w: Int, _ b: Int, _ inC: Int, _ outC: Int) -> [Double] {
      (0..<outC).map { o in p[b + o] + (0..<inC).reduce(0.0) { $0 + p[w + o * inC + $1] * x[$1] } }
    }
    func norm(_ x: [Double], _ w: Int, _ b: Int) -> [Double] {
      let m = x.reduce(0, +) / Double(x.count)
      let v = x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)
      return x.indices.map { (x[$0] - m) / (v + 1e-5).squareRoot() * p[w + $0] + p[b + $0] }
    }
    func gelu(_ x: Double) -> Double { 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
    for t in 0..<T {
      var x = linear(Array(inputs[t * F..<(t + 1) * F]), lay.wte, lay.bte, F, C)
      for l in 0..<L {
        for i in 0..<C { x[i] += p[lay.attprojb + l * C + i] }
        let h = linear(norm(x, lay.ln2w + l * C, lay.ln2b + l * C), lay.fcw + l * 4 * C * C, lay.fcb + l * 4 * C, C, 4 * C).map(
          gelu)
        let y = linear(h, lay.fcprojw + l * C * 4 * C, lay.fcprojb + l * C, 4 * C, C)
        for i in 0..<C { x[i] += y[i] }
      }
      let expected = linear(norm(x, lay.lnfw, lay.lnfb), lay.headw, lay.headb, C, 1)[0]
      #expect(abs(out[t] - expected) < 1e-12 * max(1, abs(expected)))
    }
  }

  @Test(
    "Rollout with the key/value cache equals rollout by full forward passes, told any system",
    arguments: [SystemContext.unknown, .infinite, .finite(7), .finite(5, openBoundary: true)])
  func cacheAgreesWithFullForward(context: SystemContext) throws {
    let config = ForecasterConfig(layers: 2, heads: 2, channels: 16, scaleWindow: 4, stepGain: 5)
    let model: Transformer<Float> = randomModel(config, seed: 41, as: Float.self)
    let prefix = (1...6).map { 1.0 + 0.3 * Double($0) }
    let M = 14
    let ablation = Ablation(disabledHeads: [HeadID(layer: 1, head: 0)], history: .window(5))
    let cached = try Forecaster(model: model).forecast(prefix: prefix, horizon: M, context: context, ablation: ablation)
      .values

    let scale = SequenceEncoding.scale(of: prefix, window: config.scaleWindow)
    var x = prefix.map { $0 / scale }
    while x.count < M {
      let T = x.count
      let buffer = model.inputBuffer(B: 1, T: T)
      SequenceEncoding.write(x[0..<T], context: context, config: config, into: buffer.baseAddress!)
      let out = model.forward(B: 1, T: T, switches: ablation.switches(layers: 2, heads: 2))
      x.append(max(0, x[T - 1] + Double(out[T - 1]) / config.stepGain))
    }
    let full = x[prefix.count...].map { $0 * scale }
    #expect(cached.count == full.count)
    #expect(maxRelativeDifference(cached, Array(full)) < 1e-4)
  }

  @Test("Captured attention rows are distributions over the causal history")
  func capturedAttention() throws {
    let config = ForecasterConfig(layers: 2, heads: 2, channels: 8, scaleWindow: 3)
    let model: Transformer<Float> = randomModel(config, seed: 42, as: Float.self)
    let f = try Forecaster(model: model).forecast(prefix: [1, 1.5, 2, 2.4], horizon: 9, captureAttention: true)
    let maps = try #require(f.attention)
    #expect(maps.positions == 8)
    for l in 0..<2 {
      for h in 0..<2 {
        for q in 0..<8 {
          let row = (0..<8).map { maps.weight(layer: l, head: h, query: q, key: $0) }
          #expect(abs(row.reduce(0, +) - 1) < 1e-5)
          #expect(row[(q + 1)...].allSatisfy { $0 == 0 })
        }
      }
    }
  }

  @Test("Forecast inputs are validated")
  func forecastValidation() {
    let model: Transformer<Float> = randomModel(tinyConfig, seed: 43, as: Float.self)
    let f = Forecaster(model: model)
    #expect(throws: ForecastError.prefixTooShort(got: 2, needed: 3)) { try f.forecast(prefix: [1, 2], horizon: 5) }
    #expect(throws: ForecastError.badHorizon(prefix: 3, horizon: 3)) { try f.forecast(prefix: [1, 2, 3], horizon: 3) }
    #expect(throws: ForecastError.badValue(n: 2, value: -1)) { try f.forecast(prefix: [1, -1, 3], horizon: 5) }
    #expect(throws: ForecastError.self) {
      try f.forecast(prefix: [1, 2, 3], horizon: 5, ablation: Ablation(disabledHeads: [HeadID(layer: 5, head: 0)]))
    }
  }

  @Test("A short training run on synthetic sequences lowers the loss")
  func trainingLowersLoss() throws {
    // b_n = α√(n(n−1+η)) (physics.md §4's sech family) with a plateau, over a range of α, η, cut.
    var sequences: [TrainingSequence] = []
    for (i, alpha) in [0.5, 0.8, 1.0, 1.3, 1.7, 2.2].enumerated() {
      for (j, eta) in [1.0, 2.0, 3.0].enumerated() {
        let plateau = 25 + 5 * j
        let b = (1...60).map { n in alpha * (Double(min(n, plateau)) * (Double(min(n, plateau)) - 1 + eta)).squareRoot() }
        sequences.append(TrainingSequence(values: b, group: "\(i)-\(j)", label: "alpha=\(alpha) eta=\(eta)"))
      }
    }
    var options = TrainingOptions()
    options.steps = 60
    options.batchSize = 4
    options.sequenceLength = 40
    options.evaluationInterval = 20
    options.warmupSteps = 5
    options.learningRate = 3e-3
    options.rolloutPrefix = 10
    let trainer = try Trainer(
      config: ForecasterConfig(layers: 1, heads: 2, channels: 16, scaleWindow: 5), options: options, sequences: sequences)
    #expect(!trainer.validation.isEmpty)
    #expect(Set(trainer.validation.map(\.group)).isDisjoint(with: Set(trainer.training.map(\.group))))
    let result = trainer.run()
    let first = try #require(result.history.first)
    let last = try #require(result.history.last)
    #expect(last.loss < 0.5 * first.loss, "loss \(first.loss) → \(last.loss)")
    #expect(result.bestRolloutError.isFinite)
  }

  @Test("A recorded list of validation systems splits exactly those off, and names one that is missing")
  func recordedValidationSplit() throws {
    let config = ForecasterConfig(layers: 1, heads: 2, channels: 8, scaleWindow: 5)
    let sequences = (1...6).map { i in
      TrainingSequence(values: (1...30).map { Double($0) * (0.5 + 0.1 * Double(i)) }, group: "g\(i % 3)", label: "s\(i)")
    }
    var options = TrainingOptions()
    options.rolloutPrefix = 10
    // Labels from another trainer's split, which need not follow groups or the seeded shuffle.
    let trainer = try Trainer(config: config, options: options, sequences: sequences, validationLabels: ["s2", "s6"])
    #expect(trainer.validation.map(\.label) == ["s2", "s6"])
    #expect(trainer.training.map(\.label) == ["s1", "s3", "s4", "s5"])
    #expect(throws: TrainingError.self) {
      try Trainer(config: config, options: options, sequences: sequences, validationLabels: ["s2", "elsewhere"])
    }
    do {
      _ = try Trainer(config: config, options: options, sequences: sequences, validationLabels: ["elsewhere"])
    } catch {
      #expect(error.message.contains("elsewhere"))
    }
  }

  @Test("Training from initial weights starts from them, not from a fresh initialization")
  func initialWeights() throws {
    let config = ForecasterConfig(layers: 1, heads: 2, channels: 8, scaleWindow: 5)
    let sequences = (1...6).map { i in
      TrainingSequence(values: (1...30).map { Double($0) * (0.5 + 0.1 * Double(i)) }, group: "\(i)", label: "\(i)")
    }
    var options = TrainingOptions()
    options.steps = 2
    options.batchSize = 2
    options.sequenceLength = 20
    options.evaluationInterval = 1
    options.warmupSteps = 1
    options.learningRate = 1e-9
    options.rolloutPrefix = 10
    let initial = Transformer<Float>(config: config)
    initial.initialize(seed: 99)
    let trainer = try Trainer(config: config, options: options, sequences: sequences)
    let continued = trainer.run(initial: initial).model
    let fresh = trainer.run().model
    var fromInitial: Float = 0
    var fromFresh: Float = 0
    for i in 0..<initial.params.count {
      fromInitial = max(fromInitial, abs(continued.params[i] - initial.params[i]))
      fromFresh = max(fromFresh, abs(fresh.params[i] - initial.params[i]))
    }
    // A learning rate of 1e-9 over two steps moves no weight by more than ~1e-8.
    #expect(fromInitial < 1e-6, "continued run moved a weight by \(fromInitial)")
    #expect(fromFresh > 1e-2, "a fresh initialization should differ from seed 99's")
  }
}

@Suite("Checkpoints")
struct CheckpointTests {
  @Test("Both embedded models load with the same layers and heads; the classical one records its classical training")
  func embeddedModels() throws {
    let quantum = try DefaultModel.load(.quantum)
    let classical = try DefaultModel.load(.classical)
    // The explorer switches between them with the attention and ablation panes unchanged.
    #expect(quantum.config.layers == classical.config.layers && quantum.config.heads == classical.config.heads)
    #expect(quantum.config.channels == classical.config.channels)
    // The quantum model is told the chain's size; the classical one still reads the sequence only.
    #expect(quantum.readsSystem && !classical.readsSystem)
    #expect(quantum.calibration != nil && quantum.coverage != nil)
    // Both carry a band; the classical one, size-blind, has only the size-unknown table.
    #expect(classical.calibration?.regimes.keys.sorted() == ["unknown"])
    let training = try #require(
      classical.metadata["training"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any])
    #expect(training["spins"] as? [String] == ["classical"])
    #expect(training["initial_weights"] as? String == "default")
    // Compare a tensor both shapes share (the attention weights): fine-tuned, not a copy.
    let q = try #require(quantum.model.layout.slot(named: "qkvw"))
    let c = try #require(classical.model.layout.slot(named: "qkvw"))
    #expect(q.shape == c.shape)
    let differing = (0..<q.count).filter { quantum.model.params[q.offset + $0] != classical.model.params[c.offset + $0] }.count
    #expect(differing > q.count / 2, "the classical model should differ from the default, not be a copy")
  }

  @Test("Save and load round trip exactly, configuration and metadata included")
  func roundTrip() throws {
    let model: Transformer<Float> = randomModel(tinyConfig, seed: 51, as: Float.self)
    let data = try Checkpoint.encode(model, extra: ["training": "{\"steps\":1}"])
    let loaded = try Checkpoint.decode(data, source: "memory")
    #expect(loaded.config == tinyConfig)
    #expect(Array(loaded.model.params) == Array(model.params))
    #expect(loaded.metadata["training"] == "{\"steps\":1}")
    #expect(loaded.metadata["format"] == "krylov-forecaster")
  }

  @Test("The file is plain safetensors: length, JSON header, aligned data")
  func safetensorsLayout() throws {
    let model: Transformer<Float> = randomModel(tinyConfig, seed: 52, as: Float.self)
    let data = try Checkpoint.encode(model)
    let length = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    #expect(length % 8 == 0)
    let header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as? [String: Any])
    let wte = try #require(header["wte"] as? [String: Any])
    #expect(wte["dtype"] as? String == "F32")
    #expect((wte["shape"] as? [Int]) == [tinyConfig.channels, tinyConfig.features])
    #expect(data.count == 8 + length + model.layout.count * 4)
  }

  @Test("Corrupt, truncated or mismatched files are refused with the reason")
  func refusals() throws {
    let model: Transformer<Float> = randomModel(tinyConfig, seed: 53, as: Float.self)
    let good = try Checkpoint.encode(model)
    func message(_ data: Data) -> String {
      do {
        _ = try Checkpoint.decode(data, source: "m.safetensors")
        return "accepted"
      } catch { return error.description }
    }
    #expect(message(good.prefix(5)).contains("too short"))
    #expect(message(good.prefix(good.count - 10)).contains("truncated"))
    var badLength = good
    badLength[7] = 0x7F
    #expect(message(badLength).contains("implausible"))
    var badJSON = good
    badJSON[8] = UInt8(ascii: "x")
    #expect(message(badJSON).contains("not a JSON object"))

    // A different shape under the same configuration.
    var tensors = try Safetensors.decode(good, source: "m").tensors
    var metadata = try Safetensors.decode(good, source: "m").metadata
    tensors["wte"] = StoredTensor(dtype: "F32", shape: [2, 3], bytes: Data(count: 24))
    #expect(message(try Safetensors.encode(tensors: tensors, metadata: metadata)).contains("shape"))
    // Not our checkpoint.
    tensors = try Safetensors.decode(good, source: "m").tensors
    metadata["format"] = "something-else"
    #expect(message(try Safetensors.encode(tensors: tensors, metadata: metadata)).contains("not a krylov"))
    // A missing tensor.
    metadata["format"] = "krylov-forecaster"
    tensors["headb"] = nil
    #expect(message(try Safetensors.encode(tensors: tensors, metadata: metadata)).contains("'headb' is missing"))
  }
}
