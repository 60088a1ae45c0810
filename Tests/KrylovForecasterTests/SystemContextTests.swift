import Foundation
import KrylovForecaster
import Testing

@Suite("What the forecaster is told of the system, and its band")
struct SystemContextTests {
  @Test("The infinite chain's features are the large-N limit of a finite ring's, before the light cone")
  func infiniteIsTheLimit() {
    let infinite = SystemContext.infinite.features(n: 10)
    let ring = SystemContext.finite(100_000).features(n: 10)
    #expect(abs(infinite.0 - ring.0) < 1e-12)
    #expect(abs(infinite.1 - ring.1) < 1e-3)
    #expect(abs(infinite.2 - ring.2) < 1e-12)
    #expect(abs(infinite.3 - ring.3) < 1e-3)
    let unknown = SystemContext.unknown.features(n: 10)
    #expect([unknown.0, unknown.1, unknown.2, unknown.3] == [0, 0, 0, 0])
    // The light-cone coordinate n/(2N) is 1 at n = 2N and is capped at 4.
    #expect(SystemContext.finite(6).features(n: 12).3 == 1)
    #expect(SystemContext.finite(6).features(n: 1000).3 == 4)
    #expect(SystemContext.finite(6, openBoundary: true).features(n: 1).2 == 1)
  }

  @Test("A model with system inputs forecasts differently for different sizes; one without ignores them")
  func contextReachesTheModel() throws {
    let prefix = (1...8).map { 1.0 + 0.4 * Double($0) }
    let aware = Forecaster(
      model: randomModel(ForecasterConfig(layers: 2, heads: 2, channels: 16, scaleWindow: 4), seed: 3, as: Float.self))
    #expect(aware.config.features == SequenceEncoding.sequenceFeatureCount + SystemContext.featureCount)
    let small = try aware.forecast(prefix: prefix, horizon: 20, context: .finite(6)).values
    let infinite = try aware.forecast(prefix: prefix, horizon: 20, context: .infinite).values
    #expect(maxRelativeDifference(small, infinite) > 1e-4)

    let blind = Forecaster(
      model: randomModel(
        ForecasterConfig(layers: 2, heads: 2, channels: 16, scaleWindow: 4, systemInputs: false), seed: 3, as: Float.self))
    #expect(blind.config.features == SequenceEncoding.sequenceFeatureCount)
    let a = try blind.forecast(prefix: prefix, horizon: 20, context: .finite(6))
    let b = try blind.forecast(prefix: prefix, horizon: 20, context: .infinite)
    #expect(a.values == b.values)
    #expect(a.context == .unknown)
  }

  @Test("A configuration without systemInputs (checkpoints from before size-aware models) reads as blind")
  func oldConfigurationDecodes() throws {
    let old = #"{"layers": 4, "heads": 4, "channels": 64, "scaleWindow": 10, "stepGain": 5}"#
    let config = try JSONDecoder().decode(ForecasterConfig.self, from: Data(old.utf8))
    #expect(config.systemInputs == false)
    #expect(config.features == 3)
  }

  @Test("Band quantiles are numpy's linear interpolation between order statistics")
  func quantiles() {
    // numpy.quantile([1, 2, 3, 4, 10], [0.1, 0.5, 0.9]) = [1.4, 3.0, 7.6]
    let sorted = [1.0, 2, 3, 4, 10]
    #expect(abs(BandCalibration.quantile(sorted, 0.1) - 1.4) < 1e-12)
    #expect(abs(BandCalibration.quantile(sorted, 0.5) - 3.0) < 1e-12)
    #expect(abs(BandCalibration.quantile(sorted, 0.9) - 7.6) < 1e-12)
  }

  @Test("A band built from known residuals covers its level of fresh residuals from the same law")
  func bandCoverage() {
    // Residuals log(b_true / b_forecast) uniform on [-a·h, a·h] at horizon h: the 80% band is
    // ±0.8·a·h, so 80% of fresh draws fall inside.
    var rng = RandomSource(seed: 11)
    let a = 0.01
    func draw(_ h: Int) -> Double { Double.random(in: -a * Double(h)...a * Double(h), using: &rng) }
    let training = (0..<400).map { _ in (1...16).map(draw) }
    let calibration = BandCalibration.calibrate(residuals: ["finite": training], level: 0.8)
    let table = calibration.regimes["finite"]
    #expect(table != nil)
    let forecast = [Double](repeating: 2, count: 16)
    let band = calibration.band(around: forecast, regime: "finite")
    #expect(band?.regime == "finite")
    var inside = 0
    var total = 0
    for _ in 0..<400 {
      for h in 1...16 {
        let truth = forecast[h - 1] * exp(draw(h))
        if let band, truth >= band.lower[h - 1] && truth <= band.upper[h - 1] { inside += 1 }
        total += 1
      }
    }
    let coverage = Double(inside) / Double(total)
    // Quantiles are pooled over horizon bins and made monotone, so coverage is at least the level.
    #expect(coverage > 0.78 && coverage < 0.95)
    // A regime without a table falls back to the unknown-size table, and without one gives none.
    #expect(calibration.band(around: forecast, regime: "infinite") == nil)
  }

  @Test("Leading horizon bins with few residuals are pooled, never given a zero-width band")
  func thinLeadingBins() {
    // 10 sequences: bins h = 1 and h = 2 hold 10 residuals each, fewer than the minimum (20).
    var rng = RandomSource(seed: 3)
    let sequences = (0..<10).map { _ in (1...16).map { h in 0.02 * Double(h) * (2 * rng.uniform() - 1) } }
    let calibration = BandCalibration.calibrate(residuals: ["infinite": sequences], level: 0.8)
    let table = calibration.regimes["infinite"]
    #expect(table != nil)
    if let table {
      #expect(table.lower[0] < 0 && table.upper[0] > 0, "h = 1 must not be a point")
      #expect(zip(table.lower, table.lower.dropFirst()).allSatisfy { $0 >= $1 })
      #expect(zip(table.upper, table.upper.dropFirst()).allSatisfy { $0 <= $1 })
    }
    #expect(calibration.problem == nil)
  }

  @Test("A checkpoint whose band table is malformed is refused with the reason")
  func malformedBandRefused() throws {
    let config = ForecasterConfig(layers: 1, heads: 2, channels: 8, scaleWindow: 4)
    let model: Transformer<Float> = randomModel(config, seed: 9, as: Float.self)
    let bad = #"{"level": 0.8, "horizonEdges": [], "regimes": {}}"#
    let data = try Checkpoint.encode(model, extra: [BandCalibration.metadataKey: bad])
    #expect(throws: CheckpointError.self) { try Checkpoint.decode(data, source: "bad band") }
    let short =
      #"{"level": 0.8, "horizonEdges": [1, 2], "regimes": {"finite": {"lower": [-0.1], "upper": [0.1], "samples": [30]}}}"#
    let data2 = try Checkpoint.encode(model, extra: [BandCalibration.metadataKey: short])
    #expect(throws: CheckpointError.self) { try Checkpoint.decode(data2, source: "short band") }
  }
}
