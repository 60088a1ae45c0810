import Foundation
import KrylovForecaster
import KrylovTestSupport
import Testing

@Suite("Fuzz: checkpoints and training settings give a clear error or a sound result, never a trap")
struct CheckpointFuzzTests {
  @Test("mutated checkpoints are refused or forecast finite values")
  func checkpoints() throws {
    let config = ForecasterConfig(layers: 1, heads: 2, channels: 8, scaleWindow: 4)
    let model: Transformer<Float> = randomModel(config, seed: 5, as: Float.self)
    let valid = try Checkpoint.encode(model, extra: ["note": "seed"])
    _ = try Checkpoint.decode(valid, source: "seed")  // the seed itself loads
    var mutator = Mutator(RandomSource(seed: 17))
    let prefix = (1...8).map { 1.0 + 0.3 * Double($0) }
    var loaded = 0
    for _ in 0..<fuzzIterations {
      // Mutate the header more often than the data: that is where the structure lives.
      var bytes = Array(valid)
      let headerEnd = min(bytes.count, 8 + Int(bytes[0]) + Int(bytes[1]) << 8)
      if mutator.below(4) > 0 {
        bytes = Array(mutator.mutate(Array(bytes[0..<headerEnd]))) + bytes[headerEnd...]
      } else {
        bytes = mutator.mutate(bytes)
      }
      guard let forecaster = try? Checkpoint.decode(Data(bytes), source: "fuzz") else { continue }
      loaded += 1
      if let f = try? forecaster.forecast(prefix: prefix, horizon: 14) {
        #expect(f.values.allSatisfy { $0.isFinite && $0 >= 0 })
      }
    }
    // Some mutations (inside tensor data, or harmless header bytes) still load.
    #expect(loaded > 0)
  }

  @Test("mutated training settings are refused with a reason or are within range")
  func trainingSettings() throws {
    let text = #"""
      {"steps": 3000, "batchSize": 16, "sequenceLength": 320, "learningRate": 0.001, "warmupSteps": 100,
       "weightDecay": 0.01, "gradientClip": 1.0, "inputNoise": 0.01, "validationFraction": 0.15,
       "evaluationInterval": 100, "rolloutPrefix": 30, "unknownSystemFraction": 0.25}
      """#
    #expect(try JSONDecoder().decode(TrainingOptions.self, from: Data(text.utf8)).problem == nil)
    var mutator = Mutator(RandomSource(seed: 23))
    for _ in 0..<fuzzIterations {
      let bytes = Data(mutator.mutate(Array(text.utf8)))
      guard let options = try? JSONDecoder().decode(TrainingOptions.self, from: bytes) else { continue }
      guard options.problem == nil else { continue }
      #expect(options.steps >= 1 && options.batchSize >= 1 && options.evaluationInterval >= 1)
      #expect(options.learningRate > 0 && options.learningRate.isFinite)
      #expect(options.inputNoise >= 0 && options.inputNoise <= 0.5)
    }
  }
}
