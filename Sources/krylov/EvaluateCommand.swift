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
    guard mdSamples == 0 || mdSamples >= 2 else { throw ValidationError("--md-samples must be 0 or at least 2") }
    guard mdTmax >= 0.05, mdTmax <= 100 else {
      throw ValidationError("--md-tmax must be between 0.05 (one step) and 100 (got \(mdTmax))")
    }
  }

  struct Row {
    var label: String
    var spins: SpinKind
    var model: String
    var size: String
    var errors: MethodErrors
    /// Share of the true b_{k+1..M} inside the transformer's band.
    var coverage: Double?
    /// Classical systems: max |ΔC(t)| against molecular dynamics, by method, and "exact".
    var simulated: [String: Double]? = nil
    var simulationStandardError: Double? = nil
    /// Sites simulated and the end of the simulated window.
    var simulation: (sites: Int, end: Double)? = nil
    /// --continue-to: by method (and the computed coefficients alone), max |ΔC(t)| against the
    /// longer simulation and the time C(t) agrees with it; the simulation's sites and end.
    var continued: [String: (maxError: Double, agreement: Double)]? = nil
    var continuedSimulation: (sites: Int, end: Double)? = nil
  }

  static let computedOnly = "computed b_1..b_M alone"

  static let exactRow = "exact b_1..b_M"

  static let sizeUnknown = "transformer_size_unknown"

  static let referenceRow = "reference_model"

  /// The better fit judged against the truth (`MethodErrors.betterFitInHindsight…`).
  static let hindsightRow = "better fit in hindsight"

  /// A method's name in the markdown tables: says which fit is which, and what the model was told.
  static func label(_ method: String, toldSystem: Bool = true) -> String {
    switch method {
    case "transformer": toldSystem ? "transformer (size given)" : "transformer (reads the coefficients only)"
    case sizeUnknown: "transformer (size not given)"
    case referenceRow: "reference model (--reference-model)"
    case "best_fit": "best_fit (the fit chosen on the prefix)"
    default: method
    }
  }

  func run() throws {
    var forecasters: [DefaultModel.Domain: Forecaster] = [:]
    let reference = try referenceModel.map { path in
      do { return try Checkpoint.load(path: path) } catch {
        printError("error: --reference-model \(path): \(error)")
        throw ExitCode(1)
      }
    }
    var rows: [Row] = []
    var skipped: [String] = []
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    do {
      for directory in data {
        let manifest = try DatasetManifest.load(directory: directory)
        for entry in manifest.entries {
          if cancel.isSet { break }
          let b = try manifest.trustedCoefficients(of: entry, directory: directory)
          guard b.count >= horizon else {
            skipped.append("\(entry.label) (\(b.count) trusted)")
            continue
          }
          // A named checkpoint serves every sequence; otherwise each kind of spins has its model.
          let domain = modelOptions.model == nil ? DefaultModel.Domain(entry.spinKind) : .quantum
          if forecasters[domain] == nil { forecasters[domain] = try modelOptions.load(for: domain) }
          let forecaster = forecasters[domain]!
          let context = SystemContext(try entry.chain())
          let head = Array(b[0..<prefix])
          var methods = try MethodForecasts(prefix: head, horizon: horizon, forecaster: forecaster, context: context)
          if forecaster.readsSystem {
            methods.extra.append(
              (Self.sizeUnknown, try forecaster.forecast(prefix: head, horizon: horizon, context: .unknown).values))
          }
          if let reference {
            methods.extra.append(
              (Self.referenceRow, try reference.forecast(prefix: head, horizon: horizon, context: context).values))
          }
          var row = Row(
            label: entry.label, spins: entry.spinKind, model: entry.model, size: entry.size,
            errors: try MethodErrors(methods: methods, truth: b),
            coverage: MethodErrors.coverage(of: methods.band, truth: b[prefix..<horizon]))
          if entry.spinKind == .classical && mdSamples > 0 {
            let simulation = try SimulatedComparison(
              chain: try entry.chain(), samples: mdSamples, tmax: mdTmax, seed: mdSeed, isCancelled: { cancel.isSet })
            if simulation.estimate.cancelled { break }
            var errors: [String: Double] = [Self.exactRow: try simulation.maxError(coefficients: Array(b[0..<horizon]))]
            for (name, values) in methods.all { errors[name] = try simulation.maxError(coefficients: methods.prefix + values) }
            row.simulated = errors
            row.simulationStandardError = simulation.largestStandardError
            row.simulation = (simulation.sites, simulation.end)
            if let continueTo {
              // Beyond the computed coefficients: every method continues all M of them.
              let computed = Array(b[0..<horizon])
              let continuation = try MethodForecasts(
                prefix: computed, horizon: continueTo, forecaster: forecasters[domain]!, context: context)
              let longer = try SimulatedComparison(
                chain: try entry.chain(), samples: mdSamples, tmax: continueTmax, seed: mdSeed, isCancelled: { cancel.isSet })
              if longer.estimate.cancelled { break }
              var scores: [String: (maxError: Double, agreement: Double)] = [
                Self.computedOnly: (try longer.maxError(coefficients: computed), try longer.agreementTime(coefficients: computed))
              ]
              for (name, values) in continuation.all {
                scores[name] = (
                  try longer.maxError(coefficients: computed + values), try longer.agreementTime(coefficients: computed + values)
                )
              }
              row.continued = scores
              row.continuedSimulation = (longer.sites, longer.end)
            }
          }
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
    // Whether the transformer rows were told each system (a size-blind model is not).
    let toldSystem = forecasters.values.contains { $0.readsSystem }
    let extraNames = [Self.sizeUnknown, Self.referenceRow].filter { name in rows.contains { $0.errors.coefficients[name] != nil } }
    let methodNames = ["transformer"] + extraNames + MethodForecasts.baselineNames
    func meanCoverage(_ subset: [Row]) -> Double? {
      let c = subset.compactMap(\.coverage)
      return c.isEmpty ? nil : c.reduce(0, +) / Double(c.count)
    }
    let classes: [(String, (Row) -> Bool)] = [
      ("chaotic (mfim, j1j2)", { $0.spins == .quantum && ModelName(rawValue: $0.model)?.isChaotic == true }),
      ("integrable (tfim, xxz)", { $0.spins == .quantum && ModelName(rawValue: $0.model)?.isChaotic == false }),
      ("classical, all models", { $0.spins == .classical }),
      ("classical mfim", { $0.spins == .classical && $0.model == "mfim" }),
      ("classical tfim", { $0.spins == .classical && $0.model == "tfim" }),
      ("classical xxz, j1j2", { $0.spins == .classical && ($0.model == "xxz" || $0.model == "j1j2") }),
    ]
    let sizes = Array(Set(rows.map(\.size))).sorted { (Int($0) ?? .max) < (Int($1) ?? .max) }

    func geometricMean(_ xs: [Double]) -> Double {
      let v = xs.filter { $0 > 0 && $0.isFinite }
      return v.isEmpty ? .nan : exp(v.map { log($0) }.reduce(0, +) / Double(v.count))
    }
    func summary(_ subset: [Row]) -> [String: (Double, Double)] {
      var out: [String: (Double, Double)] = [:]
      for m in methodNames {
        out[m] = (
          geometricMean(subset.map { $0.errors.coefficients[m] ?? .nan }),
          geometricMean(subset.map { $0.errors.autocorrelation[m] ?? .nan })
        )
      }
      out[Self.hindsightRow] = (
        geometricMean(subset.map(\.errors.betterFitInHindsightCoefficients)),
        geometricMean(subset.map(\.errors.betterFitInHindsightAutocorrelation))
      )
      return out
    }

    /// The --continue-to table: C(t) past the computed coefficients against the longer simulation.
    func printContinuation(_ subset: [Row]) {
      let all = subset.compactMap(\.continued)
      guard all.count == subset.count, !all.isEmpty, let to = continueTo else { return }
      let simulated = subset.compactMap(\.continuedSimulation)
      let sites = Set(simulated.map(\.sites)).sorted().map(String.init).joined(separator: ", ")
      let end = simulated.map(\.end).min() ?? continueTmax
      print(
        "Past the computed coefficients: b_1..b_\(horizon) continued to n = \(to) by each method, C(t) against molecular "
          + String(
            format:
              "dynamics for t ≤ %g on %@ sites; \"agrees until\" is the last time before |ΔC(t)| first exceeds four standard errors (mean over systems).\n",
            end, sites))
      print("| continuation | max abs ΔC(t) vs MD | agrees until t |")
      print("|---|---|---|")
      for m in [Self.computedOnly] + methodNames {
        let maxError = geometricMean(all.map { $0[m]?.maxError ?? .nan })
        let times = all.compactMap { $0[m]?.agreement }
        let mean = times.isEmpty ? Double.nan : times.reduce(0, +) / Double(times.count)
        print(String(format: "| %@ | %.4g | %.3g |", m, maxError, mean))
      }
      print("")
    }

    /// Geometric means of the errors against molecular dynamics, when every row has them.
    func simulatedSummary(_ subset: [Row]) -> [String: Double]? {
      let all = subset.compactMap(\.simulated)
      guard all.count == subset.count, !all.isEmpty else { return nil }
      var out: [String: Double] = [:]
      for m in methodNames + [Self.exactRow] { out[m] = geometricMean(all.map { $0[m] ?? .nan }) }
      out[Self.hindsightRow] = geometricMean(
        all.map { min($0["linear_fit"] ?? .infinity, $0["log_corrected_fit"] ?? .infinity) })
      return out
    }

    switch format {
    case .csv:
      let simulatedColumns = methodNames + ["exact"]
      print(
        "system,spins,model,size," + methodNames.map { "\($0)_b_rel_rms,\($0)_c_max_abs" }.joined(separator: ",")
          + ",c_window_end," + simulatedColumns.map { "\($0)_c_max_abs_vs_md" }.joined(separator: ",") + ",md_largest_stderr"
          + ",band_coverage")
      for r in rows {
        let cells = methodNames.map {
          String(format: "%.6g,%.6g", r.errors.coefficients[$0] ?? .nan, r.errors.autocorrelation[$0] ?? .nan)
        }
        let md = simulatedColumns.map { name in
          (r.simulated?[name == "exact" ? Self.exactRow : name]).map { String(format: "%.6g", $0) } ?? ""
        }
        let stderr = r.simulationStandardError.map { String(format: "%.4g", $0) } ?? ""
        let coverage = r.coverage.map { String(format: "%.4g", $0) } ?? ""
        let head = "\"\(r.label)\",\(r.spins.rawValue),\(r.model),\(r.size),"
        let tail = String(format: ",%.4g,", r.errors.windowEnd) + md.joined(separator: ",") + "," + stderr + "," + coverage
        print(head + cells.joined(separator: ",") + tail)
      }
    case .json:
      let systems = rows.map { r in
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
      for (name, test) in classes {
        let subset = rows.filter(test)
        guard !subset.isEmpty else { continue }
        groups[name] = EvaluationDocument.Aggregate(
          methods: summary(subset).mapValues { .init(bRelativeRMS: finiteOrNil($0.0), cMaxAbs: finiteOrNil($0.1)) },
          cMaxAbsVsMD: simulatedSummary(subset)?.mapValues(finiteOrNil))
      }
      let sink = try DataSink.openOrExit(nil)
      try sink.writeJSON(
        EvaluationDocument(
          prefix: prefix, horizon: horizon, systems: systems, aggregates: groups, skipped: skipped,
          md: .init(samples: mdSamples, tmax: mdTmax, seed: mdSeed)))
      try sink.finish()
    case .markdown:
      print(
        "Prefix k = \(prefix), horizon M = \(horizon); errors are geometric means over systems: relative RMS on b_{k+1..M}, max |ΔC(t)| over each system's converged window.\n"
      )
      for (name, test) in classes {
        for size in [nil] + sizes.map(Optional.some) {
          let subset = rows.filter { test($0) && (size == nil || $0.size == size) }
          guard !subset.isEmpty else { continue }
          // A class with one size: its size table would repeat the all-sizes one.
          if size != nil && subset.count == rows.filter(test).count { continue }
          let s = summary(subset)
          let t = s["transformer"]!
          let fit = s[Self.hindsightRow]!
          let bandNote = meanCoverage(subset).map { String(format: "; 80%% band holds %.0f%% of the true b_n", 100 * $0) } ?? ""
          print("**\(name)\(size.map { ", N = \($0)" } ?? ", all sizes")**: \(subset.count) systems\(bandNote)\n")
          if let md = simulatedSummary(subset) {
            let noise = geometricMean(subset.compactMap(\.simulationStandardError))
            let simulated = subset.compactMap(\.simulation)
            let sites = Set(simulated.map(\.sites)).sorted().map(String.init).joined(separator: ", ")
            let end = simulated.map(\.end).min() ?? mdTmax
            print(
              String(
                format:
                  "C(t) also against molecular dynamics: %d samples per system, t ≤ %g, on %@ sites (a ring for the infinite chain); largest standard error %.2g (geometric mean).\n",
                mdSamples, end, sites, noise))
            print("| method | b_n rel. RMS | max abs ΔC(t) | max abs ΔC(t) vs MD |")
            print("|---|---|---|---|")
            for m in methodNames + [Self.hindsightRow] {
              let v = s[m]!
              print(String(format: "| %@ | %.4g | %.4g | %.4g |", Self.label(m, toldSystem: toldSystem), v.0, v.1, md[m]!))
            }
            print(String(format: "| %@ | | | %.4g |", Self.exactRow, md[Self.exactRow]!))
            print(
              String(
                format: "| ratio better fit in hindsight / transformer | %.3g× | %.3g× | %.3g× |\n", fit.0 / t.0, fit.1 / t.1,
                md[Self.hindsightRow]! / md["transformer"]!))
            printContinuation(subset)
          } else {
            print("| method | b_n rel. RMS | max abs ΔC(t) |")
            print("|---|---|---|")
            for m in methodNames + [Self.hindsightRow] {
              let v = s[m]!
              print(String(format: "| %@ | %.4g | %.4g |", Self.label(m, toldSystem: toldSystem), v.0, v.1))
            }
            print(String(format: "| ratio better fit in hindsight / transformer | %.3g× | %.3g× |\n", fit.0 / t.0, fit.1 / t.1))
          }
        }
      }
      if !skipped.isEmpty { print("Skipped (fewer than M trusted coefficients): " + skipped.joined(separator: "; ") + "\n") }
    }
  }
}

/// What `krylov evaluate --format json` writes (docs/formats.md).
struct EvaluationDocument: Encodable {
  var prefix: Int
  var horizon: Int
  var systems: [System]
  var aggregates: [String: Aggregate]
  var skipped: [String]
  var md: MolecularDynamics

  struct System: Encodable {
    var system: String
    var spins: String
    var model: String
    var size: String
    var errors: ErrorsRecord
    var bandCoverage: Double?
    var cMaxAbsVsMD: [String: Double?]?
    var mdLargestStderr: Double??
    var mdSites: Int?
    var mdEnd: Double??
    var continued: Continued?

    enum CodingKeys: String, CodingKey {
      case system, spins, model, size, errors
      case bandCoverage = "band_coverage"
      case cMaxAbsVsMD = "c_max_abs_vs_md"
      case mdLargestStderr = "md_largest_stderr"
      case mdSites = "md_sites"
      case mdEnd = "md_end"
      case continued
    }

    // Present only for simulated systems; within those, a value that cannot be computed is null.
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(system, forKey: .system)
      try c.encode(spins, forKey: .spins)
      try c.encode(model, forKey: .model)
      try c.encode(size, forKey: .size)
      try c.encode(errors, forKey: .errors)
      try c.encodeIfPresent(bandCoverage, forKey: .bandCoverage)
      try c.encodeIfPresent(cMaxAbsVsMD, forKey: .cMaxAbsVsMD)
      if let mdLargestStderr { try c.encode(mdLargestStderr, forKey: .mdLargestStderr) }
      try c.encodeIfPresent(mdSites, forKey: .mdSites)
      if let mdEnd { try c.encode(mdEnd, forKey: .mdEnd) }
      try c.encodeIfPresent(continued, forKey: .continued)
    }
  }

  struct Continued: Encodable {
    var to: Int
    var mdSites: Int
    var mdEnd: Double?
    var methods: [String: Method]

    struct Method: Encodable {
      var cMaxAbsVsMD: Double?
      var agreesUntil: Double?
      enum CodingKeys: String, CodingKey {
        case cMaxAbsVsMD = "c_max_abs_vs_md"
        case agreesUntil = "agrees_until"
      }
      func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cMaxAbsVsMD, forKey: .cMaxAbsVsMD)
        try c.encode(agreesUntil, forKey: .agreesUntil)
      }
    }

    enum CodingKeys: String, CodingKey {
      case to
      case mdSites = "md_sites"
      case mdEnd = "md_end"
      case methods
    }
  }

  /// Geometric means over a class of systems, per method.
  struct Aggregate: Encodable {
    var methods: [String: Errors]
    var cMaxAbsVsMD: [String: Double?]?

    struct Errors: Encodable {
      var bRelativeRMS: Double?
      var cMaxAbs: Double?
      enum CodingKeys: String, CodingKey {
        case bRelativeRMS = "b_relative_rms"
        case cMaxAbs = "c_max_abs"
      }
      func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bRelativeRMS, forKey: .bRelativeRMS)
        try c.encode(cMaxAbs, forKey: .cMaxAbs)
      }
    }

    // The methods sit at the top level of the aggregate, beside "c_max_abs_vs_md".
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: StringCodingKey.self)
      for (name, errors) in methods { try c.encode(errors, forKey: StringCodingKey(name)) }
      if let cMaxAbsVsMD { try c.encode(cMaxAbsVsMD, forKey: StringCodingKey("c_max_abs_vs_md")) }
    }
  }

  struct MolecularDynamics: Encodable {
    var samples: Int
    var tmax: Double
    var seed: UInt64
  }
}
