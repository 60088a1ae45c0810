import Foundation

/// The asymptotic forms of physics.md §5, fitted to a computed prefix and extrapolated:
/// the baselines a forecast must beat.
public struct AsymptoticFit: Sendable, Equatable {
  public enum Form: String, Sendable, CaseIterable, Codable {
    /// b_n ≈ a·n + c.
    case linear
    /// b_n ≈ A·n / ln(B·n) + c (the one-dimensional logarithmic correction).
    case logCorrected = "log_corrected"
  }

  public let form: Form
  /// (a, c) for linear, (A, B, c) for log-corrected.
  public let parameters: [Double]
  /// The 1-based n range the fit was made on.
  public let window: ClosedRange<Int>

  /// The parameters by the names physics.md §5 gives them: (a, c) or (A, B, c).
  public var namedParameters: [(name: String, value: Double)] {
    let names = form == .linear ? ["a", "c"] : ["A", "B", "c"]
    return Array(zip(names, parameters)).map { (name: $0.0, value: $0.1) }
  }

  /// The fitted law with its numbers, to three figures: "0.812n+1.23", "1.1n/ln(0.37n)+0.52".
  public var formula: String {
    switch form {
    case .linear: String(format: "%.3gn%+.3g", parameters[0], parameters[1])
    case .logCorrected: String(format: "%.3gn/ln(%.3gn)%+.3g", parameters[0], parameters[1], parameters[2])
    }
  }

  /// The fitted value at n, never negative (Lanczos coefficients are not).
  public func value(at n: Int) -> Double {
    let x = Double(n)
    switch form {
    case .linear: return max(0, parameters[0] * x + parameters[1])
    case .logCorrected: return max(0, parameters[0] * x / Foundation.log(parameters[1] * x) + parameters[2])
    }
  }

  /// b_{from}..b_{through} from the fit.
  public func extrapolate(from: Int, through: Int) -> [Double] {
    from <= through ? (from...through).map(value(at:)) : []
  }

  /// The trailing window of a k-coefficient prefix the fits use: its second half, at least 4 points.
  public static func trailingWindow(prefixLength k: Int) -> ClosedRange<Int> {
    let width = min(k, max(4, k / 2))
    return (k - width + 1)...k
  }

  /// Fits `form` to b_n for n in `window` (1-based) by least squares; nil if too few points.
  ///
  /// The log form is linear in (A, c) for fixed B; B is found by a scan over log-spaced values
  /// with ln(B·n) > 0 on the window, refined by golden-section search.
  public static func fit(_ b: [Double], form: Form, window: ClosedRange<Int>) -> AsymptoticFit? {
    guard window.lowerBound >= 1, window.upperBound <= b.count, window.count >= 3 else { return nil }
    let ns = window.map(Double.init)
    // Fitted on b / s, s a power of two near the largest b: exact, and the squares of the least
    // squares stay in range for coefficients anywhere from 1e-300 to 1e300. A, a and c scale
    // with b; B (inside the logarithm) does not.
    let s = PauliSum.powerOfTwoScale(of: window.map { b[$0 - 1] })
    let ys = window.map { b[$0 - 1] / s }
    switch form {
    case .linear:
      guard let (a, c, _) = lineFit(x: ns, y: ys) else { return nil }
      return AsymptoticFit(form: .linear, parameters: [a * s, c * s], window: window)
    case .logCorrected:
      let nMin = ns[0]
      func residual(_ logB: Double) -> (Double, Double, Double) {
        let B = Foundation.exp(logB)
        let xs = ns.map { $0 / Foundation.log(B * $0) }
        guard let (A, c, r) = lineFit(x: xs, y: ys) else { return (.infinity, 0, 0) }
        return (r, A, c)
      }
      // ln(B n_min) > 0 needs B > 1/n_min; scan from just above that to B = 1e4.
      let lo = Foundation.log(1.02 / nMin)
      let hi = Foundation.log(1e4)
      var bestLogB = lo
      var bestR = Double.infinity
      for i in 0...200 {
        let logB = lo + (hi - lo) * Double(i) / 200
        let r = residual(logB).0
        if r < bestR {
          bestR = r
          bestLogB = logB
        }
      }
      var a = max(lo, bestLogB - (hi - lo) / 200)
      var d = min(hi, bestLogB + (hi - lo) / 200)
      let phi = (5.0.squareRoot() - 1) / 2
      for _ in 0..<60 {
        let x1 = d - phi * (d - a)
        let x2 = a + phi * (d - a)
        if residual(x1).0 < residual(x2).0 { d = x2 } else { a = x1 }
      }
      let logB = (a + d) / 2
      let (r, A, c) = residual(logB)
      let final =
        r <= bestR
        ? (A, logB, c)
        : {
          let v = residual(bestLogB)
          return (v.1, bestLogB, v.2)
        }()
      guard final.0.isFinite, final.2.isFinite else { return nil }
      return AsymptoticFit(
        form: .logCorrected, parameters: [final.0 * s, Foundation.exp(final.1), final.2 * s], window: window)
    }
  }

  /// "The best asymptotic fit" of physics.md §5, with every fit made.
  ///
  /// Each form is fitted to the prefix without its last fifth (at least 3 values), scored on
  /// that held-back tail, and the better form is refitted on the whole prefix.
  public static func best(prefix b: [Double]) -> (best: AsymptoticFit, fits: [AsymptoticFit], tailErrors: [Form: Double])? {
    let k = b.count
    let hold = max(3, k / 5)
    var tailErrors: [Form: Double] = [:]
    var fits: [AsymptoticFit] = []
    for form in Form.allCases {
      guard let full = fit(b, form: form, window: trailingWindow(prefixLength: k)) else { continue }
      fits.append(full)
      if k - hold >= 6, let early = fit(Array(b[0..<(k - hold)]), form: form, window: trailingWindow(prefixLength: k - hold)) {
        let predicted = early.extrapolate(from: k - hold + 1, through: k)
        tailErrors[form] = relativeRMSError(predicted, Array(b[(k - hold)...]))
      }
    }
    guard !fits.isEmpty else { return nil }
    let chosen = fits.min { (tailErrors[$0.form] ?? .infinity) < (tailErrors[$1.form] ?? .infinity) } ?? fits[0]
    return (chosen, fits, tailErrors)
  }
}

/// Least-squares line y ≈ a·x + c; returns (a, c, residual sum of squares).
func lineFit(x: [Double], y: [Double]) -> (Double, Double, Double)? {
  let n = Double(x.count)
  guard x.count >= 2 else { return nil }
  let mx = x.reduce(0, +) / n
  let my = y.reduce(0, +) / n
  var sxx = 0.0
  var sxy = 0.0
  for (xi, yi) in zip(x, y) {
    sxx += (xi - mx) * (xi - mx)
    sxy += (xi - mx) * (yi - my)
  }
  guard sxx > 0, sxx.isFinite else { return nil }
  let a = sxy / sxx
  let c = my - a * mx
  var r = 0.0
  for (xi, yi) in zip(x, y) { r += (a * xi + c - yi) * (a * xi + c - yi) }
  return (a, c, r)
}

/// sqrt(Σ (p − t)² / Σ t²) over the common length: the relative RMS error of physics.md §5.
///
/// Both are divided by a power of two near the truth's largest value first, so the squares
/// neither overflow nor underflow at any scale of b.
public func relativeRMSError(_ predicted: [Double], _ truth: [Double]) -> Double {
  let s = PauliSum.powerOfTwoScale(of: truth.prefix(predicted.count))
  var num = 0.0
  var den = 0.0
  for (p, t) in zip(predicted, truth) {
    let (p, t) = (p / s, t / s)
    num += (p - t) * (p - t)
    den += t * t
  }
  return den > 0 ? (num / den).squareRoot() : .nan
}
