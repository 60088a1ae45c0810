import ArgumentParser
import Foundation
import KrylovEngine

struct LanczosCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lanczos",
    abstract: "Compute Lanczos coefficients b_n exactly, streaming each as it is computed.",
    discussion: """
      The recursion runs inside the operator's symmetry sector (translations and reflections \
      that fix H and O; when H conserves total S^z, strings of sigma+, sigma-, Z in the \
      operator's charges; otherwise the time-reversal parity of Pauli strings and the global \
      spin flips X...X and Z...Z when H is even under them), with full \
      reorthogonalization for small sectors and partial reorthogonalization with Float \
      storage for large ones (--reorth, --precision). The infinite chain (--n inf) is exact \
      over the translation classes actually reached. A perturbed probe run goes alongside; a \
      coefficient is trusted (to 1e-10 relative) while the two agree to 1e-11. Untrusted coefficients are still \
      printed, marked 0 in the CSV 'trusted' column and beyond 'trusted' in JSON.

      With --spins classical the chain is classical (unit-vector spins, Poisson brackets; the \
      same models, operators and custom texts, each Pauli letter read as a spin component): \
      the basis is products of spherical harmonics, enumerated breadth first from the operator. \
      Its Krylov space never ends, and grows about 2.3x per step for mfim.

      CSV: '#' metadata lines, then 'n,b_n,trusted' rows written the moment each b_n exists. \
      JSON: one object with the system, 'b', 'trusted', 'exhausted' and timings.
      Ctrl-C stops the run and still writes what was computed.
      """
  )

  @OptionGroup var system: SystemOptions

  @Option(
    name: .customLong("steps"),
    help:
      "Number of coefficients to compute (fewer if the Krylov space is exhausted). Default: 200 for quantum spins, 18 for classical ones."
  )
  var requestedSteps: Int?

  var steps: Int { requestedSteps ?? RunDefaults.of(system.spins).steps }

  @Option(
    help:
      "Symmetry sector: auto (largest symmetry of H and O: charge sectors when H conserves total S^z, spin flips otherwise), pauli (site symmetries and spin flips without charge sectors) or none (full basis); the last two are for comparison."
  )
  var symmetry: SymmetryMode = .auto

  @Option(
    help: ArgumentHelp(
      "Reorthogonalization: auto, full (every vector, twice) or partial (Simon's, when the estimated loss of orthogonality passes √ε).",
      valueName: "mode"))
  var reorth: ReorthogonalizationOption = .auto

  @Option(help: ArgumentHelp("Storage of the Krylov vectors: auto, double or single.", valueName: "precision"))
  var precision: PrecisionOption = .auto

  @Option(help: "Output format: csv or json.")
  var format: OutputFormat = .csv

  @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
  var output: String?

  @Option(help: "Refuse runs whose memory estimate exceeds this (e.g. 8G). Default: 70% of physical memory.")
  var memoryLimit: MemorySize?

  @Flag(name: .shortAndLong, help: "No progress on standard error.")
  var quiet = false

  @Option(
    help: ArgumentHelp(
      "Infinite chain only: keep the K largest translation classes after each step, for longer approximate sequences (every value marked not trusted).",
      valueName: "K"))
  var truncate: Int?

  func validate() throws {
    if let truncate {
      guard truncate >= 1 else { throw ValidationError("--truncate must be at least 1 (got \(truncate))") }
      guard system.size == .infinite else { throw ValidationError("--truncate applies to the infinite chain only (--n inf)") }
      guard system.spins == .quantum else { throw ValidationError("--truncate applies to quantum spins only") }
    }
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
    guard steps <= 1_000_000 else { throw ValidationError("--steps must be at most 1000000 (got \(steps))") }
  }

  func run() async throws {
    let chain = try system.system()
    let plan: RunPlan
    do {
      plan = try RunPlan(
        chain: chain, steps: steps, symmetry: symmetry, reorthogonalization: reorth.mode, precision: precision.precision)
    } catch {
      throw ValidationError(error.description)
    }
    if let keep = truncate { return try runTruncated(chain: chain, plan: plan, keep: keep) }
    let limit = memoryLimit?.bytes ?? RunPlan.defaultMemoryLimit
    do { try plan.checkMemory(limit: limit, symmetry: symmetry) } catch {
      printError("error: \(error)")
      throw ExitCode(3)
    }
    let sink = try DataSink.openOrExit(output)

    let job = LanczosJob(plan: plan, options: plan.lanczosOptions)
    let watcher = InterruptWatcher { job.cancel() }
    let progress = ProgressLine(enabled: !quiet && standardErrorIsTerminal)
    if format == .csv { sink.write(csvHeader(chain: chain)) }

    var sectorLine = ""
    var dimensions: [Int] = []
    var setupSeconds = 0.0
    var final: LanczosResult?
    for await event in job.events {
      switch event {
      case .setupProgress(let fraction):
        progress.update(setup: fraction)
      case .started(let sector, let dims, let setup):
        progress.clear()
        sectorLine = sector
        dimensions = dims
        setupSeconds = setup
        if format == .csv { sink.write("# sector: \(sector)\nn,b_n,trusted\n") }
        if !quiet {
          printError(
            "krylov: \(chain.label); \(sector); \(plan.reorthogonalization) reorthogonalization, \(plan.precision) storage")
        }
      case .step(let step):
        if format == .csv { sink.write("\(step.n),\(formatCoefficient(step.b)),\(step.trusted ? 1 : 0)\n") }
        progress.update(step: step, steps: steps)
      case .finished(let result):
        final = result
      case .failed(let message):
        progress.clear()
        printError("error: \(message)")
        throw ExitCode(1)
      case .refused(let message):
        progress.clear()
        printError("error: \(message)")
        throw ExitCode(3)
      }
    }
    progress.clear()
    guard let result = final else { throw ExitCode(1) }
    switch format {
    case .csv: sink.write(csvTrailer(result, plan: plan))
    case .json:
      try sink.writeJSON(
        jsonDocument(chain: chain, sector: sectorLine, dimensions: dimensions, setup: setupSeconds, result: result, plan: plan))
    }
    do { try sink.finish() } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    if !quiet { printError(summary(result)) }
    if watcher.signalNumber != nil { throw ExitCode(130) }
    if result.stopReason == .nonFinite {
      printError(
        "error: b_\(result.coefficients.count + 1) is not a finite number: the Hamiltonian's or the operator's "
          + "coefficients are beyond double precision's range; the \(result.coefficients.count) before it were written")
      throw ExitCode(1)
    }
  }

  /// The approximate infinite chain (`--truncate K`): same outputs, every value marked not
  /// trusted, the truncation and the last step before any class was dropped reported.
  private func runTruncated(chain: SpinChain, plan: RunPlan, keep: Int) throws {
    let limit = memoryLimit?.bytes ?? RunPlan.defaultMemoryLimit
    let most = TruncatedInfiniteLanczos.maximumKeep(memoryLimit: limit)
    guard keep <= most else {
      let perClass = TruncatedInfiniteLanczos.bytesPerClass
      let bytes = keep > Int.max / perClass ? Int.max : keep * perClass
      printError(
        "error: refusing to start: --truncate \(keep) could hold about \(formatBytes(bytes)) of classes, above "
          + "the memory limit of \(formatBytes(limit)); at most --truncate \(most) fits")
      throw ExitCode(3)
    }
    let sink = try DataSink.openOrExit(output)
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    let note = "approximate: the \(keep) largest translation classes kept after each step; no value is trusted"
    if format == .csv { sink.write(csvHeader(chain: chain) + "# \(note)\nn,b_n,trusted\n") }
    if !quiet { printError("krylov: \(chain.label); \(note)") }
    let start = Date()
    var classes: [Int] = []
    let result: TruncatedInfiniteLanczos.Result
    do {
      result = try TruncatedInfiniteLanczos(plan: plan, keep: keep).run(steps: steps, isCancelled: { cancel.isSet }) { step in
        classes.append(step.classes)
        if format == .csv { sink.write("\(step.n),\(formatCoefficient(step.b)),0\n") }
      }
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let seconds = Date().timeIntervalSince(start)
    switch format {
    case .csv:
      sink.write(
        "# trusted: 0\n# approximate: true\n# truncation: \(keep)\n# exact_until: \(result.exactUntil)\n"
          + "# stop: \(result.cancelled ? "cancelled" : "completed")\n# seconds: \(String(format: "%.3f", seconds))\n")
    case .json:
      var document = CoefficientDocument(system: chain, b: result.coefficients, trusted: 0, exhausted: nil)
      document.steps = steps
      document.approximate = true
      document.truncation = keep
      document.exactUntil = result.exactUntil
      document.classes = classes
      document.stop = result.cancelled ? "cancelled" : "completed"
      document.timings = .init(totalSeconds: seconds)
      try sink.writeJSON(document)
    }
    do { try sink.finish() } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    if !quiet {
      printError(
        "krylov: \(result.coefficients.count) approximate coefficients; no class dropped up to n = \(result.exactUntil)"
          + String(format: " (%.2f s)", seconds))
    }
    if watcher.signalNumber != nil { throw ExitCode(130) }
  }

  private func csvHeader(chain: SpinChain) -> String {
    CoefficientFile.csvPreamble(tool: "lanczos", system: chain) + "# steps: \(steps)\n"
  }

  private func csvTrailer(_ r: LanczosResult, plan: RunPlan) -> String {
    var lines = [
      "# trusted: \(r.trustedCount)", "# exhausted: \(r.exhausted)", "# conserved: \(r.conserved)",
      "# stop: \(r.stopReason.rawValue)",
    ]
    if let d = r.krylovDimension {
      lines.append("# krylov_dimension: \(d)")
      lines.append("# exhaustion_trusted: \(r.exhaustionTrusted)")
    }
    lines.append(
      "# reorthogonalization: \(plan.reorthogonalization.rawValue) (at \(r.reorthogonalizedSteps) of \(r.coefficients.count) steps), \(plan.precision.rawValue) storage"
    )
    lines.append("# seconds: \(String(format: "%.3f", r.totalSeconds))")
    return lines.joined(separator: "\n") + "\n"
  }

  private func jsonDocument(
    chain: SpinChain, sector: String, dimensions: [Int], setup: Double, result r: LanczosResult, plan: RunPlan
  ) -> CoefficientDocument {
    var document = CoefficientDocument(system: chain, b: r.coefficients, trusted: r.trustedCount, exhausted: r.exhausted)
    document.sector = .init(
      symmetry: sector, dimensions: dimensions, basisSize: chain.spins == .classical ? dimensions.reduce(0, +) : nil)
    document.steps = steps
    document.conserved = r.conserved
    document.krylovDimension = r.krylovDimension
    document.exhaustionTrusted = r.exhaustionTrusted
    document.stop = r.stopReason.rawValue
    document.probeDeviation = r.probeDeviations
    document.reorthogonalization = .init(
      mode: plan.reorthogonalization.rawValue, precision: plan.precision.rawValue,
      reorthogonalizedSteps: r.reorthogonalizedSteps)
    document.timings = .init(setupSeconds: setup, totalSeconds: r.totalSeconds, stepSeconds: r.stepSeconds)
    return document
  }

  private func summary(_ r: LanczosResult) -> String {
    var text = "krylov: \(r.coefficients.count) coefficients, \(r.trustedCount) trusted"
    switch r.stopReason {
    case .conserved: text += "; the operator commutes with H (conserved): its Krylov space is one-dimensional"
    case .exhausted:
      text += "; Krylov space exhausted at dimension \(r.krylovDimension ?? 0)"
      if !r.exhaustionTrusted { text += " (exhaustion point not trusted)" }
    case .cancelled: text += "; stopped by request"
    case .nonFinite: text += "; stopped at a coefficient that is not a finite number"
    case .completed: break
    }
    if r.trustedCount < r.coefficients.count {
      text += "; b_\(r.trustedCount + 1) onwards are NOT trusted"
    }
    return text + String(format: " (%.2f s)", r.totalSeconds)
  }
}

/// One self-overwriting progress line on a terminal's standard error.
final class ProgressLine {
  let enabled: Bool
  private var last = Date.distantPast

  init(enabled: Bool) { self.enabled = enabled }

  func update(step: LanczosStep, steps: Int) {
    guard enabled, Date().timeIntervalSince(last) > 0.1 || step.n == steps else { return }
    last = Date()
    let rate = step.seconds > 0 ? 1 / step.seconds : 0
    let text = String(
      format: "\r\u{1B}[2K  b_%d = %.10g %@  %d/%d  %.1f steps/s  rss %@", step.n, step.b,
      step.trusted ? "trusted" : "UNTRUSTED", step.n, steps, rate, formatBytes(residentBytes()))
    writeStandardError(text)
  }

  /// The set-up's fraction done, while the sector (or the search) is built.
  func update(setup fraction: Double) {
    guard enabled, Date().timeIntervalSince(last) > 0.1 || fraction >= 1 else { return }
    last = Date()
    writeStandardError(String(format: "\r\u{1B}[2K  building the sector: %d%%", Int(fraction * 100)))
  }

  func clear() {
    if enabled { writeStandardError("\r\u{1B}[2K") }
  }
}

/// Current resident memory of this process, from /proc.
func residentBytes() -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
  let fields = text.split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Peak resident memory of this process, from /proc.
func peakResidentBytes() -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
  for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kb * 1024
  }
  return 0
}
