import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Score the transformer against the fits and the AR baseline on held-out systems.",
    discussion: """
      For every sequence of the dataset with at least M trusted coefficients: forecasts from \
      the first k, then the relative RMS error on b_{k+1..M} and the largest |ΔC(t)| over the \
      window where the true C(t) is converged, for the transformer, each asymptotic fit and \
      the linear AR model. Aggregates (geometric means over systems) are given separately \
      for chaotic (mfim, j1j2) and integrable (tfim, xxz) quantum systems, for classical \
      systems, and by size, with the ratio of the best asymptotic fit's error to the \
      transformer's. Sequences too short for M are listed as skipped.

      Each sequence is forecast by the embedded model for its kind of spins (quantum or \
      classical) unless --model names a checkpoint. For classical systems C(t) is also scored \
      against molecular dynamics (--md-samples trajectories on the chain, or on a ring of 16 \
      sites for the infinite chain, t from 0 to --md-tmax): the column "vs MD" is the largest \
      |ΔC(t)| against the simulation, and the row "exact b_1..b_M" is the floor that the \
      simulation's noise and the truncation at M leave. --continue-to H continues all M \
      computed coefficients to n = H with every method and scores C(t) against a longer \
      simulation (t up to --continue-tmax): how far past the computed coefficients each \
      continuation keeps C(t) right.

      A model with system inputs is told each system's size and boundary ("transformer"), and \
      forecasts again with them withheld ("transformer_size_unknown"). --reference-model PATH \
      scores another checkpoint beside it ("reference_model", for example the size-blind model \
      of an earlier release). "band 80%" is the share of the true b_{k+1..M} inside the \
      transformer's 80% band (mean over systems; the target is 70–90%).

      --format markdown prints the tables of docs/model-card.md.
      """
  )

  enum Format: String, ExpressibleByArgument, CaseIterable { case csv, json, markdown }

  @Option(parsing: .upToNextOption, help: "Dataset directories (held-out systems).")
  var data: [String]

  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Prefix length k.")
  var prefix: Int = 30

  @Option(help: "Another checkpoint scored beside the transformer, as \"reference_model\".")
  var referenceModel: String?

  @Option(help: "Horizon M.")
  var horizon: Int = 200

  @Option(help: "Output format: csv (per system), json, markdown.")
  var format: Format = .markdown

  @Option(help: "Molecular-dynamics samples per classical system (0: no simulation).")
  var mdSamples: Int = 100_000

  @Option(help: "End of the simulated time window for classical systems.")
  var mdTmax: Double = 3

  @Option(help: "Seed of the molecular dynamics.")
  var mdSeed: UInt64 = 1

  @Option(
    help: """
      Classical systems: also continue all M computed coefficients to this n with every method \
      and score C(t) against molecular dynamics up to --continue-tmax.
      """)
  var continueTo: Int?

  @Option(help: "End of the simulated window for --continue-to (the ring grows with it, up to 30 sites).")
  var continueTmax: Double = 5.6

  func validate() throws {
    guard prefix >= 1 else { throw ValidationError("--prefix must be at least 1") }
    guard horizon > prefix else { throw ValidationError("--horizon (\(horizon)) must be larger than --prefix (\(prefix))") }
    // Errors on C(t) need the coefficients up to M diagonalized: bounded like every rollout.
    let most = min(Forecaster.maximumHorizon, KrylovChainDynamics.maximumCount)
    try requireRange("--horizon", horizon, 2...most)
    if let continueTo { try requireRange("--continue-to", continueTo, 2...most) }
    guard !data.isEmpty else { throw ValidationError("--data needs at least one dataset directory") }
    if let continueTo {
      guard continueTo > horizon else {
        throw ValidationError("--continue-to (\(continueTo)) must be larger than --horizon (\(horizon))")
      }
      guard mdSamples > 0 else { throw ValidationError("--continue-to needs molecular dynamics: --md-samples must not be 0") }
      guard continueTmax >= 0.05, continueTmax <= 100 else {
        throw ValidationError("--continue-tmax must be between 0.05 and 100 (got \(continueTmax))")
      }
    }
    guard mdSamples == 0 || (2...1_000_000_000).contains(mdSamples) else {
      throw ValidationError("--md-samples must be 0 or from 2 to 10^9 (got \(mdSamples))")
    }
    guard mdTmax >= 0.05, mdTmax <= 100 else {
      throw ValidationError("--md-tmax must be between 0.05 (one step) and 100 (got \(mdTmax))")
    }
  }

  /// A method's name in the markdown tables: says which fit is which, and what the model was told.
  static func label(_ method: String, toldSystem: Bool = true) -> String {
    switch method {
    case EvaluationRowName.transformer:
      toldSystem ? "transformer (size given)" : "transformer (reads the coefficients only)"
    case EvaluationRowName.sizeUnknown: "transformer (size not given)"
    case EvaluationRowName.reference: "reference model (--reference-model)"
    case "best_fit": "best_fit (the fit chosen on the prefix)"
    default: method
    }
  }

  func run() throws {
    var forecasters: [DefaultModel.Domain: Forecaster] = [:]
    var evaluator = SystemEvaluator(prefix: prefix, horizon: horizon)
    evaluator.reference = try referenceModel.map { path in
      do { return try Checkpoint.load(path: path) } catch {
        printError("error: --reference-model \(path): \(error)")
        throw ExitCode(1)
      }
    }
    evaluator.simulationSamples = mdSamples
    evaluator.simulationEnd = mdTmax
    evaluator.simulationSeed = mdSeed
    evaluator.continueTo = continueTo
    evaluator.continuationEnd = continueTmax
    var rows: [EvaluationRow] = []
    var skipped: [String] = []
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    do {
      systems: for directory in data {
        let manifest = try DatasetManifest.load(directory: directory)
        for entry in manifest.entries {
          if cancel.isSet { break systems }
          let b = try manifest.trustedCoefficients(of: entry, directory: directory)
          guard b.count >= horizon else {
            skipped.append("\(entry.label) (\(b.count) trusted)")
            continue
          }
          // A named checkpoint serves every sequence; otherwise each kind of spins has its model.
          let domain = modelOptions.model == nil ? DefaultModel.Domain(entry.spinKind) : .quantum
          let forecaster = try forecasters[domain] ?? modelOptions.load(for: domain)
          forecasters[domain] = forecaster
          guard
            let row = try evaluator.evaluate(
              label: entry.label, chain: entry.chain(), model: entry.model, size: entry.size, coefficients: b,
              forecaster: forecaster, isCancelled: { cancel.isSet })
          else { break systems }
          rows.append(row)
          if row.simulated != nil { printError("krylov: [\(rows.count)] \(entry.label): simulated") }
        }
      }
    } catch let exit as ExitCode {
      throw exit
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    if watcher.signalNumber != nil {
      printError("krylov: interrupted; the tables cover the \(rows.count) systems done")
    }
    if rows.isEmpty && watcher.signalNumber == nil {
      let why =
        skipped.isEmpty ? "the datasets hold no systems" : "every system has fewer than M = \(horizon) trusted coefficients"
      printError("error: nothing to evaluate: \(why)")
      throw ExitCode(1)
    }
    let summary = EvaluationSummary(rows: rows)
    switch format {
    case .csv: printCSV(summary)
    case .json: try writeJSON(summary, skipped: skipped)
    case .markdown:
      // Whether the transformer rows were told each system (a size-blind model is not).
      printMarkdown(summary, skipped: skipped, toldSystem: forecasters.values.contains { $0.readsSystem })
    }
    // Interrupted: the tables of what was done are out; the status says it was stopped.
    if watcher.signalNumber != nil { throw ExitCode(130) }
  }

  private func printCSV(_ summary: EvaluationSummary) {
    let methodNames = summary.methodNames
    let simulatedColumns = methodNames + ["exact"]
    print(
      "system,spins,model,size," + methodNames.map { "\($0)_b_rel_rms,\($0)_c_max_abs" }.joined(separator: ",")
        + ",c_window_end," + simulatedColumns.map { "\($0)_c_max_abs_vs_md" }.joined(separator: ",") + ",md_largest_stderr"
        + ",band_coverage")
    for r in summary.rows {
      let cells = methodNames.map {
        String(format: "%.6g,%.6g", r.errors.coefficients[$0] ?? .nan, r.errors.autocorrelation[$0] ?? .nan)
      }
      let md = simulatedColumns.map { name in
        (r.simulated?[name == "exact" ? EvaluationRowName.exact : name]).map { String(format: "%.6g", $0) } ?? ""
      }
      let stderr = r.simulationStandardError.map { String(format: "%.4g", $0) } ?? ""
      let coverage = r.coverage.map { String(format: "%.4g", $0) } ?? ""
      let head = "\"\(r.label)\",\(r.spins.rawValue),\(r.model),\(r.size),"
      let tail = String(format: ",%.4g,", r.errors.windowEnd) + md.joined(separator: ",") + "," + stderr + "," + coverage
      print(head + cells.joined(separator: ",") + tail)
    }
  }

  private func writeJSON(_ summary: EvaluationSummary, skipped: [String]) throws {
    let systems = summary.rows.map { r in
      EvaluationDocument.System(
        system: r.label, spins: r.spins.rawValue, model: r.model, size: r.size, errors: ErrorsRecord(r.errors),
        bandCoverage: r.coverage.flatMap(finiteOrNil),
        cMaxAbsVsMD: r.simulated?.mapValues(finiteOrNil),
        mdLargestStderr: r.simulated == nil ? nil : finiteOrNil(r.simulationStandardError ?? .nan),
        mdSites: r.simulated == nil ? nil : r.simulation?.sites,
        mdEnd: r.simulated == nil ? nil : r.simulation.map { finiteOrNil($0.end) },
        continued: r.continued.flatMap { continued in
          r.continuedSimulation.map { md in
            EvaluationDocument.Continued(
              to: continueTo ?? 0, mdSites: md.sites, mdEnd: finiteOrNil(md.end),
              methods: continued.mapValues {
                .init(cMaxAbsVsMD: finiteOrNil($0.maxError), agreesUntil: finiteOrNil($0.agreement))
              })
          }
        })
    }
    var groups: [String: EvaluationDocument.Aggregate] = [:]
    for systemClass in EvaluationSummary.classes {
      let subset = summary.rows.filter(systemClass.contains)
      guard !subset.isEmpty else { continue }
      groups[systemClass.name] = EvaluationDocument.Aggregate(
        methods: summary.errors(subset).mapValues {
          .init(bRelativeRMS: finiteOrNil($0.coefficients), cMaxAbs: finiteOrNil($0.autocorrelation))
        },
        cMaxAbsVsMD: summary.simulated(subset)?.mapValues(finiteOrNil))
    }
    let sink = try DataSink.openOrExit(nil)
    try sink.writeJSON(
      EvaluationDocument(
        prefix: prefix, horizon: horizon, systems: systems, aggregates: groups, skipped: skipped,
        md: .init(samples: mdSamples, tmax: mdTmax, seed: mdSeed)))
    try sink.finish()
  }

  private func printMarkdown(_ summary: EvaluationSummary, skipped: [String], toldSystem: Bool) {
    let methods = summary.methodNames + [EvaluationRowName.hindsight]
    print(
      "Prefix k = \(prefix), horizon M = \(horizon); errors are geometric means over systems: relative RMS on "
        + "b_{k+1..M}, max |ΔC(t)| over each system's converged window.\n")
    for systemClass in EvaluationSummary.classes {
      let all = summary.rows.filter(systemClass.contains)
      for size in [nil] + summary.sizes.map(Optional.some) {
        let subset = all.filter { size == nil || $0.size == size }
        guard !subset.isEmpty else { continue }
        // A class with one size: its size table would repeat the all-sizes one.
        if size != nil && subset.count == all.count { continue }
        let s = summary.errors(subset)
        let none = (coefficients: Double.nan, autocorrelation: Double.nan)
        let t = s[EvaluationRowName.transformer] ?? none
        let fit = s[EvaluationRowName.hindsight] ?? none
        let bandNote =
          summary.meanCoverage(subset).map { String(format: "; 80%% band holds %.0f%% of the true b_n", 100 * $0) } ?? ""
        print("**\(systemClass.name)\(size.map { ", N = \($0)" } ?? ", all sizes")**: \(subset.count) systems\(bandNote)\n")
        guard let md = summary.simulated(subset) else {
          print("| method | b_n rel. RMS | max abs ΔC(t) |")
          print("|---|---|---|")
          for m in methods {
            let v = s[m] ?? none
            print(String(format: "| %@ | %.4g | %.4g |", Self.label(m, toldSystem: toldSystem), v.0, v.1))
          }
          print(
            String(
              format: "| ratio better fit in hindsight / transformer | %.3g× | %.3g× |\n", fit.0 / t.0, fit.1 / t.1))
          continue
        }
        let noise = EvaluationSummary.geometricMean(subset.compactMap(\.simulationStandardError))
        let simulated = subset.compactMap(\.simulation)
        let sites = Set(simulated.map(\.sites)).sorted().map(String.init).joined(separator: ", ")
        let end = simulated.map(\.end).min() ?? mdTmax
        print(
          String(
            format: "C(t) also against molecular dynamics: %d samples per system, t ≤ %g, on %@ sites (a ring for the "
              + "infinite chain); largest standard error %.2g (geometric mean).\n",
            mdSamples, end, sites, noise))
        print("| method | b_n rel. RMS | max abs ΔC(t) | max abs ΔC(t) vs MD |")
        print("|---|---|---|---|")
        for m in methods {
          let v = s[m] ?? none
          print(
            String(
              format: "| %@ | %.4g | %.4g | %.4g |", Self.label(m, toldSystem: toldSystem), v.0, v.1, md[m] ?? .nan))
        }
        print(String(format: "| %@ | | | %.4g |", EvaluationRowName.exact, md[EvaluationRowName.exact] ?? .nan))
        let mdRatio = (md[EvaluationRowName.hindsight] ?? .nan) / (md[EvaluationRowName.transformer] ?? .nan)
        print(
          String(
            format: "| ratio better fit in hindsight / transformer | %.3g× | %.3g× | %.3g× |\n", fit.0 / t.0,
            fit.1 / t.1, mdRatio))
        printContinuation(summary, subset)
      }
    }
    if !skipped.isEmpty { print("Skipped (fewer than M trusted coefficients): " + skipped.joined(separator: "; ") + "\n") }
  }

  /// The --continue-to table: C(t) past the computed coefficients against the longer simulation.
  private func printContinuation(_ summary: EvaluationSummary, _ subset: [EvaluationRow]) {
    guard let to = continueTo, let scores = summary.continuation(subset) else { return }
    let simulated = subset.compactMap(\.continuedSimulation)
    let sites = Set(simulated.map(\.sites)).sorted().map(String.init).joined(separator: ", ")
    let end = simulated.map(\.end).min() ?? continueTmax
    print(
      "Past the computed coefficients: b_1..b_\(horizon) continued to n = \(to) by each method, C(t) against molecular "
        + String(
          format: "dynamics for t ≤ %g on %@ sites; \"agrees until\" is the last time before |ΔC(t)| first exceeds "
            + "four standard errors (mean over systems).\n",
          end, sites))
    print("| continuation | max abs ΔC(t) vs MD | agrees until t |")
    print("|---|---|---|")
    for (m, score) in scores { print(String(format: "| %@ | %.4g | %.3g |", m, score.maxError, score.agreement)) }
    print("")
  }
}
