import KrylovEngine
import KrylovForecaster

/// Every method's extrapolation of one prefix: the transformer and the baselines of physics.md §5.
public struct MethodForecasts: Sendable {
  public let prefix: [Double]
  public let horizon: Int
  public let transformer: [Double]
  /// Baseline name → values b_{k+1}..b_M, in a fixed order.
  public let baselines: [(name: String, values: [Double])]
  public let bestFitForm: String?
  /// The asymptotic fits of the prefix (both forms, when they could be made) and the one
  /// chosen on the prefix's held-back tail: their parameters are what users read (the growth
  /// rate a of b_n ≈ a n + c).
  public let fits: [AsymptoticFit]
  public let bestFit: AsymptoticFit?
  /// The transformer's calibrated band, when its checkpoint has one.
  public let band: ForecastBand?
  /// What the transformer was told of the system.
  public let context: SystemContext
  /// Further forecasts scored beside these (`krylov evaluate`: the size withheld, another model).
  public var extra: [(name: String, values: [Double])] = []

  public static let baselineNames = ["linear_fit", "log_corrected_fit", "best_fit", "linear_ar"]

  public init(
    prefix: [Double], horizon M: Int, forecaster: Forecaster, context: SystemContext = .unknown,
    ablation: Ablation = .none
  ) throws {
    let f = try forecaster.forecast(prefix: prefix, horizon: M, context: context, ablation: ablation)
    self.init(prefix: prefix, horizon: M, transformer: f.values, band: f.band, context: f.context)
  }

  /// The baselines beside a transformer forecast already made (b_{k+1}..b_M), so a caller that
  /// also wants the attention of that rollout runs it once.
  public init(
    prefix: [Double], horizon M: Int, transformer values: [Double], band: ForecastBand? = nil,
    context: SystemContext = .unknown
  ) {
    self.prefix = prefix
    horizon = M
    transformer = values
    self.band = band
    self.context = context
    let k = prefix.count
    var baselines: [(String, [Double])] = []
    let fits = AsymptoticFit.best(prefix: prefix)
    for form in AsymptoticFit.Form.allCases {
      let name = form == .linear ? "linear_fit" : "log_corrected_fit"
      if let f = fits?.fits.first(where: { $0.form == form }) { baselines.append((name, f.extrapolate(from: k + 1, through: M))) }
    }
    if let best = fits?.best {
      baselines.append(("best_fit", best.extrapolate(from: k + 1, through: M)))
      bestFitForm = best.form.rawValue
    } else {
      bestFitForm = nil
    }
    self.fits = fits?.fits ?? []
    bestFit = fits?.best
    if let ar = LinearAutoregression.fit(prefix) {
      baselines.append(("linear_ar", ar.rollout(history: prefix, count: M - k)))
    }
    self.baselines = baselines
  }

  /// (name, values) for every method, transformer first.
  public var all: [(name: String, values: [Double])] { [("transformer", transformer)] + extra + baselines }
}

/// Each method's errors against the truth b_1..b_M.
public struct MethodErrors: Sendable {
  /// Relative RMS error over b_{k+1}..b_M, by method.
  public var coefficients: [String: Double] = [:]
  /// max |ΔC(t)| over [0, windowEnd], by method.
  public var autocorrelation: [String: Double] = [:]
  public var windowEnd = 0.0

  public init(methods: MethodForecasts, truth: [Double]) throws {
    let k = methods.prefix.count
    let horizonTruth = Array(truth[k..<methods.horizon])
    let comparison = try ObservableComparison(truth: Array(truth[0..<methods.horizon]))
    windowEnd = comparison.windowEnd
    for (name, values) in methods.all {
      coefficients[name] = relativeRMSError(values, horizonTruth)
      autocorrelation[name] = try comparison.maxError(predicted: methods.prefix + values)
    }
  }

  /// The share of the true b_{k+1}..b_M inside `band` (nil without a band).
  public static func coverage(of band: ForecastBand?, truth: ArraySlice<Double>) -> Double? {
    guard let band, !truth.isEmpty else { return nil }
    var inside = 0
    for (i, q) in truth.enumerated() where i < band.lower.count && q >= band.lower[i] && q <= band.upper[i] {
      inside += 1
    }
    return Double(inside) / Double(truth.count)
  }

  /// The better of the two asymptotic fits judged against the truth, on b_n and on C(t).
  ///
  /// A bound no forecaster could know in advance (physics.md §5's comparison). Not to be
  /// confused with `best_fit`, the fit *chosen* on the prefix's held-back tail, which is what a
  /// user gets.
  public var betterFitInHindsightCoefficients: Double {
    min(coefficients["linear_fit"] ?? .infinity, coefficients["log_corrected_fit"] ?? .infinity)
  }
  public var betterFitInHindsightAutocorrelation: Double {
    min(autocorrelation["linear_fit"] ?? .infinity, autocorrelation["log_corrected_fit"] ?? .infinity)
  }
}
