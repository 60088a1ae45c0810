import ArgumentParser
import Foundation
import KrylovEngine
import KrylovForecaster

/// `--model FILE`, or the embedded default.
struct ModelOptions: ParsableArguments {
  @Option(help: "A checkpoint written by 'krylov train' (default: the embedded model).")
  var model: String?

  func load() throws -> Forecaster {
    do {
      if let model { return try Checkpoint.load(path: model) }
      return try DefaultModel.load()
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
  }
}

/// The input sequence, prefix length and horizon shared by the forecasting commands.
struct ForecastInputOptions: ParsableArguments {
  @Option(name: [.short, .long], help: "Coefficients file (CSV or JSON, as 'krylov lanczos' writes).")
  var input: String

  @Option(help: "Prefix length k: the forecast starts from b_1..b_k.")
  var prefix: Int = 30

  @Option(help: "Horizon M: forecast b_{k+1}..b_M.")
  var horizon: Int = 200

  func validate() throws {
    guard prefix >= 1 else { throw ValidationError("--prefix must be at least 1 (got \(prefix))") }
    guard horizon > prefix else { throw ValidationError("--horizon (\(horizon)) must be larger than --prefix (\(prefix))") }
    guard horizon <= 100_000 else { throw ValidationError("--horizon must be at most 100000 (got \(horizon))") }
  }

  /// The trusted coefficients of the file; the prefix must lie within them.
  func load() throws -> [Double] {
    let sequence: CoefficientSequence
    do { sequence = try CoefficientFile.read(path: input) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let trusted = Array(sequence.coefficients.prefix(sequence.trustedCount ?? sequence.coefficients.count))
    guard trusted.count >= prefix else {
      printError(
        "error: \(input): the prefix needs \(prefix) trusted coefficients; the file has \(trusted.count)"
          + (sequence.coefficients.count > trusted.count ? " (of \(sequence.coefficients.count) computed)" : ""))
      throw ExitCode(1)
    }
    return trusted
  }
}

/// Every method's extrapolation of one prefix: the transformer and the baselines of physics.md §5.
struct MethodForecasts {
  let prefix: [Double]
  let horizon: Int
  let transformer: [Double]
  /// Baseline name → values b_{k+1}..b_M, in a fixed order.
  let baselines: [(name: String, values: [Double])]
  let bestFitForm: String?

  static let baselineNames = ["linear_fit", "log_corrected_fit", "best_fit", "linear_ar"]

  init(prefix: [Double], horizon M: Int, forecaster: Forecaster, ablation: Ablation = .none) throws {
    self.prefix = prefix
    horizon = M
    transformer = try forecaster.forecast(prefix: prefix, horizon: M, ablation: ablation).values
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
    if let ar = LinearAutoregression.fit(prefix) {
      baselines.append(("linear_ar", ar.rollout(history: prefix, count: M - k)))
    }
    self.baselines = baselines
  }

  /// (name, values) for every method, transformer first.
  var all: [(name: String, values: [Double])] { [("transformer", transformer)] + baselines }
}

/// Each method's errors against the truth b_1..b_M.
struct MethodErrors {
  /// Relative RMS error over b_{k+1}..b_M, by method.
  var coefficients: [String: Double] = [:]
  /// max |ΔC(t)| over [0, windowEnd], by method.
  var autocorrelation: [String: Double] = [:]
  var windowEnd = 0.0

  init(methods: MethodForecasts, truth: [Double]) throws {
    let k = methods.prefix.count
    let horizonTruth = Array(truth[k..<methods.horizon])
    let comparison = try ObservableComparison(truth: Array(truth[0..<methods.horizon]))
    windowEnd = comparison.windowEnd
    for (name, values) in methods.all {
      coefficients[name] = relativeRMSError(values, horizonTruth)
      autocorrelation[name] = try comparison.maxError(predicted: methods.prefix + values)
    }
  }

  /// The best of the asymptotic fits (physics.md §5's comparison), on b_n and on C(t).
  var bestFitCoefficients: Double { min(coefficients["linear_fit"] ?? .infinity, coefficients["log_corrected_fit"] ?? .infinity) }
  var bestFitAutocorrelation: Double {
    min(autocorrelation["linear_fit"] ?? .infinity, autocorrelation["log_corrected_fit"] ?? .infinity)
  }
}

/// Parses `L1H3`, `1.3` or `1:3` as (layer, head).
func parseHead(_ text: String) -> HeadID? {
  let t = text.uppercased().trimmingCharacters(in: .whitespaces)
  if t.hasPrefix("L"), let h = t.firstIndex(of: "H"), let l = Int(t[t.index(after: t.startIndex)..<h]),
    let head = Int(t[t.index(after: h)...])
  {
    return HeadID(layer: l, head: head)
  }
  let parts = t.split(whereSeparator: { $0 == "." || $0 == ":" })
  if parts.count == 2, let l = Int(parts[0]), let h = Int(parts[1]) { return HeadID(layer: l, head: h) }
  return nil
}

/// Parses an n range `a:b` or `a-b` (inclusive, 1-based) into token positions (n − 1).
func parsePositionRange(_ text: String) -> Range<Int>? {
  let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
  guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, b >= a else { return nil }
  return (a - 1)..<b
}

func jsonText(_ object: Any) -> String {
  let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
  return String(decoding: data, as: UTF8.self)
}

/// A number for JSON: NaN and infinities become null.
func jsonNumber(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
