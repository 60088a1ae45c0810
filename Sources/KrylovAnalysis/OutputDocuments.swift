import Foundation
import KrylovEngine
import KrylovForecaster

// The JSON documents of `krylov forecast` and `krylov observe`, written by the CLI and by the
// explorer's export alike (docs/formats.md).

/// A number for JSON: NaN and infinities become null (an error that cannot be computed).
public func finiteOrNil(_ x: Double) -> Double? { x.isFinite ? x : nil }

/// A forecast's band in JSON output: over the same n as `forecast`.
public struct BandRecord: Encodable {
  public var level: Double
  public var lower: [Double]
  public var upper: [Double]
  public var calibration: String
  public init(_ band: ForecastBand) {
    level = band.level
    lower = band.lower
    upper = band.upper
    calibration = band.regime
  }
}

/// What the transformer was told of the system, for output headers.
public struct SystemToldRecord: Encodable {
  public let context: SystemContext
  /// False for a checkpoint that does not read the system (it forecasts from the sequence alone).
  public let modelReadsSystem: Bool
  /// Why the system lies outside what the model was trained on, or nil.
  public let outsideTraining: String?

  public init(_ context: SystemContext, model: Forecaster) {
    self.init(context, modelReadsSystem: model.readsSystem, outsideTraining: model.outsideTraining(context))
  }

  public init(_ context: SystemContext, modelReadsSystem: Bool, outsideTraining: String?) {
    self.context = context
    self.modelReadsSystem = modelReadsSystem
    self.outsideTraining = outsideTraining
  }

  /// One line for a CSV header or a status line.
  public var text: String {
    guard modelReadsSystem else { return "nothing (this model reads the coefficients only)" }
    return context.description + (context.isKnown ? "" : " (pass --n and --bc to tell it)")
      + (outsideTraining.map { "; outside training: \($0)" } ?? "")
  }

  enum CodingKeys: String, CodingKey {
    case size, n, bc
    case modelReadsSystem = "model_reads_system"
    case outsideTraining = "outside_training"
  }

  /// Encodes the system for JSON output.
  ///
  /// The form is `{"size": "finite"|"infinite"|"unknown", "n": "12"|"inf"|null, "bc": "pbc"|"obc"|null, ...}`.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(context.regime, forKey: .size)
    switch context.size {
    case .finite(let sites):
      try c.encode("\(sites)", forKey: .n)
      try c.encode(context.openBoundary ? "obc" : "pbc", forKey: .bc)
    case .infinite:
      try c.encode("inf", forKey: .n)
      try c.encodeNil(forKey: .bc)
    case .unknown:
      try c.encodeNil(forKey: .n)
      try c.encodeNil(forKey: .bc)
    }
    try c.encode(modelReadsSystem, forKey: .modelReadsSystem)
    try c.encode(outsideTraining, forKey: .outsideTraining)
  }
}

/// What `krylov forecast --format json` writes (docs/formats.md).
public struct ForecastDocument: Encodable {
  public var prefix: Int
  public var horizon: Int
  public var n: [Int]
  public var forecast: [Double]
  public var band: BandRecord?
  public var system: SystemToldRecord
  public var baselines: [String: [Double]]
  public var model: String
  public var bestFitForm: String?
  public var fits: [FitRecord]
  public var errors: ErrorsRecord?

  /// The document of a forecast: the CLI's and the explorer's export.
  public init(methods: MethodForecasts, errors: MethodErrors?, model: String, told: SystemToldRecord) {
    let k = methods.prefix.count
    prefix = k
    horizon = k + methods.transformer.count
    n = Array((k + 1)...(k + methods.transformer.count))
    forecast = methods.transformer
    band = methods.band.map(BandRecord.init)
    system = told
    baselines = Dictionary(uniqueKeysWithValues: methods.baselines.map { ($0.name, $0.values) })
    self.model = model
    bestFitForm = methods.bestFitForm
    fits = methods.fits.map { FitRecord($0, best: $0 == methods.bestFit) }
    self.errors = errors.map(ErrorsRecord.init)
  }

  enum CodingKeys: String, CodingKey {
    case prefix, horizon, n, forecast, band, system, baselines, model
    case bestFitForm = "best_fit_form"
    case fits, errors
  }
}

/// One asymptotic fit of the prefix: its form, parameters by name, the n range it was fitted
/// on, and whether it is the one chosen on the prefix (`best_fit`).
public struct FitRecord: Encodable {
  public var form: String
  public var parameters: [String: Double]
  public var window: [Int]
  public var best: Bool

  public init(_ fit: AsymptoticFit, best: Bool) {
    form = fit.form.rawValue
    parameters = Dictionary(uniqueKeysWithValues: fit.namedParameters.map { ($0.name, $0.value) })
    window = [fit.window.lowerBound, fit.window.upperBound]
    self.best = best
  }
}

/// Each method's errors against the truth; an error that cannot be computed is null.
public struct ErrorsRecord: Encodable {
  public var bRelativeRMS: [String: Double?]
  public var cMaxAbs: [String: Double?]
  public var cWindow: Window

  public struct Window: Encodable {
    public var tMin: Double
    public var tMax: Double
    enum CodingKeys: String, CodingKey {
      case tMin = "t_min"
      case tMax = "t_max"
    }
  }

  public init(_ e: MethodErrors) {
    bRelativeRMS = e.coefficients.mapValues(finiteOrNil)
    cMaxAbs = e.autocorrelation.mapValues(finiteOrNil)
    cWindow = Window(tMin: 0, tMax: e.windowEnd)
  }

  enum CodingKeys: String, CodingKey {
    case bRelativeRMS = "b_relative_rms"
    case cMaxAbs = "c_max_abs"
    case cWindow = "c_window"
  }
}

/// What `krylov observe --format json` writes (docs/formats.md).
public struct ObservablesDocument: Encodable {
  public var t: [Double]
  public var C: [Double]
  public var K: [Double]
  public var coefficients: Int
  public var exhausted: Bool
  public var convergedUntil: ConvergedUntil

  public init(t: [Double], C: [Double], K: [Double], coefficients: Int, exhausted: Bool, convergedUntil: ConvergedUntil) {
    self.t = t
    self.C = C
    self.K = K
    self.coefficients = coefficients
    self.exhausted = exhausted
    self.convergedUntil = convergedUntil
  }

  /// Where C(t) and K(t) stop depending on the coefficients beyond the last: a time, every
  /// time (an exhausted space), or unknown (null).
  public enum ConvergedUntil: Encodable {
    case time(Double)
    case all
    case unknown
    public func encode(to encoder: Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .time(let t): try c.encode(t)
      case .all: try c.encode("all")
      case .unknown: try c.encodeNil()
      }
    }
  }

  enum CodingKeys: String, CodingKey {
    case t, C, K, coefficients, exhausted
    case convergedUntil = "converged_until"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(t, forKey: .t)
    try c.encode(C, forKey: .C)
    try c.encode(K, forKey: .K)
    try c.encode(coefficients, forKey: .coefficients)
    try c.encode(exhausted, forKey: .exhausted)
    try c.encode(convergedUntil, forKey: .convergedUntil)
  }
}
