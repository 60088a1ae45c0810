import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

/// `--model FILE`, or the embedded model for the sequence's kind of spins.
struct ModelOptions: ParsableArguments {
  @Option(
    help: """
      A checkpoint written by 'krylov train' (default: the embedded model for the input's spins, \
      quantum or classical).
      """)
  var model: String?

  func load(for domain: DefaultModel.Domain = .quantum) throws -> Forecaster {
    do {
      if let model { return try Checkpoint.load(path: model) }
      return try DefaultModel.load(domain)
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
  }

  /// The model's name in output headers.
  func name(for domain: DefaultModel.Domain) -> String { model ?? domain.displayName }
}

extension DefaultModel.Domain {
  /// The embedded model for a chain's kind of spins.
  init(_ spins: SpinKind) { self = spins == .classical ? .classical : .quantum }
}

/// An input file's trusted coefficients and which embedded model suits them.
struct InputSequence {
  var trusted: [Double]
  /// Classical when the file says its chain has classical spins (files from 'krylov lanczos' do).
  var domain: DefaultModel.Domain
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

  /// The trusted coefficients of the file (the prefix must lie within them) and its spins.
  func load() throws -> InputSequence {
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
    return InputSequence(trusted: trusted, domain: sequence.system?.spins == .classical ? .classical : .quantum)
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

/// A number for JSON: NaN and infinities become null (an error that cannot be computed).
func finiteOrNil(_ x: Double) -> Double? { x.isFinite ? x : nil }
