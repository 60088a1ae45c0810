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

/// An input file's trusted coefficients, the system the forecaster is told, and which
/// embedded model suits them.
struct InputSequence {
  var trusted: [Double]
  /// Classical when the file or `--spins` says the chain has classical spins.
  var domain: DefaultModel.Domain
  /// The size and boundary from the file's system block or the options; unknown without either.
  var context: SystemContext
}

/// The input sequence, what is known of its system, prefix length and horizon: shared by the
/// forecasting commands.
struct ForecastInputOptions: ParsableArguments {
  @Option(name: [.short, .long], help: "Coefficients file (CSV or JSON, as 'krylov lanczos' writes).")
  var input: String

  @Option(help: "Prefix length k: the forecast starts from b_1..b_k.")
  var prefix: Int = 30

  @Option(help: "Horizon M: forecast b_{k+1}..b_M.")
  var horizon: Int = 200

  @Option(
    name: .customLong("n"),
    help: ArgumentHelp(
      """
      The chain's number of sites N, or 'inf', as on 'krylov lanczos'. Read from the file's system \
      block when it has one; without either the forecast is made with the size unknown.
      """, valueName: "N|inf"))
  var size: ChainSize?

  @Option(help: "The chain's boundary, pbc or obc (default: the file's, else pbc).")
  var bc: Boundary?

  @Option(help: "The chain's spins, quantum or classical: chooses the embedded model (default: the file's, else quantum).")
  var spins: SpinKind?

  func validate() throws {
    guard prefix >= 1 else { throw ValidationError("--prefix must be at least 1 (got \(prefix))") }
    guard horizon > prefix else { throw ValidationError("--horizon (\(horizon)) must be larger than --prefix (\(prefix))") }
    guard horizon <= Forecaster.maximumHorizon else {
      throw ValidationError(
        "--horizon must be at most \(Forecaster.maximumHorizon) (got \(horizon)): a rollout's cost grows as M²")
    }
  }

  /// The trusted coefficients of the file (the prefix must lie within them) and its system,
  /// the options overriding the file's block; a contradiction between them is an error.
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
    let file = sequence.system
    func contradiction(_ option: String, _ asked: String, _ found: String) -> ExitCode {
      printError(
        "error: \(option) \(asked) contradicts \(input), whose system has \(option.dropFirst(2)) \(found); "
          + "drop the option or use the right file")
      return ExitCode(1)
    }
    if let spins, let found = file?.spins, spins != found { throw contradiction("--spins", spins.rawValue, found.rawValue) }
    if let size, let found = file?.size, size != found { throw contradiction("--n", size.description, found.description) }
    if let bc, let found = file?.boundary, file?.isInfinite == false, bc != found {
      throw contradiction("--bc", bc.rawValue, found.rawValue)
    }
    let kind = spins ?? file?.spins ?? .quantum
    let context: SystemContext
    switch size ?? file?.size {
    case nil: context = .unknown
    case .infinite?: context = .infinite
    case .finite(let n)?: context = .finite(n, openBoundary: (bc ?? file?.boundary ?? .pbc) == .obc)
    }
    return InputSequence(trusted: trusted, domain: DefaultModel.Domain(kind), context: context)
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
