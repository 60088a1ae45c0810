import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine

struct ObserveCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "observe",
    abstract: "Autocorrelation C(t) and Krylov complexity K(t) from a coefficients file.",
    discussion: """
      Reads what 'krylov lanczos' writes (CSV or JSON) or any CSV of 'n,b_n' rows (header \
      optional, '#' comments allowed). Only the trusted coefficients are used when the file \
      marks trust, unless --include-untrusted is given. C(t) and K(t) follow from one \
      eigendecomposition of the Krylov chain (physics.md §4), exact for the coefficients given. \
      A sequence that was not exhausted fixes C(t) only up to some time: the estimate of that
      time is printed as '# converged_until' (CSV) or "converged_until" (JSON).
      """
  )

  @Option(name: [.short, .long], help: "Coefficients file (CSV or JSON).")
  var input: String

  @Option(help: "Last time of the grid.")
  var tmax: Double = 10

  @Option(help: "Time step of the grid.")
  var dt: Double = 0.1

  @Option(help: "Output format: csv (columns t,C,K) or json (arrays t, C, K).")
  var format: OutputFormat = .csv

  @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
  var output: String?

  @Flag(help: "Use coefficients the file marks as not trusted.")
  var includeUntrusted = false

  func validate() throws {
    guard tmax.isFinite, tmax >= 0 else { throw ValidationError("--tmax must be a non-negative number (got \(tmax))") }
    guard dt.isFinite, dt > 0 else { throw ValidationError("--dt must be a positive number (got \(dt))") }
    guard tmax / dt <= 10_000_000 else { throw ValidationError("--tmax / --dt asks for more than 10^7 time points") }
  }

  func run() async throws {
    let sequence: CoefficientSequence
    do { sequence = try CoefficientFile.read(path: input) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    var b = sequence.coefficients
    if let trusted = sequence.trustedCount, trusted < b.count, !includeUntrusted {
      printError(
        "krylov: using the \(trusted) trusted coefficients of \(b.count) (--include-untrusted to use all)")
      b = Array(b.prefix(trusted))
    }
    guard !b.isEmpty else {
      printError("error: \(input): no coefficients to observe (none, or none trusted: --include-untrusted uses all)")
      throw ExitCode(1)
    }
    let count = Int((tmax / dt).rounded(.down)) + 1
    let times = (0..<count).map { Double($0) * dt }
    let dynamics: KrylovChainDynamics
    do { dynamics = try KrylovChainDynamics(coefficients: b) } catch {
      printError("error: \(input): \(error)")
      throw ExitCode(1)
    }
    let c = times.map { dynamics.autocorrelation(at: $0) }
    let k = times.map { dynamics.complexity(at: $0) }
    // Coefficients near the top of double range turn the phases λt into infinities within a
    // short time: that C(t) cannot be computed, and nan is never written.
    if let bad = c.indices.first(where: { !c[$0].isFinite || !k[$0].isFinite }) {
      printError(
        "error: \(input): C(t) is not a finite number from t = \(times[bad]) on: the coefficients (up to "
          + "\(b.max() ?? 0)) put the phases λt beyond double range; ask for a --tmax below \(times[bad])")
      throw ExitCode(1)
    }
    let exhausted = sequence.exhausted && b.count == sequence.coefficients.count
    let converged: Double? =
      exhausted ? nil : try? KrylovChainDynamics.convergenceTime(coefficients: b, times: times, tolerance: 1e-6)

    let sink = try DataSink.openOrExit(output)
    switch format {
    case .csv:
      var text = "# krylov observe\n# input: \(input)\n# coefficients: \(b.count)\n# exhausted: \(exhausted)\n"
      if let converged { text += "# converged_until: \(converged)\n" }
      text += "t,C,K\n"
      for i in 0..<count { text += "\(times[i]),\(c[i]),\(k[i])\n" }
      sink.write(text)
    case .json:
      try sink.writeJSON(
        ObservablesDocument(
          t: times, C: c, K: k, coefficients: b.count, exhausted: exhausted,
          convergedUntil: converged.map { .time($0) } ?? (exhausted ? .all : .unknown)))
    }
    try sink.finish()
  }
}
