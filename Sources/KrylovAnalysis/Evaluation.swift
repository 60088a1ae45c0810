import Foundation
import KrylovEngine
import KrylovForecaster

/// Names of the evaluation's rows beside the forecasting methods (`MethodForecasts`).
public enum EvaluationRowName {
  public static let transformer = "transformer"
  /// The computed coefficients alone, without any continuation.
  public static let computedOnly = "computed b_1..b_M alone"
  /// The computed coefficients b_1..b_M themselves, scored against molecular dynamics.
  public static let exact = "exact b_1..b_M"
  /// The transformer not told the system.
  public static let sizeUnknown = "transformer_size_unknown"
  public static let reference = "reference_model"
  /// The better fit judged against the truth (`MethodErrors.betterFitInHindsight…`).
  public static let hindsight = "better fit in hindsight"
}

/// Sites and the last time of a molecular-dynamics simulation.
public struct SimulationWindow: Sendable {
  public var sites: Int
  public var end: Double
}

/// C(t) scored against a longer simulation: max |ΔC(t)| and the time it stays within noise.
public struct ContinuationScore: Sendable {
  public var maxError: Double
  public var agreement: Double
}

/// One system of an evaluation: each method's errors against the computed truth and, for
/// classical spins, against molecular dynamics.
public struct EvaluationRow: Sendable {
  public var label: String
  public var spins: SpinKind
  public var model: String
  public var size: String
  public var errors: MethodErrors
  /// Share of the true b_{k+1..M} inside the transformer's band.
  public var coverage: Double?
  /// Classical systems: max |ΔC(t)| against molecular dynamics, by method, and `exact`.
  public var simulated: [String: Double]?
  public var simulationStandardError: Double?
  public var simulation: SimulationWindow?
  /// Past the computed coefficients: by method (and `computedOnly`), C(t) against a longer
  /// simulation.
  public var continued: [String: ContinuationScore]?
  public var continuedSimulation: SimulationWindow?
}

/// How an evaluation scores one system: the prefix and horizon, the optional reference model,
/// and the molecular-dynamics settings for classical spins.
public struct SystemEvaluator: Sendable {
  public var prefix: Int
  public var horizon: Int
  public var reference: Forecaster?
  /// Samples per classical system (0: no molecular dynamics), the window, the seed.
  public var simulationSamples = 0
  public var simulationEnd = 3.0
  public var simulationSeed: UInt64 = 1
  /// Continue every method to this n and score C(t) against a simulation to `continuationEnd`.
  public var continueTo: Int?
  public var continuationEnd = 6.0

  public init(prefix: Int, horizon: Int, reference: Forecaster? = nil) {
    self.prefix = prefix
    self.horizon = horizon
    self.reference = reference
  }

  /// Scores every method on one system whose trusted coefficients are `b` (at least `horizon`);
  /// nil when cancelled during a simulation.
  public func evaluate(
    label: String, chain: SpinChain, model: String, size: String, coefficients b: [Double], forecaster: Forecaster,
    isCancelled: @escaping @Sendable () -> Bool = { false }
  ) throws -> EvaluationRow? {
    let context = SystemContext(chain)
    let head = Array(b[0..<prefix])
    var methods = try MethodForecasts(prefix: head, horizon: horizon, forecaster: forecaster, context: context)
    if forecaster.readsSystem {
      methods.extra.append(
        (EvaluationRowName.sizeUnknown, try forecaster.forecast(prefix: head, horizon: horizon, context: .unknown).values))
    }
    if let reference {
      methods.extra.append(
        (EvaluationRowName.reference, try reference.forecast(prefix: head, horizon: horizon, context: context).values))
    }
    var row = EvaluationRow(
      label: label, spins: chain.spins, model: model, size: size, errors: try MethodErrors(methods: methods, truth: b),
      coverage: MethodErrors.coverage(of: methods.band, truth: b[prefix..<horizon]))
    guard chain.spins == .classical && simulationSamples > 0 else { return row }
    let simulation = try SimulatedComparison(
      chain: chain, samples: simulationSamples, tmax: simulationEnd, seed: simulationSeed, isCancelled: isCancelled)
    if simulation.estimate.cancelled { return nil }
    let computed = Array(b[0..<horizon])
    var errors: [String: Double] = [EvaluationRowName.exact: try simulation.maxError(coefficients: computed)]
    for (name, values) in methods.all { errors[name] = try simulation.maxError(coefficients: methods.prefix + values) }
    row.simulated = errors
    row.simulationStandardError = simulation.largestStandardError
    row.simulation = SimulationWindow(sites: simulation.sites, end: simulation.end)
    guard let continueTo else { return row }
    // Beyond the computed coefficients: every method continues all M of them.
    let continuation = try MethodForecasts(prefix: computed, horizon: continueTo, forecaster: forecaster, context: context)
    let longer = try SimulatedComparison(
      chain: chain, samples: simulationSamples, tmax: continuationEnd, seed: simulationSeed, isCancelled: isCancelled)
    if longer.estimate.cancelled { return nil }
    func score(_ coefficients: [Double]) throws -> ContinuationScore {
      ContinuationScore(
        maxError: try longer.maxError(coefficients: coefficients),
        agreement: try longer.agreementTime(coefficients: coefficients))
    }
    var scores: [String: ContinuationScore] = [EvaluationRowName.computedOnly: try score(computed)]
    for (name, values) in continuation.all { scores[name] = try score(computed + values) }
    row.continued = scores
    row.continuedSimulation = SimulationWindow(sites: longer.sites, end: longer.end)
    return row
  }
}

/// Aggregates over the rows of an evaluation: geometric means per method, by class of system
/// and by size.
public struct EvaluationSummary: Sendable {
  public let rows: [EvaluationRow]
  /// The transformer, the extra rows present (size not given, reference model), the baselines.
  public let methodNames: [String]

  public init(rows: [EvaluationRow]) {
    self.rows = rows
    let extra = [EvaluationRowName.sizeUnknown, EvaluationRowName.reference].filter { name in
      rows.contains { $0.errors.coefficients[name] != nil }
    }
    methodNames = [EvaluationRowName.transformer] + extra + MethodForecasts.baselineNames
  }

  /// A named class of systems.
  public struct SystemClass: Sendable {
    public let name: String
    public let contains: @Sendable (EvaluationRow) -> Bool
  }

  /// The classes the tables report: chaotic and integrable quantum models (`ModelName.isChaotic`),
  /// classical spins in all and by model.
  public static let classes: [SystemClass] = [
    SystemClass(name: "chaotic (mfim, j1j2)") { $0.spins == .quantum && ModelName(rawValue: $0.model)?.isChaotic == true },
    SystemClass(name: "integrable (tfim, xxz)") {
      $0.spins == .quantum && ModelName(rawValue: $0.model)?.isChaotic == false
    },
    SystemClass(name: "classical, all models") { $0.spins == .classical },
    SystemClass(name: "classical mfim") { $0.spins == .classical && $0.model == "mfim" },
    SystemClass(name: "classical tfim") { $0.spins == .classical && $0.model == "tfim" },
    SystemClass(name: "classical xxz, j1j2") { $0.spins == .classical && ($0.model == "xxz" || $0.model == "j1j2") },
  ]

  /// The sizes present, finite ones in order, then the others.
  public var sizes: [String] { Array(Set(rows.map(\.size))).sorted { (Int($0) ?? .max) < (Int($1) ?? .max) } }

  /// The geometric mean of the positive finite values (NaN when there are none).
  public static func geometricMean(_ xs: [Double]) -> Double {
    let v = xs.filter { $0 > 0 && $0.isFinite }
    return v.isEmpty ? .nan : exp(v.map { log($0) }.reduce(0, +) / Double(v.count))
  }

  /// Per method (and `hindsight`): geometric means of the b_n relative RMS and of max |ΔC(t)|.
  public func errors(_ subset: [EvaluationRow]) -> [String: (coefficients: Double, autocorrelation: Double)] {
    var out: [String: (coefficients: Double, autocorrelation: Double)] = [:]
    for m in methodNames {
      out[m] = (
        Self.geometricMean(subset.map { $0.errors.coefficients[m] ?? .nan }),
        Self.geometricMean(subset.map { $0.errors.autocorrelation[m] ?? .nan })
      )
    }
    out[EvaluationRowName.hindsight] = (
      Self.geometricMean(subset.map(\.errors.betterFitInHindsightCoefficients)),
      Self.geometricMean(subset.map(\.errors.betterFitInHindsightAutocorrelation))
    )
    return out
  }

  /// The mean share of true coefficients inside the band, over rows that have a band.
  public func meanCoverage(_ subset: [EvaluationRow]) -> Double? {
    let c = subset.compactMap(\.coverage)
    return c.isEmpty ? nil : c.reduce(0, +) / Double(c.count)
  }

  /// Geometric means of the errors against molecular dynamics, when every row has them.
  public func simulated(_ subset: [EvaluationRow]) -> [String: Double]? {
    let all = subset.compactMap(\.simulated)
    guard all.count == subset.count, !all.isEmpty else { return nil }
    var out: [String: Double] = [:]
    for m in methodNames + [EvaluationRowName.exact] { out[m] = Self.geometricMean(all.map { $0[m] ?? .nan }) }
    out[EvaluationRowName.hindsight] = Self.geometricMean(
      all.map { min($0["linear_fit"] ?? .infinity, $0["log_corrected_fit"] ?? .infinity) })
    return out
  }

  /// Past the computed coefficients, per method (and `computedOnly`), when every row has it:
  /// the geometric mean of max |ΔC(t)| and the mean time of agreement.
  public func continuation(_ subset: [EvaluationRow]) -> [(name: String, score: ContinuationScore)]? {
    let all = subset.compactMap(\.continued)
    guard all.count == subset.count, !all.isEmpty else { return nil }
    return ([EvaluationRowName.computedOnly] + methodNames).map { m in
      let times = all.compactMap { $0[m]?.agreement }
      return (
        m,
        ContinuationScore(
          maxError: Self.geometricMean(all.map { $0[m]?.maxError ?? .nan }),
          agreement: times.isEmpty ? .nan : times.reduce(0, +) / Double(times.count))
      )
    }
  }
}
