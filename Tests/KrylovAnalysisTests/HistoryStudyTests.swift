import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster
import Testing

/// `krylov interpret`'s study on models whose answer is known in advance.
@Suite("History study: ablation ratios and attention by lag")
struct HistoryStudyTests {
  let config = ForecasterConfig(layers: 2, heads: 2, channels: 8, scaleWindow: 5, stepGain: 5)
  /// A smooth growing sequence with an even/odd staggering, long enough for every ablation.
  let values: [Double] = (1...60).map { (n: Int) -> Double in
    let stagger: Double = n % 2 == 0 ? 0.3 : 0
    return 2 * Double(n).squareRoot() + stagger
  }

  /// A model with larger-than-default random weights, so every path carries signal.
  func model(seed: UInt64) -> Transformer<Float> {
    let model = Transformer<Float>(config: config)
    var rng = RandomSource(seed: seed)
    for i in 0..<model.layout.count { model.params[i] = Float(0.3 * rng.gaussian()) }
    return model
  }

  func zero(_ model: Transformer<Float>, _ name: String, where keep: (Int) -> Bool = { _ in false }) {
    let slot = model.layout.slot(named: name)!
    for i in 0..<slot.count where !keep(i) { model.params[slot.offset + i] = 0 }
  }

  @Test("with the attention's output projection zero, no head or history ablation changes the forecast: every ratio is 1")
  func attentionUnused() throws {
    let m = model(seed: 7)
    zero(m, "attprojw")
    let use = try HistoryStudy.study(
      forecaster: Forecaster(model: m), values: values, label: "test", regime: .finiteChaotic,
      context: .finite(8, openBoundary: false), prefix: 20, horizon: 50)
    let names = HistoryStudy.ablations(
      heads: Forecaster(model: m).allHeads, context: .finite(8, openBoundary: false), horizon: 50, scaleWindow: 5
    ).map(\.name)
    #expect(Set(use.ratios.keys) == Set(names))
    #expect(names.contains("bend b_2N-4..b_2N+2 masked"))
    for (name, ratio) in use.ratios { #expect(ratio == 1, "\(name): \(ratio)") }
  }

  @Test("a model that uses its attention is hurt by losing it: all heads off changes the error")
  func attentionUsed() throws {
    let use = try HistoryStudy.study(
      forecaster: Forecaster(model: model(seed: 8)), values: values, label: "test", regime: .infinite,
      context: .infinite, prefix: 20, horizon: 50)
    #expect(use.ratios["all heads off"] != 1)
    // The infinite chain has no finite-size bend to mask.
    #expect(use.ratios.keys.contains { $0.hasPrefix("bend") } == false)
  }

  @Test("a window of 1 is the query alone: the same forecast as keeping only an empty range")
  func windowOfOne() throws {
    let f = Forecaster(model: model(seed: 9))
    let prefix = Array(values[0..<20])
    let a = try f.forecast(prefix: prefix, horizon: 40, ablation: Ablation(history: .window(1))).values
    let b = try f.forecast(prefix: prefix, horizon: 40, ablation: Ablation(history: .only(0..<0))).values
    #expect(a == b)
    // Even lags only and odd lags only split the history; neither is the whole of it.
    let all = try f.forecast(prefix: prefix, horizon: 40).values
    let even = try f.forecast(prefix: prefix, horizon: 40, ablation: Ablation(history: .evenLags)).values
    #expect(even != all)
    #expect(HistoryMask.evenLags.allows(query: 7, key: 5) && !HistoryMask.evenLags.allows(query: 7, key: 6))
    #expect(HistoryMask.oddLags.allows(query: 7, key: 6) && HistoryMask.oddLags.allows(query: 7, key: 7))
    #expect(!HistoryMask.oddLags.allows(query: 7, key: 5))
  }

  @Test("with q and k zero, attention is by position alone: the profile equals ALiBi's closed form")
  func positionOnlyAttention() throws {
    let m = model(seed: 10)
    let C = config.channels
    // Per layer, qkvw is (3C, C) with q in rows 0..<C and k in rows C..<2C; qkvb likewise.
    zero(m, "qkvw") { i in i % (3 * C * C) >= 2 * C * C }
    zero(m, "qkvb") { i in i % (3 * C) >= 2 * C }
    let f = Forecaster(model: m)
    let k = 10
    let M = 30
    let forecast = try f.forecast(prefix: Array(values[0..<k]), horizon: M, captureAttention: true)
    var profile = LagProfile(layers: 2, heads: 2)
    profile.add(try #require(forecast.attention), queries: (k - 1)..<(M - 1))
    #expect(profile.queries == M - k)
    for id in f.allHeads {
      let measured = profile.shares(id)
      let bias = profile.shares(id, positionOnly: true)
      #expect(abs(measured.onSelf - bias.onSelf) < 1e-6)
      #expect(abs(measured.odd - bias.odd) < 1e-6)
      #expect(abs(measured.meanLag - bias.meanLag) < 1e-4)
      #expect(measured.lag90 == bias.lag90)
    }
    // By hand, one query: t = k − 1 = 9 alone, head 0 (slope 2^(−4) = 1/16 for two heads):
    // the weight at lag ℓ is e^{−ℓ/16} / Σ_{j=0..9} e^{−j/16}.
    var one = LagProfile(layers: 2, heads: 2)
    one.add(try #require(forecast.attention), queries: 9..<10)
    let z = (0...9).map { Foundation.exp(-Double($0) / 16) }.reduce(0, +)
    for lag in [0, 1, 5, 9] {
      let expected = Foundation.exp(-Double(lag) / 16) / z
      #expect(abs(one.meanWeight(HeadID(layer: 1, head: 0), lag: lag) - expected) < 1e-6)
    }
    #expect(one.meanWeight(HeadID(layer: 0, head: 0), lag: 10).isNaN)  // no key that far back
    let oddByHand = [1, 3, 5, 7, 9].map { Foundation.exp(-Double($0) / 16) }.reduce(0, +) / z
    #expect(abs(one.shares(HeadID(layer: 0, head: 0)).odd - oddByHand) < 1e-6)
  }

  @Test("profiles add: two halves merged equal the whole")
  func mergeProfiles() throws {
    let f = Forecaster(model: model(seed: 11))
    let forecast = try f.forecast(prefix: Array(values[0..<10]), horizon: 30, captureAttention: true)
    let maps = try #require(forecast.attention)
    var whole = LagProfile(layers: 2, heads: 2)
    whole.add(maps, queries: 9..<29)
    var first = LagProfile(layers: 2, heads: 2)
    first.add(maps, queries: 9..<15)
    var second = LagProfile(layers: 2, heads: 2)
    second.add(maps, queries: 15..<29)
    first.merge(second)
    #expect(first.queries == whole.queries && first.reach == whole.reach)
    for id in f.allHeads {
      #expect(abs(first.shares(id).meanLag - whole.shares(id).meanLag) < 1e-9)
    }
  }

  @Test("ratio summaries by hand: geometric mean, median, range; non-finite and non-positive ratios dropped")
  func summaries() throws {
    let odd = try #require(RatioSummary([16, 1, 4, 0, .nan, .infinity]))
    #expect(odd.count == 3 && odd.median == 4 && odd.minimum == 1 && odd.maximum == 16)
    #expect(abs(odd.geometricMean - 4) < 1e-12)
    let even = try #require(RatioSummary([1, 2, 4, 8]))
    #expect(even.median == 3)
    #expect(abs(even.geometricMean - 64.0.squareRoot().squareRoot()) < 1e-12)
    #expect(RatioSummary([]) == nil && RatioSummary([0, -1]) == nil)
  }

  @Test("spans, bends and regimes follow their rules")
  func rules() throws {
    // Asked 30 → 200 of a 33-value infinite-chain sequence: M = 33, k = 16.
    let short = try #require(HistoryStudy.span(count: 33, prefix: 30, horizon: 200, minimumPrefix: 10))
    #expect(short.k == 16 && short.M == 33)
    let long = try #require(HistoryStudy.span(count: 300, prefix: 30, horizon: 200, minimumPrefix: 10))
    #expect(long.k == 30 && long.M == 200)
    // Half of 12 is below the normalizing window: k is raised to it.
    let tiny = try #require(HistoryStudy.span(count: 12, prefix: 30, horizon: 200, minimumPrefix: 10))
    #expect(tiny.k == 10 && tiny.M == 12)
    #expect(HistoryStudy.span(count: 10, prefix: 30, horizon: 200, minimumPrefix: 10) == nil)
    // N = 8: b_12..b_18, positions 11..<18.
    #expect(HistoryStudy.bendPositions(sites: 8) == 11..<18)
    let mfim = try SpinChain(
      model: .builtIn(.mfim, parameters: [:]), operator: .builtIn(.szTotal), geometry: .finite(sites: 8, boundary: .pbc))
    let tfim = try SpinChain(
      model: .builtIn(.tfim, parameters: [:]), operator: .builtIn(.szTotal), geometry: .finite(sites: 8, boundary: .pbc))
    let infinite = try SpinChain(model: .builtIn(.tfim, parameters: [:]), operator: .builtIn(.szTotal), geometry: .infinite)
    let classical = try SpinChain(
      spins: .classical, model: .builtIn(.mfim, parameters: [:]), operator: .builtIn(.szTotal), geometry: .infinite)
    let custom = try SpinChain(
      model: .custom(unitCell: "1.0*Z0Z1 + -1.05*X0"), operator: .builtIn(.szTotal),
      geometry: .finite(sites: 6, boundary: .pbc))
    #expect(StudyRegime(mfim) == .finiteChaotic)
    #expect(StudyRegime(tfim) == .finiteIntegrable)
    #expect(StudyRegime(infinite) == .infinite)
    #expect(StudyRegime(classical) == .classical)
    #expect(StudyRegime(custom) == nil)
  }
}
