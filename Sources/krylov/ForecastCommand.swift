import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

struct ForecastCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "forecast",
    abstract: "Forecast b_{k+1}..b_M from b_1..b_k with the transformer and the baselines.",
    discussion: """
      Rolls the transformer out from the first k trusted coefficients of the input, and \
      extrapolates the same prefix with the asymptotic fits of docs/physics.md §5 (linear and \
      log-corrected on the prefix's second half; "best_fit" is the one that did better on the \
      prefix's held-back last fifth) and a linear autoregressive model. When the input holds \
      trusted values up to M, each method's relative RMS error on b_{k+1..M} and its largest \
      error on C(t), over the window where the true C(t) is converged, are reported too.

      CSV: one row per n with a column per method (and the truth when known); errors as '#' \
      lines. JSON: {"forecast": [...], "baselines": {name: [...]}, "errors": {...}}.
      """
  )

  @OptionGroup var inputOptions: ForecastInputOptions
  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Output format: csv or json.")
  var format: OutputFormat = .csv

  @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
  var output: String?

  func run() throws {
    let input = try inputOptions.load()
    let b = input.trusted
    let forecaster = try modelOptions.load(for: input.domain)
    let k = inputOptions.prefix
    let M = inputOptions.horizon
    let methods: MethodForecasts
    do { methods = try MethodForecasts(prefix: Array(b[0..<k]), horizon: M, forecaster: forecaster) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    var errors: MethodErrors?
    if b.count >= M {
      errors = try MethodErrors(methods: methods, truth: b)
    } else {
      printError("krylov: the input has \(b.count) trusted coefficients, fewer than M = \(M): no errors reported")
    }
    let sink = try DataSink.openOrExit(output)
    switch format {
    case .json:
      var object: [String: Any] = [
        "prefix": k, "horizon": M, "n": Array((k + 1)...M), "forecast": methods.transformer,
        "baselines": Dictionary(uniqueKeysWithValues: methods.baselines.map { ($0.name, $0.values) }),
        "model": modelOptions.name(for: input.domain),
      ]
      if let form = methods.bestFitForm { object["best_fit_form"] = form }
      if let errors { object["errors"] = errorsObject(errors) }
      sink.write(jsonText(object) + "\n")
    case .csv:
      let names = methods.all.map(\.name)
      sink.write("# krylov forecast: prefix k = \(k), horizon M = \(M), model: \(modelOptions.name(for: input.domain))\n")
      if let form = methods.bestFitForm { sink.write("# best_fit_form: \(form)\n") }
      sink.write("n," + names.joined(separator: ",") + (b.count >= M ? ",truth" : "") + "\n")
      for i in 0..<(M - k) {
        var row = ["\(k + 1 + i)"] + methods.all.map { formatCoefficient($0.values[i]) }
        if b.count >= M { row.append(formatCoefficient(b[k + i])) }
        sink.write(row.joined(separator: ",") + "\n")
      }
      if let errors {
        sink.write(String(format: "# C(t) window: 0 <= t <= %.4g\n", errors.windowEnd))
        for name in names {
          sink.write(
            String(
              format: "# error %@: b_n relative RMS %.4g, max |dC(t)| %.4g\n", name, errors.coefficients[name] ?? .nan,
              errors.autocorrelation[name] ?? .nan))
        }
      }
    }
    do { try sink.finish() } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
  }
}

func errorsObject(_ e: MethodErrors) -> [String: Any] {
  [
    "b_relative_rms": e.coefficients.mapValues(jsonNumber),
    "c_max_abs": e.autocorrelation.mapValues(jsonNumber),
    "c_window": ["t_min": 0, "t_max": e.windowEnd],
  ]
}
