import RealModule

/// Runs the transformer one position at a time, with every layer's keys and values cached,
/// so a rollout of M positions costs M single-row passes instead of M full forwards.
///
/// It calls the same layer functions as `Transformer.forward` (with one row), so the two paths
/// agree to rounding; a test checks that they do. Buffers are raw allocations made once:
/// the per-position loops run without bounds or exclusivity checks.
public final class IncrementalDecoder<S: ForecastScalar> {
  public let model: Transformer<S>
  public let capacity: Int
  public private(set) var count = 0
  /// Attention weights of every processed position, (L, NH, capacity, capacity), if captured.
  public var attention: [S]? {
    attentionStore.map { Array(UnsafeBufferPointer(start: $0, count: attentionCount)) }
  }

  private let keys: UnsafeMutablePointer<S>  // (L, capacity, C)
  private let values: UnsafeMutablePointer<S>  // (L, capacity, C)
  private let scratch: UnsafeMutablePointer<S>
  private let attentionStore: UnsafeMutablePointer<S>?
  private let attentionCount: Int
  // Views into `scratch`.
  private let x, ln, y, proj, qkv, hidden, hiddenGelu, scores, stats, features, out: UnsafeMutablePointer<S>

  public init(model: Transformer<S>, capacity: Int, captureAttention: Bool = false) {
    let c = model.config
    let C = c.channels
    self.model = model
    self.capacity = capacity
    keys = .allocate(capacity: c.layers * capacity * C)
    values = .allocate(capacity: c.layers * capacity * C)
    let sizes = [C, C, C, C, 3 * C, 4 * C, 4 * C, capacity, 2, c.features, 1]
    scratch = .allocate(capacity: sizes.reduce(0, +))
    scratch.initialize(repeating: 0, count: sizes.reduce(0, +))
    var offset = 0
    var views: [UnsafeMutablePointer<S>] = []
    for size in sizes {
      views.append(scratch + offset)
      offset += size
    }
    (x, ln, y, proj, qkv, hidden, hiddenGelu) = (views[0], views[1], views[2], views[3], views[4], views[5], views[6])
    (scores, stats, features, out) = (views[7], views[8], views[9], views[10])
    attentionCount = captureAttention ? c.layers * c.heads * capacity * capacity : 0
    if captureAttention {
      let store = UnsafeMutablePointer<S>.allocate(capacity: attentionCount)
      store.initialize(repeating: 0, count: attentionCount)
      attentionStore = store
    } else {
      attentionStore = nil
    }
  }

  deinit {
    keys.deallocate()
    values.deallocate()
    scratch.deallocate()
    attentionStore?.deallocate()
  }

  /// Feeds the features (F) of the next position and returns the model's output there.
  public func step(features input: [S], switches: [AttentionSwitches]? = nil) -> S {
    precondition(count < capacity, "the decoder holds at most \(capacity) positions")
    let config = model.config
    let L = config.layers
    let C = config.channels
    let NH = config.heads
    let hs = C / NH
    let t = count
    let lay = model.layout
    let p = UnsafePointer(model.parameterBase)
    let scale = 1 / S.sqrt(S(hs))
    let slopes = model.slopes
    for i in 0..<config.features { features[i] = input[i] }
    matmulForward(x, features, p + lay.wte, p + lay.bte, rows: 1, C: config.features, OC: C)
    for layer in 0..<L {
      let history = switches?[layer].history ?? .all
      let enabled = switches?[layer].headEnabled
      layerNormForward(ln, stats, stats + 1, x, p + lay.ln1w + layer * C, p + lay.ln1b + layer * C, rows: 1, C: C)
      matmulForward(qkv, ln, p + lay.qkvw + layer * 3 * C * C, p + lay.qkvb + layer * 3 * C, rows: 1, C: C, OC: 3 * C)
      let k = keys + layer * capacity * C
      let v = values + layer * capacity * C
      (k + t * C).update(from: qkv + C, count: C)
      (v + t * C).update(from: qkv + 2 * C, count: C)
      for h in 0..<NH {
        let yh = y + h * hs
        if let enabled, !enabled[h] {
          yh.update(repeating: 0, count: hs)
          continue
        }
        let q = qkv + h * hs
        for s in 0...t {
          let ks = k + s * C + h * hs
          var dot: S = 0
          for i in 0..<hs { dot += q[i] * ks[i] }
          scores[s] = dot * scale
        }
        causalSoftmaxRow(scores, query: t, T: t + 1, slope: slopes[h], history: history)
        yh.update(repeating: 0, count: hs)
        for s in 0...t {
          let w = scores[s]
          if w == 0 { continue }
          let vs = v + s * C + h * hs
          for i in 0..<hs { yh[i] += w * vs[i] }
        }
        if let store = attentionStore {
          (store + ((layer * NH + h) * capacity + t) * capacity).update(from: scores, count: t + 1)
        }
      }
      matmulForward(proj, y, p + lay.attprojw + layer * C * C, p + lay.attprojb + layer * C, rows: 1, C: C, OC: C)
      for i in 0..<C { x[i] += proj[i] }
      layerNormForward(ln, stats, stats + 1, x, p + lay.ln2w + layer * C, p + lay.ln2b + layer * C, rows: 1, C: C)
      matmulForward(hidden, ln, p + lay.fcw + layer * 4 * C * C, p + lay.fcb + layer * 4 * C, rows: 1, C: C, OC: 4 * C)
      geluForward(hiddenGelu, hidden, count: 4 * C)
      matmulForward(proj, hiddenGelu, p + lay.fcprojw + layer * C * 4 * C, p + lay.fcprojb + layer * C, rows: 1, C: 4 * C, OC: C)
      for i in 0..<C { x[i] += proj[i] }
    }
    layerNormForward(ln, stats, stats + 1, x, p + lay.lnfw, p + lay.lnfb, rows: 1, C: C)
    matmulForward(out, ln, p + lay.headw, p + lay.headb, rows: 1, C: C, OC: 1)
    count += 1
    return out[0]
  }
}
