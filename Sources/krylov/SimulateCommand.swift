import ArgumentParser
import Foundation
import KrylovEngine
import Synchronization

struct SimulateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "C(t) of a classical spin chain by molecular dynamics, with its statistical error.",
    discussion: """
      Every Pauli matrix of the model and the operator is read as a component of a classical \
      unit spin (physics.md §6). Initial spins are drawn independently and uniformly on the \
      sphere (infinite temperature), each trajectory follows dS_j/dt = ∇_j H × S_j, and \
      C(t) = ⟨O(t) O(0)⟩ / ⟨O O⟩ is averaged over the samples, with its standard error. Only \
      classical spins are simulated: quantum dynamics is not (for a quantum chain, C(t) comes \
      from 'krylov lanczos' followed by 'krylov observe'). The infinite chain (--n inf, the \
      default) is simulated on a ring that stands in for it: 16 sites up to t = 3, longer \
      rings for longer windows, up to 30 sites (the window is cut where 30 sites stop \
      representing it; the output says so).

      Integrator: sites are coloured so that no term of H holds two sites of one colour; the \
      spins of one colour turn exactly about their frozen local fields, and the colour flows \
      are composed symmetrically and lifted to fourth order (Yoshida). |S_j| = 1 and H are kept \
      to rounding at any step; the error of everything else shrinks like (dt/substeps)^4.

      Normalization: C(t) = mean(O(t)O(0)) / mean(O(0)²) over the same samples, so C(0) = 1 \
      and the error vanishes as t -> 0; 'stderr' is the delta-method standard error of that ratio.

      Samples run in chunks of 256 with seeds derived from --seed, so a seed and a sample count \
      fix the result whatever the number of threads. Ctrl-C stops at the next chunk and still \
      writes the estimate from the samples completed (marked in the output); the exit status is \
      then 130.

      CSV: '#' metadata lines, then 't,C,stderr' rows. JSON: one object with the system, the \
      arrays 't', 'C', 'stderr', the sample counts and the run's settings.

      Example:
        krylov simulate --spins classical --model mfim --n 16 --op sz_total \\
          --samples 100000 --tmax 3 --dt 0.05 --seed 1
      """
  )

  @Option(
    help: ArgumentHelp("Kind of spins: classical (the only kind simulated; quantum dynamics is not).", valueName: "classical"))
  var spins: String = "classical"

  @OptionGroup var system: ChainOptions

  @Option(help: "Number of random initial states (at least 2).")
  var samples: Int = 100_000

  @Option(help: "Last time of the output grid.")
  var tmax: Double = 3

  @Option(help: "Output time step.")
  var dt: Double = 0.05

  @Option(help: "Integrator steps per output step.")
  var substeps: Int = 1

  @Option(help: "Seed of the random initial states (default: drawn at random, and printed with the output).")
  var seed: UInt64?

  @Option(help: "Worker threads (default: every core). The result does not depend on it.")
  var threads: Int?

  @Option(help: "Output format: csv (columns t,C,stderr) or json (arrays t, C, stderr).")
  var format: OutputFormat = .csv

  @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
  var output: String?

  @Flag(name: .shortAndLong, help: "No progress or summary on standard error.")
  var quiet = false

  func validate() throws {
    switch spins.lowercased() {
    case "classical": break
    case "quantum":
      throw ValidationError(
        "--spins quantum: quantum dynamics is not simulated; for a quantum chain, C(t) comes from 'krylov lanczos' followed by 'krylov observe'"
      )
    default: throw ValidationError("--spins must be 'classical' (got '\(spins)')")
    }
    guard dt.isFinite, dt > 0 else { throw ValidationError("--dt must be a positive number (got \(dt))") }
    guard tmax.isFinite, tmax >= dt else {
      throw ValidationError("--tmax must be a number at least --dt (got --tmax \(tmax), --dt \(dt))")
    }
    guard tmax / dt <= 1_000_000 else { throw ValidationError("--tmax / --dt asks for more than 10^6 time points") }
    guard samples >= 2 else {
      throw ValidationError("--samples must be at least 2, to estimate a standard error (got \(samples))")
    }
    guard samples <= 1_000_000_000 else {
      throw ValidationError(
        "--samples must be at most 10^9 (got \(samples)); the standard error falls as 1/√samples, about 3e-5 at 10^9")
    }
    guard substeps >= 1, substeps <= 10_000 else {
      throw ValidationError("--substeps must be between 1 and 10000 (got \(substeps))")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
  }

  func run() async throws {
    // Validated above: simulate reads the chain as classical spins, on a finite chain.
    let chain = try system.chain(spins: .classical)
    let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
    let simulation: ClassicalAutocorrelation
    do {
      simulation = try MolecularDynamicsSetup(chain: chain, tmax: tmax, dt: dt)
        .simulation(samples: samples, seed: seed, substeps: substeps)
    } catch {
      throw ValidationError(error.description)
    }
    let sink = try DataSink.openOrExit(output)

    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    let workers = threads ?? ProcessInfo.processInfo.activeProcessorCount
    let integrator = simulation.integrator
    if !quiet {
      printError(
        "krylov: \(chain.label); \(samples) samples, \(integrator.colours.count) colours, "
          + "order \(integrator.order.rawValue), \(substeps) substep(s) per dt; seed \(seed)")
    }
    let progress = SampleProgress(total: samples, enabled: !quiet && standardErrorIsTerminal)
    let start = Date()
    let estimate = simulation.run(threads: workers, isCancelled: { cancel.isSet }, progress: { progress.update(done: $0) })
    let seconds = Date().timeIntervalSince(start)
    progress.clear()

    switch format {
    case .csv: sink.write(csv(chain: chain, simulation: simulation, estimate: estimate, seconds: seconds))
    case .json: try sink.writeJSON(json(chain: chain, simulation: simulation, estimate: estimate, seconds: seconds))
    }
    do { try sink.finish() } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    if !quiet {
      let rate = Double(estimate.samples) / max(seconds, 1e-9)
      var line = "krylov: \(estimate.samples) samples in " + String(format: "%.2f s (%.0f samples/s)", seconds, rate)
      if estimate.cancelled { line += "; stopped by request: the estimate uses the \(estimate.samples) samples completed" }
      printError(line)
    }
    if watcher.signalNumber != nil { throw ExitCode(130) }
  }

  private func stopNote(_ e: ClassicalAutocorrelation.Estimate) -> String {
    e.cancelled ? "cancelled: the estimate uses the \(e.samples) of \(e.requested) samples completed" : "completed"
  }

  private func csv(
    chain: SpinChain, simulation: ClassicalAutocorrelation, estimate e: ClassicalAutocorrelation.Estimate, seconds: Double
  )
    -> String
  {
    var lines = [String(CoefficientFile.csvPreamble(tool: "simulate", system: chain).dropLast())]
    if chain.isInfinite {
      lines.append("# simulated: a ring of \(simulation.hamiltonian.siteCount) sites stands in for the infinite chain")
    }
    lines += [
      "# samples: \(e.samples)", "# samples_requested: \(e.requested)", "# seed: \(simulation.seed)",
      "# tmax: \(tmax)", "# dt: \(dt)",
      "# integrator: colour-split exact rotations, \(simulation.integrator.colours.count) colours, order \(simulation.integrator.order.rawValue), \(substeps) substep(s) per dt",
      "# normalization: C = mean(O(t)O(0)) / mean(O(0)^2); stderr by the delta method for that ratio",
      "# mean_square_exact: \(e.exactMeanSquare)", "# mean_square_sample: \(e.sampleMeanSquare)",
      "# stop: \(stopNote(e))", "# seconds: \(String(format: "%.3f", seconds))", "t,C,stderr",
    ]
    for k in e.times.indices {
      lines.append("\(formatTime(e.times[k])),\(formatCoefficient(e.values[k])),\(formatCoefficient(e.standardErrors[k]))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  private func json(
    chain: SpinChain, simulation: ClassicalAutocorrelation, estimate e: ClassicalAutocorrelation.Estimate, seconds: Double
  )
    -> SimulationDocument
  {
    // JSON has no NaN: a value or standard error that cannot be estimated is null.
    SimulationDocument(
      formatVersion: CoefficientFile.formatVersion, system: SystemRecord(chain),
      t: e.times.map { Double(formatTime($0)) ?? $0 }, C: e.values.map { $0.isFinite ? $0 : nil },
      stderr: e.standardErrors.map { $0.isFinite ? $0 : nil }, samples: e.samples, samplesRequested: e.requested,
      seed: simulation.seed, tmax: tmax, dt: dt,
      integrator: .init(
        method: "colour-split exact rotations", colours: simulation.integrator.colours.count,
        order: simulation.integrator.order.rawValue, substeps: substeps),
      normalization: "C = mean(O(t)O(0)) / mean(O(0)^2); stderr by the delta method for that ratio",
      meanSquareExact: e.exactMeanSquare, meanSquareSample: e.sampleMeanSquare,
      stop: e.cancelled ? "cancelled" : "completed", timings: .init(totalSeconds: seconds))
  }
}

/// What `krylov simulate --format json` writes (docs/formats.md).
struct SimulationDocument: Encodable {
  var formatVersion: Int
  var system: SystemRecord
  var t: [Double]
  var C: [Double?]
  var stderr: [Double?]
  var samples: Int
  var samplesRequested: Int
  var seed: UInt64
  var tmax: Double
  var dt: Double
  var integrator: Integrator
  var normalization: String
  var meanSquareExact: Double
  var meanSquareSample: Double
  var stop: String
  var timings: CoefficientDocument.Timings

  struct Integrator: Encodable {
    var method: String
    var colours: Int
    var order: Int
    var substeps: Int
  }

  enum CodingKeys: String, CodingKey {
    case formatVersion = "format_version"
    case system, t, C, stderr, samples
    case samplesRequested = "samples_requested"
    case seed, tmax, dt, integrator, normalization
    case meanSquareExact = "mean_square_exact"
    case meanSquareSample = "mean_square_sample"
    case stop, timings
  }

  // Nulls are written, not omitted: the arrays keep their length.
  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(formatVersion, forKey: .formatVersion)
    try c.encode(system, forKey: .system)
    try c.encode(t, forKey: .t)
    var values = c.nestedUnkeyedContainer(forKey: .C)
    for v in C { if let v { try values.encode(v) } else { try values.encodeNil() } }
    var errors = c.nestedUnkeyedContainer(forKey: .stderr)
    for v in stderr { if let v { try errors.encode(v) } else { try errors.encodeNil() } }
    try c.encode(samples, forKey: .samples)
    try c.encode(samplesRequested, forKey: .samplesRequested)
    try c.encode(seed, forKey: .seed)
    try c.encode(tmax, forKey: .tmax)
    try c.encode(dt, forKey: .dt)
    try c.encode(integrator, forKey: .integrator)
    try c.encode(normalization, forKey: .normalization)
    try c.encode(meanSquareExact, forKey: .meanSquareExact)
    try c.encode(meanSquareSample, forKey: .meanSquareSample)
    try c.encode(stop, forKey: .stop)
    try c.encode(timings, forKey: .timings)
  }
}

/// A self-overwriting progress line for sample counts: done, rate, ETA.
///
/// Called from worker threads; draws at most ten times a second.
final class SampleProgress: Sendable {
  let total: Int
  let enabled: Bool
  private let start = Date()
  private let last = Mutex<Double>(0)

  init(total: Int, enabled: Bool) {
    self.total = total
    self.enabled = enabled
  }

  func update(done: Int) {
    guard enabled else { return }
    let elapsed = Date().timeIntervalSince(start)
    let draw = last.withLock { last -> Bool in
      if elapsed - last < 0.1 && done < total { return false }
      last = elapsed
      return true
    }
    guard draw else { return }
    let rate = Double(done) / max(elapsed, 1e-9)
    let eta = rate > 0 ? Double(total - done) / rate : 0
    let text = String(
      format: "\r\u{1B}[2K  %d/%d samples  %.0f samples/s  ETA %@", done, total, rate, formatDuration(eta))
    writeStandardError(text)
  }

  func clear() {
    if enabled { writeStandardError("\r\u{1B}[2K") }
  }
}

/// A grid time k·dt without the rounding noise of the product (0.3, not 0.30000000000000004).
func formatTime(_ t: Double) -> String { String(format: "%.12g", t) }

/// `42 s`, `3 min 05 s`, `2 h 10 min`.
func formatDuration(_ seconds: Double) -> String {
  let s = Int(seconds.rounded())
  if s < 60 { return "\(s) s" }
  if s < 3600 { return String(format: "%d min %02d s", s / 60, s % 60) }
  return String(format: "%d h %02d min", s / 3600, (s % 3600) / 60)
}
