import ArgumentParser
import Foundation
import KrylovEngine
import KrylovForecaster

struct AttentionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attention",
    abstract: "Every layer's and head's attention over a forecast rollout.",
    discussion: """
      Runs the same rollout as 'krylov forecast' and records each head's causal attention: \
      for every query position (the value b_n it reads) the weights over the keys b_1..b_n. \
      The last value b_M is produced but never read, so positions run over n = 1..M-1.

      JSON: {"layers", "heads", "n": [...], "attention": [layer][head][query][key ≤ query]}. \
      CSV: rows layer,head,query_n,key_n,weight (keys up to the query).
      """
  )

  @OptionGroup var inputOptions: ForecastInputOptions
  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Output format: json or csv.")
  var format: OutputFormat = .json

  @Option(help: "Only this layer (0-based).")
  var layer: Int?

  @Option(help: "Only this head (0-based).")
  var head: Int?

  @Option(name: [.short, .long], help: "Write to this file instead of standard output.")
  var output: String?

  func run() throws {
    let input = try inputOptions.load()
    let b = input.trusted
    let forecaster = try modelOptions.load(for: input.domain)
    let config = forecaster.config
    if let layer, !(0..<config.layers ~= layer) {
      throw ValidationError("--layer \(layer) does not exist: the model has layers 0..<\(config.layers)")
    }
    if let head, !(0..<config.heads ~= head) {
      throw ValidationError("--head \(head) does not exist: the model has heads 0..<\(config.heads)")
    }
    let forecast: Forecast
    do {
      forecast = try forecaster.forecast(
        prefix: Array(b[0..<inputOptions.prefix]), horizon: inputOptions.horizon, context: input.context,
        captureAttention: true)
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    guard let maps = forecast.attention else {
      printError("error: the forecast returned no attention weights")
      throw ExitCode(1)
    }
    let layers = layer.map { [$0] } ?? Array(0..<config.layers)
    let heads = head.map { [$0] } ?? Array(0..<config.heads)
    let sink = try DataSink.openOrExit(output)
    switch format {
    case .json:
      let attention = layers.map { l in
        heads.map { h in
          (0..<maps.positions).map { q in (0...q).map { Double(maps.weight(layer: l, head: h, query: q, key: $0)) } }
        }
      }
      try sink.writeJSON(
        AttentionDocument(
          layers: layers, heads: heads, n: Array(1...maps.positions), prefix: inputOptions.prefix,
          horizon: inputOptions.horizon, attention: attention))
    case .csv:
      sink.write("# krylov attention: prefix k = \(inputOptions.prefix), horizon M = \(inputOptions.horizon)\n")
      sink.write("layer,head,query_n,key_n,weight\n")
      for l in layers {
        for h in heads {
          for q in 0..<maps.positions {
            for key in 0...q {
              sink.write("\(l),\(h),\(q + 1),\(key + 1),\(maps.weight(layer: l, head: h, query: q, key: key))\n")
            }
          }
        }
      }
    }
    do { try sink.finish() } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
  }
}

/// What `krylov attention --format json` writes: `attention[layer][head][query][key]` over
/// the listed layers and heads, query n = 1…, keys up to the query (docs/formats.md).
struct AttentionDocument: Encodable {
  var layers: [Int]
  var heads: [Int]
  var n: [Int]
  var prefix: Int
  var horizon: Int
  var attention: [[[[Double]]]]
}
