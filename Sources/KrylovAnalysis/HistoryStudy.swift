import Foundation
import KrylovEngine
import KrylovForecaster

/// The regimes whose findings are reported apart (docs/attention.md).
public enum StudyRegime: String, CaseIterable, Sendable {
  case finiteChaotic = "finite chain, chaotic"
  case finiteIntegrable = "finite chain, integrable"
  case infinite = "infinite chain"
  case classical = "classical spins"

  /// The regime of a chain; nil for a custom Hamiltonian, which is neither known chaotic nor
  /// known integrable.
  public init?(_ chain: SpinChain) {
    if chain.spins == .classical {
      self = .classical
    } else if chain.isInfinite {
      self = .infinite
    } else if let name = chain.modelName {
      self = name.isChaotic ? .finiteChaotic : .finiteIntegrable
    } else {
      return nil
    }
  }
}

/// One ablation of the study's fixed set, named as the tables show it.
public struct StudyAblation: Sendable, Equatable {
  public var name: String
  public var ablation: Ablation

  public init(name: String, ablation: Ablation) {
    self.name = name
    self.ablation = ablation
  }
}

/// What one system's forecast needs: its error unablated, each ablation's error ratio to it,
/// and where the unablated rollout's attention went.
public struct SystemHistoryUse: Sendable {
  public var label: String
  public var regime: StudyRegime
  public var prefix: Int
  public var horizon: Int
  /// Relative RMS error of the unablated forecast of b_{k+1..M}.
  public var baseError: Double
  /// Ablation name → its forecast's error over the unablated forecast's (1: no effect).
  public var ratios: [String: Double]
  public var lags: LagProfile
}

/// The ablation and attention study of `krylov interpret`: which heads and which parts of the
/// history the forecaster's errors depend on, per system, then aggregated per regime.
public enum HistoryStudy {
  /// The history windows tried: only the last w coefficients visible to every head.
  public static let windows = [1, 2, 4, 8, 16]

  /// The span studied for a sequence of `count` trusted values: the horizon asked for, at
  /// most `count`, and the prefix asked for, at most half of that horizon (the validation
  /// rollouts' rule) and at least the model's normalizing window; nil if nothing is left to
  /// forecast.
  public static func span(count: Int, prefix: Int, horizon: Int, minimumPrefix: Int) -> (k: Int, M: Int)? {
    let M = min(horizon, count)
    let k = max(minimumPrefix, min(prefix, M / 2))
    return M > k ? (k, M) : nil
  }

  /// The positions (0-based: position p holds b_{p+1}) of the finite-size bend of an N-site
  /// chain: b_n for n from 2N − 4 to 2N + 2, around the light cone n ≈ 2N where a finite
  /// chain's coefficients leave the infinite chain's (physics.md §7).
  public static func bendPositions(sites N: Int) -> Range<Int> {
    max(0, 2 * N - 5)..<(2 * N + 2)
  }

  /// The fixed set: all heads off, each head off alone, the last w only, and masks of the
  /// early prefix (the normalizing window b_1..b_w), of the finite-size bend (finite chains
  /// whose bend lies before M), and of every other position (odd lags, or even lags).
  public static func ablations(
    heads: [HeadID], context: SystemContext, horizon M: Int, scaleWindow: Int
  ) -> [StudyAblation] {
    var set = [StudyAblation(name: "all heads off", ablation: Ablation(disabledHeads: Set(heads)))]
    for head in heads {
      set.append(StudyAblation(name: "\(head) off", ablation: Ablation(disabledHeads: [head])))
    }
    for w in windows {
      set.append(StudyAblation(name: "last \(w) only", ablation: Ablation(history: .window(w))))
    }
    set.append(
      StudyAblation(
        name: "b_1..b_\(scaleWindow) masked", ablation: Ablation(history: .excluding(0..<scaleWindow))))
    if case .finite(let N) = context.size {
      let bend = bendPositions(sites: N)
      if bend.lowerBound < M - 1 {
        set.append(
          StudyAblation(
            name: "bend b_2N-4..b_2N+2 masked", ablation: Ablation(history: .excluding(bend))))
      }
    }
    set.append(StudyAblation(name: "odd lags masked", ablation: Ablation(history: .evenLags)))
    set.append(StudyAblation(name: "even lags masked", ablation: Ablation(history: .oddLags)))
    return set
  }

  /// The study of one sequence: the unablated forecast, then every ablation of the set.
  ///
  /// The unablated forecast from b_1..b_k to b_M is made once, with its attention, and is the
  /// base of every ratio. `values` must hold at least M coefficients.
  public static func study(
    forecaster: Forecaster, values: [Double], label: String, regime: StudyRegime, context: SystemContext,
    prefix k: Int, horizon M: Int
  ) throws -> SystemHistoryUse {
    let study = AblationStudy(forecaster: forecaster, trusted: Array(values[0..<M]), prefix: k, horizon: M, context: context)
    let base = try forecaster.forecast(prefix: study.prefix, horizon: M, context: context, captureAttention: true)
    let baseError = relativeRMSError(base.values, Array(values[k..<M]))
    let set = ablations(
      heads: forecaster.allHeads, context: context, horizon: M, scaleWindow: forecaster.config.scaleWindow)
    let ratios = try study.errorRatios(set.map { ($0.name, $0.ablation) }, baseValues: base.values) ?? [:]
    var lags = LagProfile(layers: forecaster.config.layers, heads: forecaster.config.heads)
    if let maps = base.attention {
      lags.add(maps, queries: (k - 1)..<(M - 1))
    }
    return SystemHistoryUse(
      label: label, regime: regime, prefix: k, horizon: M, baseError: baseError, ratios: ratios, lags: lags)
  }
}

/// The spread of one ablation's error ratios across systems.
public struct RatioSummary: Sendable, Equatable {
  public var count: Int
  public var geometricMean: Double
  public var median: Double
  public var minimum: Double
  public var maximum: Double

  /// The summary of the positive finite ratios; nil if there are none.
  public init?(_ ratios: [Double]) {
    let v = ratios.filter { $0 > 0 && $0.isFinite }.sorted()
    guard !v.isEmpty else { return nil }
    count = v.count
    geometricMean = Foundation.exp(v.map { Foundation.log($0) }.reduce(0, +) / Double(v.count))
    median = v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    minimum = v[0]
    maximum = v[v.count - 1]
  }
}

/// Where attention goes by lag (query position minus key position), per layer and head,
/// summed over queries, so the profiles of many rollouts add up.
///
/// Beside the measured weights it keeps what the same queries would give if each head
/// attended by position alone (its ALiBi bias, no content): the yardstick for "this head
/// prefers odd lags" or "looks further back than its slope".
public struct LagProfile: Sendable, Equatable {
  public let layers: Int
  public let heads: Int
  /// Queries added.
  public private(set) var queries = 0
  /// Per head (l·NH + h), per lag: summed attention weight.
  public private(set) var mass: [[Double]]
  /// Per head number (the slope is the head's, whatever the layer), per lag: the same for
  /// position-only attention.
  public private(set) var biasMass: [[Double]]
  /// Per lag: how many queries had a key that far back.
  public private(set) var reach: [Int] = []

  public init(layers: Int, heads: Int) {
    self.layers = layers
    self.heads = heads
    mass = Array(repeating: [], count: layers * heads)
    biasMass = Array(repeating: [], count: heads)
  }

  /// Adds the rows of `maps` for the query positions in `queries`.
  public mutating func add(_ maps: AttentionMaps, queries range: Range<Int>) {
    precondition(maps.layers == layers && maps.heads == heads, "maps of another model shape")
    let rows = range.clamped(to: 0..<maps.positions)
    guard let last = rows.last else { return }
    grow(to: last + 1)
    let slopes: [Double] = alibiSlopes(heads: heads)
    for t in rows {
      queries += 1
      for lag in 0...t { reach[lag] += 1 }
      for h in 0..<heads {
        // Position-only attention of this query: e^{−m·lag} over lags 0...t, normalized.
        let m = slopes[h]
        let ratio = Foundation.exp(-m)
        let total = ratio == 1 ? Double(t + 1) : (1 - Foundation.pow(ratio, Double(t + 1))) / (1 - ratio)
        var p = 1 / total
        for lag in 0...t {
          biasMass[h][lag] += p
          p *= ratio
        }
        for l in 0..<layers {
          let i = l * heads + h
          for lag in 0...t { mass[i][lag] += Double(maps.weight(layer: l, head: h, query: t, key: t - lag)) }
        }
      }
    }
  }

  /// The sum of two profiles of the same model shape.
  public mutating func merge(_ other: LagProfile) {
    precondition(other.layers == layers && other.heads == heads, "profiles of another model shape")
    grow(to: other.reach.count)
    queries += other.queries
    for (lag, n) in other.reach.enumerated() { reach[lag] += n }
    for i in mass.indices {
      for (lag, v) in other.mass[i].enumerated() { mass[i][lag] += v }
    }
    for h in biasMass.indices {
      for (lag, v) in other.biasMass[h].enumerated() { biasMass[h][lag] += v }
    }
  }

  private mutating func grow(to count: Int) {
    guard count > reach.count else { return }
    let extra = count - reach.count
    reach += Array(repeating: 0, count: extra)
    for i in mass.indices { mass[i] += Array(repeating: 0, count: extra) }
    for h in biasMass.indices { biasMass[h] += Array(repeating: 0, count: extra) }
  }

  /// Lags seen (0..<lagCount).
  public var lagCount: Int { reach.count }

  /// The mean weight a query puts at `lag`, over the queries that reach that far back.
  public func meanWeight(_ head: HeadID, lag: Int) -> Double {
    lag < reach.count && reach[lag] > 0 ? mass[index(head)][lag] / Double(reach[lag]) : .nan
  }

  /// The mean weight position-only attention puts at `lag` for this head's slope.
  public func positionOnlyWeight(_ head: HeadID, lag: Int) -> Double {
    lag < reach.count && reach[lag] > 0 ? biasMass[head.head][lag] / Double(reach[lag]) : .nan
  }

  /// How one head's attention splits, averaged over queries, measured and by position alone.
  public struct Shares: Sendable, Equatable {
    /// On the query itself (lag 0), on even lags ≥ 2, on odd lags.
    public var onSelf: Double
    public var even: Double
    public var odd: Double
    /// The attention-weighted mean lag.
    public var meanLag: Double
    /// The smallest lag L with 90% of the attention at lags ≤ L.
    public var lag90: Int
  }

  public func shares(_ head: HeadID, positionOnly: Bool = false) -> Shares {
    let row = positionOnly ? biasMass[head.head] : mass[index(head)]
    let n = Double(max(queries, 1))
    var onSelf = 0.0
    var even = 0.0
    var odd = 0.0
    var moment = 0.0
    for (lag, v) in row.enumerated() {
      if lag == 0 { onSelf += v } else if lag % 2 == 0 { even += v } else { odd += v }
      moment += Double(lag) * v
    }
    let total = onSelf + even + odd
    var cumulative = 0.0
    var lag90 = max(row.count - 1, 0)
    for (lag, v) in row.enumerated() {
      cumulative += v
      if cumulative >= 0.9 * total {
        lag90 = lag
        break
      }
    }
    return Shares(onSelf: onSelf / n, even: even / n, odd: odd / n, meanLag: moment / n, lag90: lag90)
  }

  private func index(_ head: HeadID) -> Int { head.layer * heads + head.head }
}
