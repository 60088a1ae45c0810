import Foundation

/// One attention head: layer and head index, both from 0.
public struct HeadID: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var layer: Int
  public var head: Int
  public init(layer: Int, head: Int) {
    self.layer = layer
    self.head = head
  }
  public static func < (a: HeadID, b: HeadID) -> Bool { (a.layer, a.head) < (b.layer, b.head) }
  /// "L1H3" style, 0-based as everywhere in the API.
  public var description: String { "L\(layer)H\(head)" }
}

/// What to switch off at inference: heads, and parts of the history every head may see.
public struct Ablation: Sendable, Equatable {
  public var disabledHeads: Set<HeadID>
  /// Over token positions: position p holds b_{p+1}.
  public var history: HistoryMask
  public init(disabledHeads: Set<HeadID> = [], history: HistoryMask = .all) {
    self.disabledHeads = disabledHeads
    self.history = history
  }
  public static let none = Ablation()
  public var isNone: Bool { disabledHeads.isEmpty && history == .all }

  /// The per-layer switches this ablation means for a model of the given shape (nil: none).
  public func switches(layers: Int, heads: Int) -> [AttentionSwitches]? {
    if isNone { return nil }
    return (0..<layers).map { l in
      AttentionSwitches(
        headEnabled: (0..<heads).map { !disabledHeads.contains(HeadID(layer: l, head: $0)) }, history: history)
    }
  }
}

/// Every layer's and head's attention over a rollout: weights[l][h][q][k] for keys k ≤ q.
public struct AttentionMaps: Sendable, Equatable {
  public let layers: Int
  public let heads: Int
  /// Token positions processed (position p holds b_{p+1}).
  public let positions: Int
  /// (L, NH, P, P) row-major; zero above the diagonal.
  public let weights: [Float]

  public func weight(layer: Int, head: Int, query: Int, key: Int) -> Float {
    weights[((layer * heads + head) * positions + query) * positions + key]
  }
}

/// A forecast b_{k+1}..b_M from a prefix b_1..b_k.
public struct Forecast: Sendable, Equatable {
  public let prefixLength: Int
  /// b_{k+1}..b_M.
  public let values: [Double]
  public let attention: AttentionMaps?
  /// What the model was told of the system (unknown for a model without system inputs).
  public let context: SystemContext
  /// The calibrated band, when the model carries a calibration and nothing is ablated.
  public let band: ForecastBand?
}

/// Why a forecast could not be made.
public enum ForecastError: Error, Sendable, Equatable, CustomStringConvertible {
  case prefixTooShort(got: Int, needed: Int)
  case badHorizon(prefix: Int, horizon: Int)
  case badValue(n: Int, value: Double)
  case badHead(HeadID, layers: Int, heads: Int)
  case attentionTooLarge(bytes: Int, limit: Int)
  /// The model's output overflowed (weights beyond what a trained model holds, or input beyond
  /// its range): nothing is reported rather than nan.
  case nonFinite(n: Int)

  public var description: String {
    switch self {
    case .prefixTooShort(let got, let needed):
      "the prefix holds \(got) coefficients; the model needs at least \(needed) (its normalizing window)"
    case .badHorizon(let k, let m):
      m <= k
        ? "the horizon M = \(m) must be larger than the prefix length k = \(k)"
        : "the horizon M = \(m) is beyond the longest rollout, \(Forecaster.maximumHorizon) (its cost grows as M²)"
    case .badValue(let n, let v):
      v > 0 && v.isFinite
        ? "b_\(n) = \(v) in the prefix is below double precision's normal range (2.2e-308): rescale the sequence"
        : "b_\(n) = \(v) in the prefix is not a positive finite number"
    case .badHead(let id, let layers, let heads):
      "head \(id) does not exist: the model has layers 0..<\(layers) and heads 0..<\(heads)"
    case .attentionTooLarge(let bytes, let limit):
      "capturing the attention of this rollout would take \(bytes >> 20) MiB (L·NH·M² weights), above the "
        + "limit of \(limit >> 20) MiB: use a shorter horizon"
    case .nonFinite(let n):
      "the model's forecast of b_\(n) is not a finite number: its weights or the prefix are beyond the range it works in"
    }
  }
}

/// The trained model ready to forecast: autoregressive rollout with a key/value cache.
public final class Forecaster: @unchecked Sendable {
  public let model: Transformer<Float>
  public let metadata: [String: String]
  /// The band calibration from the checkpoint's metadata, if it has one.
  public let calibration: BandCalibration?
  /// The systems the checkpoint was trained on, if its metadata says.
  public let coverage: TrainingCoverage?

  /// A forecaster over `model`; `Checkpoint.decode` reads and checks the calibration and the
  /// coverage from a checkpoint's metadata.
  public init(
    model: Transformer<Float>, metadata: [String: String] = [:], calibration: BandCalibration? = nil,
    coverage: TrainingCoverage? = nil
  ) {
    self.model = model
    self.metadata = metadata
    self.calibration = calibration
    self.coverage = coverage
  }

  /// Why a forecast for `context` lies outside what this model was trained on, or nil.
  public func outsideTraining(_ context: SystemContext) -> String? {
    guard readsSystem else { return nil }
    return coverage?.outside(context)
  }

  /// The longest rollout: each step attends over every earlier position, so a rollout costs
  /// O(M²·C) (about 35 ms to M = 200 and 20 s to 5000 on two cores); longer ones are refused.
  public static let maximumHorizon = 5000

  /// The largest attention capture a rollout may hold (L·NH·M² float32 weights).
  public static let maximumAttentionBytes = 1 << 28

  /// Bytes the attention capture of a rollout to horizon M takes (saturating).
  public func attentionBytes(horizon M: Int) -> Int {
    let p = max(M - 1, 0)
    let (square, o1) = p.multipliedReportingOverflow(by: p)
    let (maps, o2) = square.multipliedReportingOverflow(by: config.layers * config.heads * 4)
    return o1 || o2 ? Int.max : maps
  }

  /// Whether the model reads the system's size and boundary.
  public var readsSystem: Bool { config.systemInputs }

  public var config: ForecasterConfig { model.config }
  public var allHeads: [HeadID] {
    (0..<config.layers).flatMap { l in (0..<config.heads).map { HeadID(layer: l, head: $0) } }
  }

  /// Forecasts b_{k+1}..b_M from the prefix b_1..b_k (k = prefix.count) of a chain described
  /// by `context` (ignored by a model without system inputs).
  ///
  /// The prefix is fed as it is (teacher forcing); each forecast value is fed back for the next.
  /// Values are kept non-negative, as Lanczos coefficients are.
  public func forecast(
    prefix: [Double], horizon M: Int, context: SystemContext = .unknown, ablation: Ablation = .none,
    captureAttention: Bool = false
  ) throws(ForecastError) -> Forecast {
    let k = prefix.count
    guard k >= config.scaleWindow else { throw .prefixTooShort(got: k, needed: config.scaleWindow) }
    guard M > k, M <= Self.maximumHorizon else { throw .badHorizon(prefix: k, horizon: M) }
    // Subnormal values (below 2.2e-308) have lost their precision: nothing sound follows from them.
    for (i, b) in prefix.enumerated() where !(b > 0 && b.isNormal) { throw .badValue(n: i + 1, value: b) }
    if captureAttention, case let bytes = attentionBytes(horizon: M), bytes > Self.maximumAttentionBytes {
      throw .attentionTooLarge(bytes: bytes, limit: Self.maximumAttentionBytes)
    }
    for id in ablation.disabledHeads where !(0..<config.layers ~= id.layer && 0..<config.heads ~= id.head) {
      throw .badHead(id, layers: config.layers, heads: config.heads)
    }
    let scale = SequenceEncoding.scale(of: prefix, window: config.scaleWindow)
    let gain = config.stepGain
    let switches = ablation.switches(layers: config.layers, heads: config.heads)
    let positions = M - 1  // b_M is produced, never fed
    let decoder = IncrementalDecoder(model: model, capacity: positions, captureAttention: captureAttention)
    let told = config.systemInputs ? context : .unknown
    var x = prefix.map { $0 / scale }
    x.reserveCapacity(M)
    var out: [Double] = []
    var input = [Float](repeating: 0, count: config.features)
    for t in 0..<positions {
      SequenceEncoding.write(x: x[t], previous: t > 0 ? x[t - 1] : nil, n: t + 1, context: told, config: config, into: &input)
      let step = Double(decoder.step(features: input, switches: switches))
      if t + 1 >= k {
        // max(0, nan) is 0: the step is checked before it can vanish into a plausible value.
        guard step.isFinite else { throw ForecastError.nonFinite(n: t + 2) }
        let next = max(0, x[t] + step / gain)
        guard (next * scale).isFinite else { throw ForecastError.nonFinite(n: t + 2) }
        x.append(next)
        out.append(next * scale)
      }
    }
    let maps = decoder.attention.map { weights in
      AttentionMaps(layers: config.layers, heads: config.heads, positions: positions, weights: weights)
    }
    let band = ablation.isNone ? calibration?.band(around: out, regime: told.regime) : nil
    return Forecast(prefixLength: k, values: out, attention: maps, context: told, band: band)
  }
}
