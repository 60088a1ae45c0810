import KrylovEngine
import KrylovForecaster

/// One forecast made under an ablation, beside the unablated forecast and the truth.
public struct AblationOutcome: Sendable {
  public var label: String
  public var values: [Double]
  /// Relative RMS difference from the reference (unablated) forecast; 0 for the reference itself.
  public var change: Double
  /// Relative RMS error against the truth, when the truth is known.
  public var error: Double?

  /// What a ranking orders by: the error against the truth when it is known (what matters),
  /// else how far the forecast moved.
  public var influence: Double { error ?? change }
}

/// Ablations of one forecast: what `krylov ablate` reports and the explorer's head ranking
/// shows, computed in one place.
public struct AblationStudy: Sendable {
  public let forecaster: Forecaster
  public let prefix: [Double]
  public let horizon: Int
  /// b_{k+1..M} when known.
  public let truth: [Double]?
  /// What the model is told of the system in every forecast of the study.
  public let context: SystemContext

  /// The study of the forecast from `trusted`[0..<k] to `horizon`; the truth is what of
  /// b_{k+1..M} the trusted coefficients hold, if all of it.
  public init(
    forecaster: Forecaster, trusted: [Double], prefix k: Int, horizon: Int, context: SystemContext = .unknown
  ) {
    self.forecaster = forecaster
    self.context = context
    self.prefix = Array(trusted.prefix(k))
    self.horizon = horizon
    truth = trusted.count >= horizon && horizon > k ? Array(trusted[k..<horizon]) : nil
  }

  /// The forecast under `ablation`, compared with `reference` (nil: it is the reference).
  public func outcome(_ label: String, _ ablation: Ablation, reference: [Double]?) throws -> AblationOutcome {
    let values = try forecaster.forecast(prefix: prefix, horizon: horizon, context: context, ablation: ablation).values
    return AblationOutcome(
      label: label, values: values, change: reference.map { relativeRMSError(values, $0) } ?? 0,
      error: truth.map { relativeRMSError(values, $0) })
  }

  /// Each ablation's forecast error over the error of the forecast under `base`.
  ///
  /// 1: what was removed was not needed; below 1: the forecast is better without it; nil when
  /// the truth is not known. `krylov interpret` and the explorer's head ranking both read this.
  /// `baseValues` is the forecast under `base` when the caller has it already.
  public func errorRatios(
    _ ablations: [(name: String, ablation: Ablation)], base: Ablation = .none, baseValues: [Double]? = nil
  ) throws -> [String: Double]? {
    guard let truth else { return nil }
    let baseForecast =
      try baseValues ?? forecaster.forecast(prefix: prefix, horizon: horizon, context: context, ablation: base).values
    let baseError = max(relativeRMSError(baseForecast, truth), 1e-12)
    var ratios: [String: Double] = [:]
    for item in ablations {
      let values = try forecaster.forecast(prefix: prefix, horizon: horizon, context: context, ablation: item.ablation).values
      ratios[item.name] = relativeRMSError(values, truth) / baseError
    }
    return ratios
  }

  /// Heads ranked by what switching each off alone (on top of `base`) does: the error ratio
  /// when the truth is known, else how far the forecast moves.
  public func headRanking(base: Ablation = .none) throws -> HeadRanking {
    let heads = forecaster.allHeads
    let ablations = heads.map { head -> (name: String, ablation: Ablation) in
      var a = base
      a.disabledHeads.insert(head)
      return ("\(head)", a)
    }
    if let ratios = try errorRatios(ablations, base: base) {
      let entries = heads.map { HeadRanking.Entry(head: $0, value: ratios["\($0)"] ?? .nan) }
      return HeadRanking(entries: entries.sorted { $0.value > $1.value }, isErrorRatio: true)
    }
    let entries = try rankHeads(base: base).map { HeadRanking.Entry(head: $0.head, value: $0.outcome.change) }
    return HeadRanking(entries: entries, isErrorRatio: false)
  }

  /// Each head switched off alone, on top of `base`, most influential first.
  public func rankHeads(base: Ablation = .none) throws -> [(head: HeadID, outcome: AblationOutcome)] {
    let reference = try forecaster.forecast(prefix: prefix, horizon: horizon, context: context, ablation: base).values
    var ranked: [(head: HeadID, outcome: AblationOutcome)] = []
    for head in forecaster.allHeads {
      var ablation = base
      ablation.disabledHeads.insert(head)
      ranked.append((head, try outcome("head \(head)", ablation, reference: reference)))
    }
    return ranked.sorted { $0.outcome.influence > $1.outcome.influence }
  }

  /// Each block of `width` history positions removed alone, most influential first.
  public func rankHistoryBlocks(width: Int, label: (Range<Int>) -> String) throws -> [AblationOutcome] {
    let reference = try forecaster.forecast(prefix: prefix, horizon: horizon, context: context, ablation: .none).values
    var ranked: [AblationOutcome] = []
    for start in stride(from: 0, to: horizon - 1, by: max(1, width)) {
      let range = start..<min(horizon - 1, start + width)
      ranked.append(try outcome(label(range), Ablation(history: .excluding(range)), reference: reference))
    }
    return ranked.sorted { $0.influence > $1.influence }
  }
}

/// Heads ranked by the effect of switching each off alone, most influential first.
public struct HeadRanking: Sendable, Equatable {
  public struct Entry: Sendable, Equatable {
    public var head: HeadID
    public var value: Double
    public init(head: HeadID, value: Double) {
      self.head = head
      self.value = value
    }
  }
  public var entries: [Entry]
  /// Whether `value` is the error with the head off over the error with it on (the truth is
  /// known), or else the relative RMS change of the forecast.
  public var isErrorRatio: Bool

  public init(entries: [Entry], isErrorRatio: Bool) {
    self.entries = entries
    self.isErrorRatio = isErrorRatio
  }

  /// One entry as the heads pane shows it: "L0H3 ×11.3" or "L0H3 Δ4.2%".
  public func label(_ entry: Entry) -> String {
    isErrorRatio
      ? "\(entry.head) ×" + (entry.value >= 100 ? String(format: "%.0f", entry.value) : String(format: "%.2f", entry.value))
      : "\(entry.head) Δ" + String(format: "%.1f%%", 100 * entry.value)
  }
}
