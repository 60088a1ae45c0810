/// A real linear combination of Pauli strings: a Hermitian operator.
///
/// Coefficients live in a dictionary keyed by string, so sums merge terms as they are built.
/// This is the general-purpose algebra (model construction, parsing, moments, checks); the
/// Lanczos hot loop runs on the sector matrices of `SectorLiouvillian` instead.
public struct PauliSum: Sendable, Equatable, CustomStringConvertible {
  public private(set) var terms: [PauliString: Double]

  public init() { terms = [:] }

  public init(_ pairs: [(PauliString, Double)]) {
    terms = Dictionary(minimumCapacity: pairs.count)
    for (string, coefficient) in pairs { add(coefficient, string) }
  }

  public var isEmpty: Bool { terms.isEmpty }
  public var count: Int { terms.count }

  /// Terms sorted by string, for output that does not depend on hashing.
  public var sortedTerms: [(string: PauliString, coefficient: Double)] {
    terms.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
  }

  public subscript(string: PauliString) -> Double { terms[string] ?? 0 }

  /// Adds `coefficient · string`, dropping the term if it cancels exactly.
  public mutating func add(_ coefficient: Double, _ string: PauliString) {
    if coefficient == 0 { return }
    let updated = (terms[string] ?? 0) + coefficient
    if updated == 0 { terms[string] = nil } else { terms[string] = updated }
  }

  /// `self += alpha · other`.
  public mutating func add(_ other: PauliSum, scaledBy alpha: Double = 1) {
    for (string, coefficient) in other.terms { add(alpha * coefficient, string) }
  }

  public func scaled(by alpha: Double) -> PauliSum {
    var result = self
    result.terms = result.terms.mapValues { $0 * alpha }
    return result
  }

  /// The norm for `(A|B) = Tr(A†B) / 2^N`, in which strings are orthonormal.
  ///
  /// Scaled by the largest coefficient so that squares neither overflow (1e200) nor underflow
  /// (1e-200).
  public var norm: Double {
    let largest = terms.values.reduce(0) { max($0, abs($1)) }
    guard largest > 0 && largest.isFinite else { return largest }
    return largest * terms.values.reduce(0) { $0 + ($1 / largest) * ($1 / largest) }.squareRoot()
  }

  /// The power of two nearest the largest |coefficient| (1 for an empty sum or a non-finite
  /// coefficient): dividing by it is exact and brings every coefficient near 1.
  public var powerOfTwoScale: Double { Self.powerOfTwoScale(of: terms.values) }

  /// The power of two nearest below the largest |value| of `values` (1 when there is none).
  public static func powerOfTwoScale<C: Collection<Double>>(of values: C) -> Double {
    let largest = values.reduce(0) { max($0, abs($1)) }
    guard largest > 0 && largest.isFinite else { return 1 }
    return Double(sign: .plus, exponent: largest.exponent, significand: 1)
  }

  /// What to divide `values` by so that the squares of a computation on them stay in range:
  /// `powerOfTwoScale(of:)` when the values lie beyond 2^±20, and 1 otherwise, so ordinary
  /// inputs are computed exactly as they are.
  public static func rescaling<C: Collection<Double>>(of values: C) -> Double {
    let s = powerOfTwoScale(of: values)
    return s > 0x1p20 || s < 0x1p-20 ? s : 1
  }

  /// `(self|other)`.
  public func dot(_ other: PauliSum) -> Double {
    let (small, large) = count <= other.count ? (self, other) : (other, self)
    return small.terms.reduce(0) { $0 + $1.value * large[$1.key] }
  }

  /// Whether the operator is a real matrix (time-reversal even).
  ///
  /// It is when every term has an even number of Y factors.
  public var isReal: Bool { terms.keys.allSatisfy { $0.yCount % 2 == 0 } }

  /// The Y-count parity shared by every term, or nil if the terms mix parities.
  public var yParity: Int? {
    guard let first = terms.keys.first else { return 0 }
    let p = first.yCount & 1
    return terms.keys.allSatisfy { $0.yCount & 1 == p } ? p : nil
  }

  /// Sites touched by any term.
  public var support: UInt64 { terms.keys.reduce(0) { $0 | $1.support } }

  /// The fused update `self = beta · self + alpha · i[h, a]` used by recursions on Pauli sums.
  public mutating func update(beta: Double, alpha: Double, liouvillianOf h: PauliSum, acting a: PauliSum) {
    if beta != 1 {
      if beta == 0 {
        terms.removeAll(keepingCapacity: true)
      } else {
        terms = terms.mapValues { $0 * beta }
      }
    }
    terms.reserveCapacity(Swift.max(terms.count, a.count))
    for (hs, hc) in h.terms {
      for (s, c) in a.terms {
        if let (sign, result) = hs.liouvillian(acting: s) { add(alpha * sign * hc * c, result) }
      }
    }
  }

  /// `i[h, self]`.
  public func liouvillian(of h: PauliSum) -> PauliSum {
    var out = PauliSum()
    out.update(beta: 0, alpha: 1, liouvillianOf: h, acting: self)
    return out
  }

  /// Whether every coefficient agrees with `other` to `tolerance` (absolute).
  public func isApproximatelyEqual(to other: PauliSum, tolerance: Double) -> Bool {
    for (s, c) in terms where abs(c - other[s]) > tolerance { return false }
    for (s, c) in other.terms where abs(c - self[s]) > tolerance { return false }
    return true
  }

  public var description: String {
    if terms.isEmpty { return "0" }
    return sortedTerms.map { "\($0.coefficient)*\($0.string)" }.joined(separator: " + ")
  }
}
