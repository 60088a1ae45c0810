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
      for chaotic (mfim, j1j2) and integrable (tfim, xxz) systems and by size, with the ratio \
      of the best asymptotic fit's error to the transformer's. Sequences too short for M are \
      listed as skipped.

      --format markdown prints the tables of docs/model-card.md.
      """
  )

  enum Format: String, ExpressibleByArgument, CaseIterable { case csv, json, markdown }

  @Option(parsing: .upToNextOption, help: "Dataset directories (held-out systems).")
  var data: [String]

  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Prefix length k.")
  var prefix: Int = 30

  @Option(help: "Horizon M.")
  var horizon: Int = 200

  @Option(help: "Output format: csv (per system), json, markdown.")
  var format: Format = .markdown

  func validate() throws {
    guard prefix >= 1 else { throw ValidationError("--prefix must be at least 1") }
    guard horizon > prefix else { throw ValidationError("--horizon (\(horizon)) must be larger than --prefix (\(prefix))") }
    guard !data.isEmpty else { throw ValidationError("--data needs at least one dataset directory") }
  }

  struct Row {
    var label: String
    var model: String
    var size: String
    var errors: MethodErrors
  }

  func run() throws {
    let forecaster = try modelOptions.load()
    var rows: [Row] = []
    var skipped: [String] = []
    do {
      for directory in data {
        let manifest = try DatasetManifest.load(directory: directory)
        for entry in manifest.entries {
          let b = try manifest.trustedCoefficients(of: entry, directory: directory)
          guard b.count >= horizon else {
            skipped.append("\(entry.label) (\(b.count) trusted)")
            continue
          }
          let methods = try MethodForecasts(prefix: Array(b[0..<prefix]), horizon: horizon, forecaster: forecaster)
          rows.append(Row(label: entry.label, model: entry.model, size: entry.size, errors: try MethodErrors(methods: methods, truth: b)))
        }
      }
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let methodNames = ["transformer"] + MethodForecasts.baselineNames
    let classes: [(String, (Row) -> Bool)] = [
      ("chaotic (mfim, j1j2)", { $0.model == "mfim" || $0.model == "j1j2" }),
      ("integrable (tfim, xxz)", { $0.model == "tfim" || $0.model == "xxz" }),
    ]
    let sizes = Array(Set(rows.map(\.size))).sorted { (Int($0) ?? .max) < (Int($1) ?? .max) }

    func geometricMean(_ xs: [Double]) -> Double {
      let v = xs.filter { $0 > 0 && $0.isFinite }
      return v.isEmpty ? .nan : exp(v.map { log($0) }.reduce(0, +) / Double(v.count))
    }
    func summary(_ subset: [Row]) -> [String: (Double, Double)] {
      var out: [String: (Double, Double)] = [:]
      for m in methodNames {
        out[m] = (geometricMean(subset.map { $0.errors.coefficients[m] ?? .nan }), geometricMean(subset.map { $0.errors.autocorrelation[m] ?? .nan }))
      }
      out["best asymptotic fit"] = (geometricMean(subset.map(\.errors.bestFitCoefficients)), geometricMean(subset.map(\.errors.bestFitAutocorrelation)))
      return out
    }

    switch format {
    case .csv:
      print("system,model,size," + methodNames.map { "\($0)_b_rel_rms,\($0)_c_max_abs" }.joined(separator: ",") + ",c_window_end")
      for r in rows {
        let cells = methodNames.map { String(format: "%.6g,%.6g", r.errors.coefficients[$0] ?? .nan, r.errors.autocorrelation[$0] ?? .nan) }
        print("\"\(r.label)\",\(r.model),\(r.size)," + cells.joined(separator: ",") + String(format: ",%.4g", r.errors.windowEnd))
      }
    case .json:
      let systems: [[String: Any]] = rows.map { r in
        ["system": r.label, "model": r.model, "size": r.size, "errors": errorsObject(r.errors)]
      }
      var groups: [String: Any] = [:]
      for (name, test) in classes {
        let subset = rows.filter(test)
        guard !subset.isEmpty else { continue }
        groups[name] = summary(subset).mapValues { ["b_relative_rms": jsonNumber($0.0), "c_max_abs": jsonNumber($0.1)] }
      }
      print(jsonText(["prefix": prefix, "horizon": horizon, "systems": systems, "aggregates": groups, "skipped": skipped]))
    case .markdown:
      print("Prefix k = \(prefix), horizon M = \(horizon); errors are geometric means over systems: relative RMS on b_{k+1..M}, max |ΔC(t)| over each system's converged window.\n")
      for (name, test) in classes {
        for size in [nil] + sizes.map(Optional.some) {
          let subset = rows.filter { test($0) && (size == nil || $0.size == size) }
          guard !subset.isEmpty else { continue }
          let s = summary(subset)
          let t = s["transformer"]!
          let fit = s["best asymptotic fit"]!
          print("**\(name)\(size.map { ", N = \($0)" } ?? ", all sizes")**: \(subset.count) systems\n")
          print("| method | b_n rel. RMS | max abs ΔC(t) |")
          print("|---|---|---|")
          for m in methodNames + ["best asymptotic fit"] {
            let v = s[m]!
            print(String(format: "| %@ | %.4g | %.4g |", m, v.0, v.1))
          }
          print(String(format: "| ratio best fit / transformer | %.3g× | %.3g× |\n", fit.0 / t.0, fit.1 / t.1))
        }
      }
      if !skipped.isEmpty { print("Skipped (fewer than M trusted coefficients): " + skipped.joined(separator: "; ") + "\n") }
    }
  }
}
