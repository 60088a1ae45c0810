import RealModule

// Causal multi-head self-attention with ALiBi position biases, as in llm.c's attention layer
// but with the products done by BLAS per (batch, head).
//
// Shapes: qkv (B, T, 3C) holds q, k, v side by side; out (B, T, C); att (B, NH, T, T) saves the
// softmax weights (the forward's only saved tensor, and the attention maps users look at).
// Score of query t on key s ≤ t in head h: q_t·k_s/√hs − slope_h·(t − s). The linear bias
// instead of learned positions is what lets the model run past the lengths it was trained on.
//
// Ablation enters here: a disabled head contributes nothing (its weights are zero), and keys
// the history mask removes get no weight (a query with every key masked outputs zero).

/// ALiBi slopes 2^(−8(h+1)/NH) for h = 0..<NH: from steep (local) to nearly flat (global).
public func alibiSlopes<S: ForecastScalar>(heads NH: Int) -> [S] {
  (0..<NH).map { h in S.exp2(S(-8 * (h + 1)) / S(NH)) }
}

/// Ablation switches for one layer's attention.
public struct AttentionSwitches: Sendable, Equatable {
  /// NH flags; false switches a head off.
  public var headEnabled: [Bool]?
  /// Which past positions each query may attend to.
  public var history: HistoryMask
  public init(headEnabled: [Bool]? = nil, history: HistoryMask = .all) {
    self.headEnabled = headEnabled
    self.history = history
  }
  public static let none = AttentionSwitches()
}

/// Which keys (past positions, 0-based token indices) a query may use.
public enum HistoryMask: Sendable, Equatable {
  /// The whole causal history.
  case all
  /// Only the last w positions, the query's own included (keys s with t − s < w).
  case window(Int)
  /// Every position except those in the range.
  case excluding(Range<Int>)
  /// Only the positions in the range (and always the query itself, so no row is empty).
  case only(Range<Int>)
  /// Every other position: only keys an even distance back (t − s even, the query included),
  /// which removes the other half of an even/odd staggered history.
  case evenLags
  /// Only keys an odd distance back, and the query itself (so no row is empty).
  case oddLags

  @inline(__always)
  public func allows(query t: Int, key s: Int) -> Bool {
    switch self {
    case .all: true
    case .window(let w): t - s < w
    case .excluding(let r): !r.contains(s)
    case .only(let r): r.contains(s) || s == t
    case .evenLags: (t - s) % 2 == 0
    case .oddLags: (t - s) % 2 == 1 || s == t
    }
  }
}

/// Turns one row of raw scores (keys 0...t) into softmax weights, honouring masks and bias.
@inline(__always)
func causalSoftmaxRow<S: ForecastScalar>(
  _ row: UnsafeMutablePointer<S>, query t: Int, T: Int, slope: S, history: HistoryMask
) {
  if history == .all {
    // The common case (training, unablated forecasts): no mask test per element.
    var maxScore = -S.infinity
    for s in 0...t {
      let v = row[s] - slope * S(t - s)
      row[s] = v
      if v > maxScore { maxScore = v }
    }
    var sum: S = 0
    for s in 0...t {
      let e = S.exp(row[s] - maxScore)
      row[s] = e
      sum += e
    }
    let inv = 1 / sum
    for s in 0...t { row[s] *= inv }
  } else {
    var maxScore = -S.infinity
    for s in 0...t {
      if !history.allows(query: t, key: s) { continue }
      let v = row[s] - slope * S(t - s)
      row[s] = v
      if v > maxScore { maxScore = v }
    }
    var sum: S = 0
    for s in 0...t {
      if !history.allows(query: t, key: s) {
        row[s] = 0
        continue
      }
      let e = S.exp(row[s] - maxScore)
      row[s] = e
      sum += e
    }
    let inv: S = sum > 0 ? 1 / sum : 0
    for s in 0...t { row[s] *= inv }
  }
  if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
}

/// out (B, T, C) and att (B, NH, T, T) from qkv (B, T, 3C).
public func attentionForward<S: ForecastScalar>(
  _ out: UnsafeMutablePointer<S>, _ att: UnsafeMutablePointer<S>, _ qkv: UnsafePointer<S>,
  B: Int, T: Int, C: Int, NH: Int, slopes: [S], switches: AttentionSwitches = .none
) {
  let hs = C / NH
  let C3 = 3 * C
  let scale = 1 / S.sqrt(S(hs))
  parallelRanges(B * NH) { range in
    for bh in range {
      let b = bh / NH
      let h = bh % NH
      let att_bh = att + bh * T * T
      let q = qkv + b * T * C3 + h * hs
      let out_bh = out + b * T * C + h * hs
      if let enabled = switches.headEnabled, !enabled[h] {
        att_bh.update(repeating: 0, count: T * T)
        for t in 0..<T { (out_bh + t * C).update(repeating: 0, count: hs) }
        continue
      }
      S.gemm(
        transA: false, transB: true, m: T, n: T, k: hs, alpha: scale,
        a: q, lda: C3, b: q + C, ldb: C3, beta: 0, c: att_bh, ldc: T)
      for t in 0..<T {
        causalSoftmaxRow(att_bh + t * T, query: t, T: T, slope: slopes[h], history: switches.history)
      }
      S.gemm(
        transA: false, transB: false, m: T, n: hs, k: T, alpha: 1,
        a: att_bh, lda: T, b: q + 2 * C, ldb: C3, beta: 0, c: out_bh, ldc: C)
    }
  }
}

/// The same attention with plain loops over (b, t, h, s): the reference for the BLAS version.
public func attentionForwardNaive<S: ForecastScalar>(
  _ out: UnsafeMutablePointer<S>, _ att: UnsafeMutablePointer<S>, _ qkv: UnsafePointer<S>,
  B: Int, T: Int, C: Int, NH: Int, slopes: [S], switches: AttentionSwitches = .none
) {
  let hs = C / NH
  let C3 = 3 * C
  let scale = 1 / S.sqrt(S(hs))
  for b in 0..<B {
    for t in 0..<T {
      for h in 0..<NH {
        let row = att + ((b * NH + h) * T + t) * T
        let q = qkv + (b * T + t) * C3 + h * hs
        let o = out + (b * T + t) * C + h * hs
        let enabled = switches.headEnabled?[h] ?? true
        var weights = [S](repeating: 0, count: T)
        if enabled {
          var maxScore = -S.infinity
          var allowedAny = false
          for s in 0...t where switches.history.allows(query: t, key: s) {
            let k = qkv + (b * T + s) * C3 + C + h * hs
            var dot: S = 0
            for i in 0..<hs { dot += q[i] * k[i] }
            weights[s] = dot * scale - slopes[h] * S(t - s)
            maxScore = max(maxScore, weights[s])
            allowedAny = true
          }
          var sum: S = 0
          for s in 0...t where switches.history.allows(query: t, key: s) {
            weights[s] = S.exp(weights[s] - maxScore)
            sum += weights[s]
          }
          if allowedAny {
            for s in 0...t { weights[s] = switches.history.allows(query: t, key: s) ? weights[s] / sum : 0 }
          }
        }
        for s in 0..<T { row[s] = weights[s] }
        for i in 0..<hs {
          var acc: S = 0
          for s in 0...t { acc += weights[s] * qkv[(b * T + s) * C3 + 2 * C + h * hs + i] }
          o[i] = acc
        }
      }
    }
  }
}

/// Accumulates dqkv (B, T, 3C) from dout (B, T, C), the saved att and qkv.
///
/// With d the gradient on the weights, the softmax backward is datt_pre = att ⊙ (d − Σ att·d);
/// masked and future keys carry zero weight, so they get zero gradient with no special case.
public func attentionBackward<S: ForecastScalar>(
  _ dqkv: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, _ qkv: UnsafePointer<S>,
  _ att: UnsafePointer<S>, B: Int, T: Int, C: Int, NH: Int
) {
  let hs = C / NH
  let C3 = 3 * C
  let scale = 1 / S.sqrt(S(hs))
  parallelRanges(B * NH) { range in
    let scratch = UnsafeMutablePointer<S>.allocate(capacity: T * T)
    defer { scratch.deallocate() }
    for bh in range {
      let b = bh / NH
      let h = bh % NH
      let att_bh = att + bh * T * T
      let q = qkv + b * T * C3 + h * hs
      let dq = dqkv + b * T * C3 + h * hs
      let dout_bh = dout + b * T * C + h * hs
      // datt = dout · vᵀ
      S.gemm(
        transA: false, transB: true, m: T, n: T, k: hs, alpha: 1,
        a: dout_bh, lda: C, b: q + 2 * C, ldb: C3, beta: 0, c: scratch, ldc: T)
      // dv += attᵀ · dout
      S.gemm(
        transA: true, transB: false, m: T, n: hs, k: T, alpha: 1,
        a: att_bh, lda: T, b: dout_bh, ldb: C, beta: 1, c: dq + 2 * C, ldc: C3)
      // Softmax backward, in place: scratch becomes the gradient on the raw scores.
      for t in 0..<T {
        let a = att_bh + t * T
        let d = scratch + t * T
        var dot: S = 0
        for s in 0...t { dot += a[s] * d[s] }
        for s in 0...t { d[s] = a[s] * (d[s] - dot) }
        for s in (t + 1)..<T { d[s] = 0 }
      }
      // dq += scale · dpre · k ;  dk += scale · dpreᵀ · q
      S.gemm(
        transA: false, transB: false, m: T, n: hs, k: T, alpha: scale,
        a: scratch, lda: T, b: q + C, ldb: C3, beta: 1, c: dq, ldc: C3)
      S.gemm(
        transA: true, transB: false, m: T, n: hs, k: T, alpha: scale,
        a: scratch, lda: T, b: q, ldb: C3, beta: 1, c: dq + C, ldc: C3)
    }
  }
}
