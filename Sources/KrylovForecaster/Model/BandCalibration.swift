import Foundation

/// An uncertainty band around a forecast: the central `level` share of where the truth lies.
public struct ForecastBand: Sendable, Equatable {
  /// 0.8 for the 80% band.
  public let level: Double
  /// Same n as the forecast values.
  public let lower: [Double]
  public let upper: [Double]
  /// The calibration table used ("finite", "infinite", "unknown").
  public let regime: String

  public init(level: Double, lower: [Double], upper: [Double], regime: String) {
    self.level = level
    self.lower = lower
    self.upper = upper
    self.regime = regime
  }
}

/// Split-conformal bands from held-out residuals (docs/model.md, "Uncertainty").
///
/// After training, the kept weights are rolled out on the validation systems, which were never
/// trained on, and the log-ratio r = log(b_true / b_forecast) is collected by horizon h (steps
/// after the prefix). Per regime and per horizon bin, the (1 − level)/2 and (1 + level)/2
/// empirical quantiles of r bound the band: b_forecast·e^{q_low} .. b_forecast·e^{q_high}. The
/// quantiles are made monotone in h (errors of a rollout only compound), and bins with too few
/// residuals take the previous bin's values. Calibration is measured on other held-out systems
/// (`krylov evaluate`), not on the ones that made the table.
public struct BandCalibration: Codable, Sendable, Equatable {
  public var level: Double
  /// Upper edges of the horizon bins: bin i holds h in (edges[i−1], edges[i]]; the last bin
  /// also takes every larger h.
  public var horizonEdges: [Int]
  public var regimes: [String: Table]

  public struct Table: Codable, Sendable, Equatable {
    /// Quantiles of log(b_true / b_forecast) per bin.
    public var lower: [Double]
    public var upper: [Double]
    /// Residuals per bin behind the quantiles.
    public var samples: [Int]
  }

  public static let defaultEdges = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
  /// Fewer residuals than this in a bin and the bin inherits the previous one's quantiles.
  public static let minimumSamples = 20

  public init(level: Double, horizonEdges: [Int] = defaultEdges, regimes: [String: Table]) {
    self.level = level
    self.horizonEdges = horizonEdges
    self.regimes = regimes
  }

  /// What is wrong with a table read from a file, or nil: the bins must be increasing and every
  /// table must have one finite quantile pair per bin, lower ≤ 0 ≤ upper.
  public var problem: String? {
    guard level > 0 && level < 1 else { return "level \(level) is not between 0 and 1" }
    guard (horizonEdges.first ?? 0) >= 1, zip(horizonEdges, horizonEdges.dropFirst()).allSatisfy({ $0 < $1 })
    else { return "the horizon bins are not increasing whole numbers from 1" }
    for (name, t) in regimes {
      guard t.lower.count == horizonEdges.count, t.upper.count == horizonEdges.count else {
        return "the \(name) table has \(t.lower.count) and \(t.upper.count) quantiles for \(horizonEdges.count) bins"
      }
      guard zip(t.lower, t.upper).allSatisfy({ $0.isFinite && $1.isFinite && $0 <= 0 && $1 >= 0 }) else {
        return "the \(name) table has quantiles that are not finite or do not bracket 0"
      }
    }
    return nil
  }

  /// The bin of horizon h ≥ 1.
  public func bin(of h: Int) -> Int {
    horizonEdges.firstIndex { h <= $0 } ?? (horizonEdges.count - 1)
  }

  /// Builds the tables from residuals: `residuals[regime]` lists, per sequence, r at h = 1, 2, ...
  public static func calibrate(
    residuals: [String: [[Double]]], level: Double = 0.8, horizonEdges: [Int] = defaultEdges
  ) -> BandCalibration {
    var calibration = BandCalibration(level: level, horizonEdges: horizonEdges, regimes: [:])
    for (regime, sequences) in residuals {
      var bins = [[Double]](repeating: [], count: horizonEdges.count)
      for r in sequences {
        for (i, value) in r.enumerated() where value.isFinite { bins[calibration.bin(of: i + 1)].append(value) }
      }
      var lower: [Double] = []
      var upper: [Double] = []
      // Leading bins with too few residuals are pooled with the bins after them until the pool
      // has enough (a zero-width band at the first steps would claim certainty it does not
      // have); later thin bins take the previous bin's quantiles.
      var pool: [Double] = []
      var pending = 0
      for values in bins {
        pool += values
        pending += 1
        if pool.count >= minimumSamples || !lower.isEmpty {
          let source = pool.count >= minimumSamples ? pool : []
          var low = source.isEmpty ? (lower.last ?? 0) : quantile(source.sorted(), (1 - level) / 2)
          var high = source.isEmpty ? (upper.last ?? 0) : quantile(source.sorted(), (1 + level) / 2)
          if let l = lower.last, let u = upper.last {
            low = min(low, l)
            high = max(high, u)
          }
          for _ in 0..<pending {
            lower.append(min(low, 0))
            upper.append(max(high, 0))
          }
          pool = []
          pending = 0
        }
      }
      guard !lower.isEmpty else { continue }
      while lower.count < bins.count {
        lower.append(lower.last ?? 0)
        upper.append(upper.last ?? 0)
      }
      calibration.regimes[regime] = Table(lower: lower, upper: upper, samples: bins.map(\.count))
    }
    return calibration
  }

  /// The band around `values` (b_{k+1}..b_M), from the regime's table, or the unknown-size
  /// table when the regime has none; nil if neither exists.
  public func band(around values: [Double], regime: String) -> ForecastBand? {
    let name = regimes[regime] != nil ? regime : "unknown"
    guard let table = regimes[name] else { return nil }
    var lower: [Double] = []
    var upper: [Double] = []
    for (i, b) in values.enumerated() {
      let bin = bin(of: i + 1)
      lower.append(b * Foundation.exp(table.lower[bin]))
      upper.append(b * Foundation.exp(table.upper[bin]))
    }
    return ForecastBand(level: level, lower: lower, upper: upper, regime: name)
  }

  /// Linear interpolation between order statistics (numpy's default).
  public static func quantile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = p * Double(sorted.count - 1)
    let i = Int(position.rounded(.down))
    let j = min(i + 1, sorted.count - 1)
    return sorted[i] + (position - Double(i)) * (sorted[j] - sorted[i])
  }

  /// The metadata key a checkpoint keeps the calibration under.
  public static let metadataKey = "band_calibration"
}
