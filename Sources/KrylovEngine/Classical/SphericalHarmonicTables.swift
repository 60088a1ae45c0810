/// Real spherical harmonics on one classical spin, and the sparse tables the Liouvillian needs.
///
/// The harmonics are normalized to the uniform measure on the sphere, ⟨Y Y⟩ = 1, and indexed
/// k = l² + (l + m), so k = 0 is the constant. For m > 0 the real harmonic is the cosine-type
/// combination √2 (−1)^m Re Y_lm, for m < 0 the sine-type √2 (−1)^m Im Y_l|m|: then S^x, S^y, S^z
/// are √3 times the l = 1 harmonics with m = 1, −1, 0.
///
/// Tables (physics.md §6): `multiply[a]` is multiplication by S^a (l → l ± 1) and `derive[a]` is
/// the derivation D_a = {S^a, ·} = −i L_a (keeps l). They are computed from the complex ladder
/// formulas (square roots of ratios of small integers, accurate at any l) and turned real by
/// the unitary change of basis; every entry comes out real, which the build checks.
public struct SphericalHarmonicTables: Sendable {
  /// One sparse operator on a single site: for source index k, `targets[start[k]..<start[k+1]]`.
  public struct Operator: Sendable {
    public var start: [Int32]
    public var targets: [UInt16]
    public var values: [Double]

    /// The (target, value) pairs of source index k.
    @inlinable
    public func column(_ k: Int) -> Range<Int> { Int(start[k])..<Int(start[k + 1]) }

    /// Dense matrix element ⟨target|op|source⟩, for tests and small checks.
    public func element(_ target: Int, _ source: Int) -> Double {
      for i in column(source) where Int(targets[i]) == target { return values[i] }
      return 0
    }
  }

  /// Highest degree l with complete tables: a source of degree ≤ maxDegree maps to degree ≤ maxDegree + 1.
  public let maxDegree: Int
  /// Multiplication by S^x, S^y, S^z (sources up to maxDegree; targets up to maxDegree + 1).
  public let multiply: [Operator]
  /// D_x, D_y, D_z = {S^a, ·} (sources and targets up to maxDegree + 1).
  public let derive: [Operator]

  /// Number of harmonics with degree ≤ l.
  @inlinable
  public static func count(upToDegree l: Int) -> Int { (l + 1) * (l + 1) }

  /// Index k of (l, m).
  @inlinable
  public static func index(l: Int, m: Int) -> Int { l * l + l + m }

  /// (l, m) of index k.
  @inlinable
  public static func degreeAndOrder(_ k: Int) -> (l: Int, m: Int) {
    var l = Int(Double(k).squareRoot())
    while l * l > k { l -= 1 }
    while (l + 1) * (l + 1) <= k { l += 1 }
    return (l, k - l * l - l)
  }

  public init(maxDegree: Int) {
    precondition(maxDegree >= 0 && maxDegree < 180, "harmonic tables: degree out of range")
    self.maxDegree = maxDegree
    let top = maxDegree + 1
    multiply = (0..<3).map { a in
      Self.realOperator(sourceDegrees: maxDegree, targetDegrees: top) { Self.complexMultiply(a, $0, $1, $2, $3) }
    }
    derive = (0..<3).map { a in
      Self.realOperator(sourceDegrees: top, targetDegrees: top) { Self.complexDerive(a, $0, $1, $2, $3) }
    }
  }

  // MARK: - Complex basis (Condon–Shortley phases)

  /// ⟨Y_{l'm'}| S^a |Y_{lm}⟩ for a = 0, 1, 2 (x, y, z), from the recurrences for z and x ± iy.
  static func complexMultiply(_ a: Int, _ lp: Int, _ mp: Int, _ l: Int, _ m: Int) -> Complex {
    let L = Double(l)
    let M = Double(m)
    /// ⟨Y_{l'm'}| (x + iy) |Y_{lm}⟩.
    func raise() -> Double {
      guard mp == m + 1 else { return 0 }
      if lp == l + 1 { return -((L + M + 1) * (L + M + 2) / ((2 * L + 1) * (2 * L + 3))).squareRoot() }
      if lp == l - 1 { return ((L - M) * (L - M - 1) / ((2 * L - 1) * (2 * L + 1))).squareRoot() }
      return 0
    }
    /// ⟨Y_{l'm'}| (x − iy) |Y_{lm}⟩.
    func lower() -> Double {
      guard mp == m - 1 else { return 0 }
      if lp == l + 1 { return ((L - M + 1) * (L - M + 2) / ((2 * L + 1) * (2 * L + 3))).squareRoot() }
      if lp == l - 1 { return -((L + M) * (L + M - 1) / ((2 * L - 1) * (2 * L + 1))).squareRoot() }
      return 0
    }
    switch a {
    case 0: return Complex((raise() + lower()) / 2, 0)
    case 1: return Complex(0, -(raise() - lower()) / 2)  // (r − w) / (2i)
    default:
      guard mp == m else { return .zero }
      if lp == l + 1 { return Complex((((L + 1) * (L + 1) - M * M) / ((2 * L + 1) * (2 * L + 3))).squareRoot(), 0) }
      if lp == l - 1 { return Complex(((L * L - M * M) / ((2 * L - 1) * (2 * L + 1))).squareRoot(), 0) }
      return .zero
    }
  }

  /// ⟨Y_{l'm'}| D_a |Y_{lm}⟩ with D_a = −i L_a and the standard ladder L_± Y_lm = √(l(l+1) − m(m±1)) Y_{l,m±1}.
  static func complexDerive(_ a: Int, _ lp: Int, _ mp: Int, _ l: Int, _ m: Int) -> Complex {
    guard lp == l else { return .zero }
    let L = Double(l)
    let M = Double(m)
    let up = mp == m + 1 ? (L * (L + 1) - M * (M + 1)).squareRoot() : 0
    let down = mp == m - 1 ? (L * (L + 1) - M * (M - 1)).squareRoot() : 0
    switch a {
    case 0: return Complex(0, -(up + down) / 2)  // −i (L+ + L−) / 2
    case 1: return Complex(-(up - down) / 2, 0)  // −i (L+ − L−) / (2i)
    default: return mp == m ? Complex(0, -M) : .zero
    }
  }

  // MARK: - Change to the real basis

  /// Coefficients of real harmonic (l, m) on the complex Y_{l,μ}: R = Σ_μ u_μ Y_{l,μ}.
  static func realCombination(m: Int) -> [(mu: Int, u: Complex)] {
    let r = 0.5.squareRoot()
    let sign: Double = m % 2 == 0 ? 1 : -1
    if m > 0 { return [(-m, Complex(r, 0)), (m, Complex(sign * r, 0))] }
    if m < 0 { return [(m, Complex(0, r)), (-m, Complex(0, -sign * r))] }
    return [(0, Complex(1, 0))]
  }

  /// ⟨R_{l'm'}| A |R_{lm}⟩ = Σ conj(u'_{μ'}) u_μ ⟨Y_{l'μ'}|A|Y_{lμ}⟩ for every source of degree ≤ sourceDegrees.
  static func realOperator(
    sourceDegrees: Int, targetDegrees: Int, complex: (Int, Int, Int, Int) -> Complex
  ) -> Operator {
    var start: [Int32] = [0]
    var targets: [UInt16] = []
    var values: [Double] = []
    for k in 0..<count(upToDegree: sourceDegrees) {
      let (l, m) = degreeAndOrder(k)
      for lp in max(0, l - 1)...min(targetDegrees, l + 1) {
        for mp in -lp...lp {
          var sum = Complex.zero
          for (mu1, u1) in realCombination(m: mp) {
            for (mu, u) in realCombination(m: m) {
              sum = sum + u1.conjugate * u * complex(lp, mu1, l, mu)
            }
          }
          precondition(abs(sum.im) < 1e-12, "harmonic tables: a real-basis element is not real")
          if abs(sum.re) > 1e-15 {
            targets.append(UInt16(index(l: lp, m: mp)))
            values.append(sum.re)
          }
        }
      }
      start.append(Int32(targets.count))
    }
    return Operator(start: start, targets: targets, values: values)
  }
}
