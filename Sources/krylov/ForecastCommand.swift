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

      The transformer is told the chain's size and boundary (from the file's system block, or \
      --n and --bc for a plain CSV); without them it forecasts with the size unknown and says \
      so. Its 80% band (the range that held 80% of the truth on held-out systems, \
      docs/model.md) is given beside the forecast.

      CSV: one row per n with a column per method, the band's lower and upper edges (and the \
      truth when known); errors as '#' lines. JSON: {"forecast": [...], "band": {"level", \
      "lower", "upper"}, "system": ..., "baselines": {name: [...]}, "errors": {...}}.
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
    do {
      methods = try MethodForecasts(prefix: Array(b[0..<k]), horizon: M, forecaster: forecaster, context: input.context)
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    var errors: MethodErrors?
    if b.count >= M {
      // The forecast stands even when its errors cannot be computed (C(t) of more than
      // KrylovChainDynamics.maximumCount coefficients is refused): say why, keep the output.
      do { errors = try MethodErrors(methods: methods, truth: b) } catch {
        printError("krylov: no errors reported: \(error)")
      }
    } else {
      printError("krylov: the input has \(b.count) trusted coefficients, fewer than M = \(M): no errors reported")
    }
    let sink = try DataSink.openOrExit(output)
    switch format {
    case .json:
      try sink.writeJSON(
        ForecastDocument(
          methods: methods, errors: errors, model: modelOptions.name(for: input.domain),
          told: SystemToldRecord(methods.context, model: forecaster)))
    case .csv:
      let names = methods.all.map(\.name)
      sink.write("# krylov forecast: prefix k = \(k), horizon M = \(M), model: \(modelOptions.name(for: input.domain))\n")
      sink.write("# system told to the model: \(SystemToldRecord(methods.context, model: forecaster).text)\n")
      if let form = methods.bestFitForm { sink.write("# best_fit_form: \(form)\n") }
      for fit in methods.fits {
        let parameters = fit.namedParameters.map { "\($0.name) = \(formatCoefficient($0.value))" }.joined(separator: ", ")
        sink.write("# fit \(fit.form.rawValue): \(parameters) on n = \(fit.window.lowerBound)..\(fit.window.upperBound)\n")
      }
      let band = methods.band
      if let band { sink.write("# band: \(Int((band.level * 100).rounded()))% (calibration \(band.regime))\n") }
      sink.write(
        "n," + names.joined(separator: ",") + (band != nil ? ",band_lower,band_upper" : "")
          + (b.count >= M ? ",truth" : "") + "\n")
      for i in 0..<(M - k) {
        var row = ["\(k + 1 + i)"] + methods.all.map { formatCoefficient($0.values[i]) }
        if let band { row += [formatCoefficient(band.lower[i]), formatCoefficient(band.upper[i])] }
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
