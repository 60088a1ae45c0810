/// A linear autoregressive model b_n ≈ c + Σ_{i=1..p} a_i b_{n−i}, fitted to the prefix by
/// least squares and rolled out: the plain time-series baseline that tells whether a
/// transformer's attention earns its keep.
public struct LinearAutoregression: Sendable, Equatable {
  /// a_1..a_p.
  public let coefficients: [Double]
  public let intercept: Double

  /// The order used for a k-value prefix: up to 4, with at least three equations per unknown.
  public static func order(prefixLength k: Int) -> Int { max(1, min(4, (k - 1) / 4)) }

  /// Fits order p (default: `order(prefixLength:)`) to `b`; nil if there are too few values.
  ///
  /// A tiny ridge term (1e-10 of the Gram matrix's trace) keeps nearly collinear histories
  /// (a straight line, say) solvable without changing well-posed fits.
  public static func fit(_ b: [Double], order: Int? = nil) -> LinearAutoregression? {
    // Far from 1 (beyond 2^±20), fitted on b / s (s a power of two near the largest b: exact),
    // so the Gram matrix stays in range at any scale; the a_i do not depend on the scale, the
    // intercept scales with b. Ordinary coefficients are fitted as they are.
    let s = PauliSum.rescaling(of: b)
    let b = b.map { $0 / s }
    let p = order ?? Self.order(prefixLength: b.count)
    let rows = b.count - p
    guard p >= 1, rows >= p + 1 else { return nil }
    let m = p + 1
    var gram = [Double](repeating: 0, count: m * m)
    var rhs = [Double](repeating: 0, count: m)
    for t in p..<b.count {
      var row = [1.0]
      for i in 1...p { row.append(b[t - i]) }
      for i in 0..<m {
        rhs[i] += row[i] * b[t]
        for j in 0..<m { gram[i * m + j] += row[i] * row[j] }
      }
    }
    let trace = (0..<m).reduce(0.0) { $0 + gram[$1 * m + $1] }
    for i in 0..<m { gram[i * m + i] += 1e-10 * trace / Double(m) }
    guard let x = solve(gram, rhs, m) else { return nil }
    return LinearAutoregression(coefficients: Array(x[1...]), intercept: x[0] * s)
  }

  /// Continues `history` to `count` more values, each fed back; values are kept non-negative.
  public func rollout(history: [Double], count: Int) -> [Double] {
    var seq = history
    var out: [Double] = []
    for _ in 0..<count {
      var v = intercept
      for (i, a) in coefficients.enumerated() { v += a * seq[seq.count - 1 - i] }
      v = max(0, v)
      seq.append(v)
      out.append(v)
    }
    return out
  }
}

/// Gaussian elimination with partial pivoting on an m×m system.
func solve(_ a: [Double], _ b: [Double], _ m: Int) -> [Double]? {
  var a = a
  var b = b
  for col in 0..<m {
    var pivot = col
    for r in col..<m where abs(a[r * m + col]) > abs(a[pivot * m + col]) { pivot = r }
    guard abs(a[pivot * m + col]) > 0 else { return nil }
    if pivot != col {
      for j in 0..<m { a.swapAt(col * m + j, pivot * m + j) }
      b.swapAt(col, pivot)
    }
    for r in (col + 1)..<m {
      let f = a[r * m + col] / a[col * m + col]
      for j in col..<m { a[r * m + j] -= f * a[col * m + j] }
      b[r] -= f * b[col]
    }
  }
  var x = [Double](repeating: 0, count: m)
  for r in stride(from: m - 1, through: 0, by: -1) {
    var s = b[r]
    for j in (r + 1)..<m { s -= a[r * m + j] * x[j] }
    x[r] = s / a[r * m + r]
  }
  return x.allSatisfy(\.isFinite) ? x : nil
}
