import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster
import KrylovTUI

struct InterpretCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "interpret",
    abstract: "What the forecaster looks at: ablations and attention by lag over held-out systems, per regime.",
    discussion: """
      For every sequence of the datasets: the forecast from b_1..b_k to b_M (M = --horizon, at \
      most the trusted coefficients; k = --prefix, at most M/2), told the system, then the \
      same forecast with each head switched off, with all of them off, with only the last w \
      coefficients visible (w = 1, 2, 4, 8, 16), and with parts of the history masked: the \
      normalizing window b_1..b_10, the finite-size bend b_2N-4..b_2N+2 (finite chains), and \
      every other position (odd lags, or even lags). Each ablation's error (relative RMS on \
      b_{k+1..M}) is divided by the unablated forecast's; the ratios are summarized per regime \
      (finite chaotic, finite integrable, infinite chain, classical) by their geometric mean, \
      median and range across systems. A ratio near 1 means the forecast does not need what \
      was removed.

      The attention of the unablated rollout is summarized per layer and head over the \
      forecast's queries: the share on the query itself, on even and on odd lags, the mean \
      lag, and the lag within which 90% of the attention lies, beside what the head's ALiBi \
      bias alone would give (attention by position, no content). --lags-out writes the mean \
      weight at every lag as CSV; --figure draws the lag profiles (braille, log scale).

      Each sequence is forecast by the embedded model for its kind of spins unless --model \
      names a checkpoint. docs/attention.md reports the findings of the embedded models.
      """
  )

  enum Format: String, ExpressibleByArgument, CaseIterable { case markdown, csv }

  @Option(parsing: .upToNextOption, help: "Dataset directories (held-out systems).")
  var data: [String]

  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Prefix length k (at most half of each sequence's horizon).")
  var prefix: Int = 30

  @Option(help: "Horizon M (at most each sequence's trusted coefficients).")
  var horizon: Int = 200

  @Option(help: "Output format: markdown (tables per regime) or csv (one row per system and ablation).")
  var format: Format = .markdown

  @Option(help: "Also write the mean attention weight at every lag, per regime, layer and head, as CSV.")
  var lagsOut: String?

  @Flag(help: "Draw each head's lag profile (mean weight against lag, log scale) under its regime's tables.")
  var figure = false

  @Option(help: "Largest lag drawn by --figure.")
  var figureLags: Int = 40

  @Flag(name: .shortAndLong, help: "No progress on standard error.")
  var quiet = false

  func validate() throws {
    guard !data.isEmpty else { throw ValidationError("--data needs at least one dataset directory") }
    try requireRange("--prefix", prefix, 1...Forecaster.maximumHorizon)
    try requireRange("--horizon", horizon, 2...Forecaster.maximumHorizon)
    guard horizon > prefix else { throw ValidationError("--horizon (\(horizon)) must be larger than --prefix (\(prefix))") }
    try requireRange("--figure-lags", figureLags, 2...1000)
  }

  func run() throws {
    var forecasters: [DefaultModel.Domain: Forecaster] = [:]
    var results: [SystemHistoryUse] = []
    var skipped: [String] = []
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    do {
      var entries: [(DatasetManifest, DatasetEntry, String)] = []
      for directory in data {
        let manifest = try DatasetManifest.load(directory: directory)
        entries += manifest.entries.map { (manifest, $0, directory) }
      }
      for (i, (manifest, entry, directory)) in entries.enumerated() {
        if cancel.isSet { break }
        let chain = try entry.chain()
        guard let regime = StudyRegime(chain) else {
          skipped.append("\(entry.label) (a custom Hamiltonian has no regime)")
          continue
        }
        let domain = modelOptions.model == nil ? DefaultModel.Domain(entry.spinKind) : .quantum
        let forecaster = try forecasters[domain] ?? modelOptions.load(for: domain)
        forecasters[domain] = forecaster
        let b = try manifest.trustedCoefficients(of: entry, directory: directory)
        guard
          let (k, M) = HistoryStudy.span(
            count: b.count, prefix: prefix, horizon: horizon, minimumPrefix: forecaster.config.scaleWindow)
        else {
          skipped.append("\(entry.label) (\(b.count) trusted)")
          continue
        }
        results.append(
          try HistoryStudy.study(
            forecaster: forecaster, values: b, label: entry.label, regime: regime, context: SystemContext(chain),
            prefix: k, horizon: M))
        if !quiet { printError("krylov: [\(i + 1)/\(entries.count)] \(entry.label): k = \(k) → M = \(M)") }
      }
    } catch let exit as ExitCode {
      throw exit
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    if watcher.signalNumber != nil {
      printError("krylov: interrupted; the tables cover the \(results.count) systems done")
    }
    guard !results.isEmpty else {
      printError(
        "error: no sequence of the datasets could be studied"
          + (skipped.isEmpty ? "" : " (skipped: \(skipped.joined(separator: "; ")))"))
      throw ExitCode(1)
    }

    let sink = try DataSink.openOrExit(nil)
    switch format {
    case .csv: sink.write(Self.csv(results))
    case .markdown: sink.write(Self.markdown(results, figureLags: figure ? figureLags : nil, skipped: skipped))
    }
    try sink.finish()
    if let lagsOut {
      let file = try DataSink.openOrExit(lagsOut)
      file.write(Self.lagsCSV(results))
      try file.finish()
    }
    if watcher.signalNumber != nil { throw ExitCode(130) }
  }

  // MARK: Output

  /// The regimes present, in the fixed order, with their systems.
  static func byRegime(_ results: [SystemHistoryUse]) -> [(StudyRegime, [SystemHistoryUse])] {
    StudyRegime.allCases.compactMap { regime in
      let subset = results.filter { $0.regime == regime }
      return subset.isEmpty ? nil : (regime, subset)
    }
  }

  static func csv(_ results: [SystemHistoryUse]) -> String {
    var out = "regime,system,k,M,unablated_error,ablation,error_ratio\n"
    for r in results {
      for (name, ratio) in r.ratios.sorted(by: { $0.key < $1.key }) {
        out += "\(csvField(r.regime.rawValue)),\(csvField(r.label)),\(r.prefix),\(r.horizon),\(r.baseError),\(name),\(ratio)\n"
      }
    }
    return out
  }

  static func lagsCSV(_ results: [SystemHistoryUse]) -> String {
    var out = "regime,layer,head,lag,mean_weight,mean_weight_position_only,queries\n"
    for (regime, subset) in byRegime(results) {
      let profile = merged(subset)
      for layer in 0..<profile.layers {
        for head in 0..<profile.heads {
          let id = HeadID(layer: layer, head: head)
          for lag in 0..<profile.lagCount where profile.reach[lag] > 0 {
            out += "\(csvField(regime.rawValue)),\(layer),\(head),\(lag),\(profile.meanWeight(id, lag: lag)),"
            out += "\(profile.positionOnlyWeight(id, lag: lag)),\(profile.reach[lag])\n"
          }
        }
      }
    }
    return out
  }

  static func merged(_ subset: [SystemHistoryUse]) -> LagProfile {
    var profile = subset[0].lags
    for r in subset.dropFirst() { profile.merge(r.lags) }
    return profile
  }

  static func markdown(_ results: [SystemHistoryUse], figureLags: Int?, skipped: [String]) -> String {
    var out = ""
    func percent(_ v: Double) -> String { String(format: "%.0f%%", 100 * v) }
    func ratio(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
    // One value, or the range of several (sorted and distinct).
    func span(_ values: [Int]) -> String {
      guard let first = values.first, let last = values.last else { return "–" }
      return first == last ? "\(first)" : "\(first)–\(last)"
    }
    for (regime, subset) in byRegime(results) {
      let ks = Set(subset.map(\.prefix)).sorted()
      let ms = Set(subset.map(\.horizon)).sorted()
      let base = RatioSummary(subset.map(\.baseError))
      out += "## \(regime.rawValue): \(subset.count) systems, k = \(span(ks)) → M = \(span(ms))\n\n"
      out += "Unablated b_n error (relative RMS, geometric mean): "
      out += "\(base.map { String(format: "%.4f", $0.geometricMean) } ?? "–")\n\n"
      out += "| ablation | error ratio, geometric mean | median | range | systems |\n|---|---|---|---|---|\n"
      // Heads by influence, then windows and masks in their fixed order.
      let names = Array(Set(subset.flatMap { $0.ratios.keys }))
      func summary(_ name: String) -> RatioSummary? { RatioSummary(subset.compactMap { $0.ratios[name] }) }
      let heads = names.filter { $0.hasSuffix(" off") && $0 != "all heads off" }
        .sorted { (summary($0)?.geometricMean ?? 0) > (summary($1)?.geometricMean ?? 0) }
      let order =
        ["all heads off"] + heads + HistoryStudy.windows.map { "last \($0) only" }
        + names.filter { $0.hasSuffix("masked") }.sorted()
      for name in order {
        guard let s = summary(name) else { continue }
        out += "| \(name) | \(ratio(s.geometricMean)) | \(ratio(s.median)) "
        out += "| \(ratio(s.minimum))–\(ratio(s.maximum)) | \(s.count) |\n"
      }
      let profile = merged(subset)
      out += "\nAttention of the unablated rollout over the forecast's queries (\(profile.queries) queries); "
      out += "in brackets, what the head's position bias alone would give.\n\n"
      out += "| head | on itself | even lags ≥ 2 | odd lags | mean lag | 90% within lag |\n|---|---|---|---|---|---|\n"
      for layer in 0..<profile.layers {
        for head in 0..<profile.heads {
          let id = HeadID(layer: layer, head: head)
          let m = profile.shares(id)
          let p = profile.shares(id, positionOnly: true)
          out += "| \(id) | \(percent(m.onSelf)) (\(percent(p.onSelf))) | \(percent(m.even)) (\(percent(p.even))) "
          out += "| \(percent(m.odd)) (\(percent(p.odd))) "
          out += "| \(String(format: "%.1f", m.meanLag)) (\(String(format: "%.1f", p.meanLag))) "
          out += "| \(m.lag90) (\(p.lag90)) |\n"
        }
      }
      if let figureLags {
        out += "\nMean attention weight against lag (0…\(min(figureLags, profile.lagCount - 1))), log scale, per head:\n\n```\n"
        out += figure(profile, lags: figureLags)
        out += "```\n"
      }
      out += "\n"
    }
    if !skipped.isEmpty { out += "Skipped: \(skipped.joined(separator: "; "))\n" }
    return out
  }

  /// Small multiples: one braille chart per head, a row per layer.
  static func figure(_ profile: LagProfile, lags: Int) -> String {
    let width = 30
    let height = 7
    let last = min(lags, profile.lagCount - 1)
    var text = ""
    for layer in 0..<profile.layers {
      var buffer = CellBuffer(width: profile.heads * (width + 1), height: height + 1)
      for head in 0..<profile.heads {
        let id = HeadID(layer: layer, head: head)
        let points = (0...max(last, 0)).compactMap { lag -> (x: Double, y: Double)? in
          let w = profile.meanWeight(id, lag: lag)
          return w > 0 && w.isFinite ? (Double(lag), w) : nil
        }
        let x0 = head * (width + 1)
        buffer.setString(x: x0, y: 0, "\(id)")
        let chart = Chart(
          series: [ChartSeries(name: "", points: points)], xRange: 0...Double(max(last, 1)),
          yRange: 1e-4...1, logY: true)
        chart.render(into: &buffer, area: Rect(x: x0, y: 1, width: width, height: height))
      }
      text += buffer.trimmedLines.joined(separator: "\n") + "\n"
    }
    return text
  }

  static func csvField(_ text: String) -> String {
    text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
  }
}
