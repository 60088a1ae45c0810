import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

/// How much an ablation moves a forecast, and its error when the truth is known.
struct AblateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ablate",
    abstract: "Switch off heads or parts of the history and measure how the forecast changes.",
    discussion: """
      Runs the rollout of 'krylov forecast' with the chosen heads switched off (--heads \
      L0H1,L1H3; 0-based) and/or attention restricted: --window W keeps only the last W \
      positions, --exclude a:b removes b_a..b_b from every head's history, --only a:b keeps \
      just those (each position always sees itself). Reports the change from the unablated \
      forecast (relative RMS) and, when the input holds the truth up to M, both errors and \
      their ratio.

      --rank heads switches off each head alone and orders heads by influence; \
      --rank history removes each block of --block positions alone and orders the blocks.
      """
  )

  enum Ranking: String, ExpressibleByArgument, CaseIterable { case none, heads, history }

  @OptionGroup var inputOptions: ForecastInputOptions
  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Heads to switch off, e.g. L0H1,L2H3 (or 0.1,2.3).")
  var heads: String?

  @Option(help: "Keep only the last W positions of the history.")
  var window: Int?

  @Option(help: "Remove b_a..b_b from the history (n range a:b).")
  var exclude: String?

  @Option(help: "Keep only b_a..b_b in the history (n range a:b).")
  var only: String?

  @Option(help: "Rank heads or history blocks by influence: none, heads, history.")
  var rank: Ranking = .none

  @Option(help: "Block width for --rank history.")
  var block: Int = 5

  @Option(help: "Output format: csv or json.")
  var format: OutputFormat = .csv

  func validate() throws {
    if let window, window < 1 { throw ValidationError("--window must be at least 1 (got \(window))") }
    if block < 1 { throw ValidationError("--block must be at least 1 (got \(block))") }
    let masks = [window != nil, exclude != nil, only != nil].filter { $0 }.count
    if masks > 1 { throw ValidationError("choose one of --window, --exclude, --only") }
    if let exclude { _ = try positionRange("--exclude", exclude) }
    if let only { _ = try positionRange("--only", only) }
  }

  /// The n range given to `option` (`--exclude` or `--only`); refuses text that is not one.
  private func positionRange(_ option: String, _ text: String) throws -> Range<Int> {
    guard let range = parsePositionRange(text) else { throw ValidationError("\(option) '\(text)' is not an n range a:b") }
    return range
  }

  func run() throws {
    let input = try inputOptions.load()
    let b = input.trusted
    let forecaster = try modelOptions.load(for: input.domain)
    let k = inputOptions.prefix
    let M = inputOptions.horizon
    let study = AblationStudy(forecaster: forecaster, trusted: b, prefix: k, horizon: M, context: input.context)
    let truth = study.truth

    var disabled = Set<HeadID>()
    for item in (heads ?? "").split(separator: ",") {
      guard let id = parseHead(String(item)) else { throw ValidationError("--heads: '\(item)' is not a head such as L0H1") }
      disabled.insert(id)
    }
    var history = HistoryMask.all
    if let window { history = .window(window) }
    if let exclude { history = .excluding(try positionRange("--exclude", exclude)) }
    if let only { history = .only(try positionRange("--only", only)) }

    var results: [AblationOutcome] = []
    do {
      let base = try study.outcome("none", .none, reference: nil)
      results.append(base)
      let requested = Ablation(disabledHeads: disabled, history: history)
      if !requested.isNone {
        var parts: [String] = []
        if !disabled.isEmpty { parts.append("heads " + disabled.sorted().map(\.description).joined(separator: "+")) }
        if history != .all { parts.append("history \(describe(history))") }
        results.append(try study.outcome(parts.joined(separator: ", "), requested, reference: base.values))
      }
      switch rank {
      case .none: break
      case .heads: results += try study.rankHeads().map(\.outcome)
      case .history: results += try study.rankHistoryBlocks(width: block) { "history without \(describe(.excluding($0)))" }
      }
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }

    let baseError = results[0].error
    switch format {
    case .csv:
      print("# krylov ablate: prefix k = \(k), horizon M = \(M), model: \(modelOptions.name(for: input.domain))")
      print("ablation,change_vs_unablated" + (truth != nil ? ",error,unablated_error,error_ratio" : ""))
      for r in results {
        var row = "\"\(r.label)\"," + String(format: "%.6g", r.change)
        if let e = r.error, let b0 = baseError { row += String(format: ",%.6g,%.6g,%.4g", e, b0, e / b0) }
        print(row)
      }
    case .json:
      let items = results.map { r in
        AblationDocument.Result(
          ablation: r.label, forecast: r.values, change: finiteOrNil(r.change), error: r.error.map(finiteOrNil),
          errorRatio: r.error.flatMap { e in baseError.map { finiteOrNil(e / $0) } })
      }
      let sink = try DataSink.openOrExit(nil)
      try sink.writeJSON(AblationDocument(prefix: k, horizon: M, results: items))
      try sink.finish()
    }
  }
}

/// A history mask in n (1-based) terms.
func describe(_ mask: HistoryMask) -> String {
  switch mask {
  case .all: "all"
  case .window(let w): "last \(w)"
  case .excluding(let r): "b_\(r.lowerBound + 1)..b_\(r.upperBound)"
  case .only(let r): "only b_\(r.lowerBound + 1)..b_\(r.upperBound)"
  case .evenLags: "even lags only"
  case .oddLags: "odd lags only"
  }
}

/// What `krylov ablate --format json` writes (docs/formats.md).
struct AblationDocument: Encodable {
  var prefix: Int
  var horizon: Int
  var results: [Result]

  struct Result: Encodable {
    var ablation: String
    var forecast: [Double]
    var change: Double?
    var error: Double??
    var errorRatio: Double??

    enum CodingKeys: String, CodingKey {
      case ablation, forecast, change, error
      case errorRatio = "error_ratio"
    }

    // A change or error that cannot be computed is null; one not measured (no truth) is absent.
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(ablation, forKey: .ablation)
      try c.encode(forecast, forKey: .forecast)
      try c.encode(change, forKey: .change)
      if let error { try c.encode(error, forKey: .error) }
      if let errorRatio { try c.encode(errorRatio, forKey: .errorRatio) }
    }
  }
}
