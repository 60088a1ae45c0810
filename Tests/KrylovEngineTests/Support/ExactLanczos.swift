import BigInt
import KrylovEngine

/// Lanczos coefficients in exact arithmetic: integer vectors over Pauli strings.
///
/// No sectors, no floating point: the independent reference for the engine on small chains.
///
/// With integer couplings (H scaled by a common denominator D) and an integer operator O, the
/// monic Krylov vectors P_n = p_n(L) O have squared norms h_n whose products are the Gram
/// determinants H_n = h_0 ⋯ h_n (integers), and Q_n = H_{n−1} P_n is an integer vector
/// (Cramer's rule on the Gram system). The three-term recursion then reads, with exact divisions,
///   Q_n = (H_{n−1} H_{n−2} L Q_{n−1} + H_{n−1}² Q_{n−2}) / H_{n−2}²,   H_n = ‖Q_n‖² / H_{n−1},
/// (the plus sign because the real map L = i[H, ·] is antisymmetric: P_n = L P_{n−1} + Δ_{n−1} P_{n−2}),
/// and b_n² = h_n / h_{n−1} = H_n H_{n−2} / H_{n−1}². The Krylov space is exhausted exactly when
/// H_n = 0. Every division is checked to leave no remainder, which checks the theory as it runs.
struct ExactLanczos {
  /// b_n² as exact fractions (numerator, denominator), for the unscaled Hamiltonian.
  var squares: [(BigInt, BigInt)] = []
  /// Whether the space was exhausted (Q_n = 0) before `steps` coefficients.
  var exhausted = false

  /// b_n in double precision (correctly rounded up to the last bit or two).
  var coefficients: [Double] { squares.map { ratioToDouble($0.0, $0.1).squareRoot() } }

  init(hamiltonian: PauliSum, operator: PauliSum, steps: Int) {
    let (h, denominator) = Self.integerize(hamiltonian)
    let (o, _) = Self.integerize(`operator`)
    typealias Vector = [PauliString: BigInt]
    let terms = h.map { ($0.key, $0.value) }
    func apply(_ v: Vector, scale: BigInt) -> Vector {
      var out: Vector = Dictionary(minimumCapacity: v.count * 2)
      for (s, c) in v {
        let cs = c * scale
        for (hs, hc) in terms {
          guard let (sign, r) = hs.liouvillian(acting: s) else { continue }
          out[r, default: 0] += (sign > 0 ? 2 : -2) * hc * cs
        }
      }
      return out
    }
    func normSquared(_ a: Vector) -> BigInt { a.values.reduce(BigInt(0)) { $0 + $1 * $1 } }
    func exactDivide(_ a: BigInt, _ b: BigInt) -> BigInt {
      let (q, r) = a.quotientAndRemainder(dividingBy: b)
      precondition(r == 0, "exact Lanczos: a division left a remainder (theory or arithmetic is wrong)")
      return q
    }
    var older: Vector = [:]  // Q_{n-2}
    var previous: Vector = o  // Q_{n-1}
    var hPrevious = BigInt(1)  // H_{n-2}
    var hCurrent = normSquared(o)  // H_{n-1}
    let d2 = denominator * denominator
    for _ in 1...steps {
      // Q_n = (H_{n-1} H_{n-2} L Q_{n-1} + H_{n-1}² Q_{n-2}) / H_{n-2}²
      var next = apply(previous, scale: hCurrent * hPrevious)
      let c = hCurrent * hCurrent
      for (s, v) in older { next[s, default: 0] += c * v }
      let divisor = hPrevious * hPrevious
      var reduced: Vector = Dictionary(minimumCapacity: next.count)
      for (s, v) in next where v != 0 { reduced[s] = divisor == 1 ? v : exactDivide(v, divisor) }
      let hNext = exactDivide(normSquared(reduced), hCurrent)
      if hNext == 0 {
        exhausted = true
        break
      }
      // b_n² = H_n H_{n-2} / H_{n-1}², for L scaled by D.
      squares.append((hNext * hPrevious, hCurrent * hCurrent * d2))
      older = previous
      previous = reduced
      hPrevious = hCurrent
      hCurrent = hNext
    }
  }

  /// Scales a sum with decimal coefficients to integers; returns the integer terms and the scale.
  static func integerize(_ sum: PauliSum) -> ([PauliString: BigInt], BigInt) {
    for scale in [1, 2, 4, 5, 10, 20, 100, 1000, 10000] {
      let scaled = sum.terms.mapValues { $0 * Double(scale) }
      if scaled.values.allSatisfy({ abs($0 - $0.rounded()) < 1e-9 }) {
        return (scaled.mapValues { BigInt(Int($0.rounded())) }, BigInt(scale))
      }
    }
    // Uniform sums like Σ Z_i / sqrt(N): divide by the common magnitude first.
    let unit = sum.terms.values.map(abs).min() ?? 1
    let (terms, _) = integerize(sum.scaled(by: 1 / unit))
    return (terms, 1)
  }
}

/// num/den as a Double, for integers far beyond Double's range.
func ratioToDouble(_ num: BigInt, _ den: BigInt) -> Double {
  let shiftNum = max(0, num.magnitude.bitWidth - 80)
  let shiftDen = max(0, den.magnitude.bitWidth - 80)
  let a = Double(num >> shiftNum)
  let b = Double(den >> shiftDen)
  return a / b * pow2(shiftNum - shiftDen)
}

private func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
