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
