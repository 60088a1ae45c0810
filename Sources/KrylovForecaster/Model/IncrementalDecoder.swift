import RealModule

/// Runs the transformer one position at a time, with every layer's keys and values cached,
/// so a rollout of M positions costs M single-row passes instead of M full forwards.
///
/// It calls the same layer functions as `Transformer.forward` (with one row), so the two paths
/// agree to rounding; a test checks that they do.
public final class IncrementalDecoder<S: ForecastScalar> {
  public let model: Transformer<S>
  public let capacity: Int
  public private(set) var count = 0
  /// Attention weights of every processed position, (L, NH, capacity, capacity), if captured.
  public private(set) var attention: [S]?

  private var keys: [S]  // (L, capacity, C)
  private var values: [S]  // (L, capacity, C)
  private var x, ln, y, proj: [S]  // (C)
  private var qkv: [S]  // (3C)
  private var hidden, hiddenGelu: [S]  // (4C)
  private var scores: [S]  // (capacity)
  private var stats: [S] = [0, 0]

  public init(model: Transformer<S>, capacity: Int, captureAttention: Bool = false) {
    let c = model.config
    self.model = model
    self.capacity = capacity
    keys = Array(repeating: 0, count: c.layers * capacity * c.channels)
    values = keys
    x = Array(repeating: 0, count: c.channels)
    ln = x
    y = x
    proj = x
    qkv = Array(repeating: 0, count: 3 * c.channels)
    hidden = Array(repeating: 0, count: 4 * c.channels)
    hiddenGelu = hidden
    scores = Array(repeating: 0, count: capacity)
    if captureAttention {
      attention = Array(repeating: 0, count: c.layers * c.heads * capacity * capacity)
    }
  }

  /// Feeds the features (F) of the next position and returns the model's output there.
  public func step(features: [S], switches: [AttentionSwitches]? = nil) -> S {
    precondition(count < capacity, "the decoder holds at most \(capacity) positions")
    let config = model.config
    let L = config.layers
    let C = config.channels
    let NH = config.heads
    let hs = C / NH
    let t = count
    let lay = model.layout
    let p = UnsafePointer(model.params.baseAddress!)
    let scale = 1 / S.sqrt(S(hs))
    let slopes = model.slopes
    features.withUnsafeBufferPointer { f in
      matmulForward(&x, f.baseAddress!, p + lay.wte, p + lay.bte, rows: 1, C: config.features, OC: C)
    }
    for layer in 0..<L {
      let history = switches?[layer].history ?? .all
      let enabled = switches?[layer].headEnabled
      stats.withUnsafeMutableBufferPointer { st in
        layerNormForward(&ln, st.baseAddress!, st.baseAddress! + 1, x, p + lay.ln1w + layer * C, p + lay.ln1b + layer * C, rows: 1, C: C)
      }
      matmulForward(&qkv, ln, p + lay.qkvw + layer * 3 * C * C, p + lay.qkvb + layer * 3 * C, rows: 1, C: C, OC: 3 * C)
      let base = layer * capacity * C
      for i in 0..<C {
        keys[base + t * C + i] = qkv[C + i]
        values[base + t * C + i] = qkv[2 * C + i]
      }
      for h in 0..<NH {
        if let enabled, !enabled[h] {
          for i in 0..<hs { y[h * hs + i] = 0 }
          continue
        }
        for s in 0...t {
          var dot: S = 0
          let k = base + s * C + h * hs
          for i in 0..<hs { dot += qkv[h * hs + i] * keys[k + i] }
          scores[s] = dot * scale
        }
        scores.withUnsafeMutableBufferPointer { row in
          causalSoftmaxRow(row.baseAddress!, query: t, T: t + 1, slope: slopes[h], history: history)
        }
        for i in 0..<hs {
          var acc: S = 0
          for s in 0...t { acc += scores[s] * values[base + s * C + h * hs + i] }
          y[h * hs + i] = acc
        }
        if attention != nil {
          let row = ((layer * NH + h) * capacity + t) * capacity
          for s in 0...t { attention![row + s] = scores[s] }
        }
      }
      matmulForward(&proj, y, p + lay.attprojw + layer * C * C, p + lay.attprojb + layer * C, rows: 1, C: C, OC: C)
      for i in 0..<C { x[i] += proj[i] }
      stats.withUnsafeMutableBufferPointer { st in
        layerNormForward(&ln, st.baseAddress!, st.baseAddress! + 1, x, p + lay.ln2w + layer * C, p + lay.ln2b + layer * C, rows: 1, C: C)
      }
      matmulForward(&hidden, ln, p + lay.fcw + layer * 4 * C * C, p + lay.fcb + layer * 4 * C, rows: 1, C: C, OC: 4 * C)
      geluForward(&hiddenGelu, hidden, count: 4 * C)
      matmulForward(&proj, hiddenGelu, p + lay.fcprojw + layer * C * 4 * C, p + lay.fcprojb + layer * C, rows: 1, C: 4 * C, OC: C)
      for i in 0..<C { x[i] += proj[i] }
    }
    stats.withUnsafeMutableBufferPointer { st in
      layerNormForward(&ln, st.baseAddress!, st.baseAddress! + 1, x, p + lay.lnfw, p + lay.lnfb, rows: 1, C: C)
    }
    var out: [S] = [0]
    matmulForward(&out, ln, p + lay.headw, p + lay.headb, rows: 1, C: C, OC: 1)
    count += 1
    return out[0]
  }
}
