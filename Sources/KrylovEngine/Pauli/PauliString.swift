/// A tensor product of Pauli matrices on up to 64 sites, as two bit masks.
///
/// Site `i` carries X when only bit `i` of `x` is set, Z when only bit `i` of `z` is set,
/// and Y when both are. The string stands for the Hermitian matrix
/// `i^{|x & z|} X^x Z^z`, so every string is Hermitian and squares to the identity, and
/// strings are orthonormal for `(A|B) = Tr(A†B) / 2^N` (physics.md §2).
public struct PauliString: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var x: UInt64
  public var z: UInt64

  public init(x: UInt64, z: UInt64) {
    self.x = x
    self.z = z
  }

  /// The identity string.
  public static let identity = PauliString(x: 0, z: 0)

  /// A single Pauli letter (`"X"`, `"Y"` or `"Z"`) on one site.
  public init(letter: Character, site: Int) {
    precondition(site >= 0 && site < 64, "site out of range")
    let bit: UInt64 = 1 << UInt64(site)
    switch letter {
    case "X": self.init(x: bit, z: 0)
    case "Y": self.init(x: bit, z: bit)
    case "Z": self.init(x: 0, z: bit)
    default: preconditionFailure("not a Pauli letter: \(letter)")
    }
  }

  /// Sites on which the string is not the identity.
  public var support: UInt64 { x | z }

  /// Number of Y factors; its parity is the string's behaviour under time reversal.
  public var yCount: Int { (x & z).nonzeroBitCount }

  /// Whether the string commutes with `other` (an even number of anticommuting sites).
  @inlinable
  public func commutes(with other: PauliString) -> Bool {
    ((x & other.z).nonzeroBitCount + (z & other.x).nonzeroBitCount) & 1 == 0
  }

  /// The product `self · other = i^phase · result`, with `phase` in 0...3.
  @inlinable
  public func multiplied(by other: PauliString) -> (phase: Int, result: PauliString) {
    let rx = x ^ other.x
    let rz = z ^ other.z
    // i^{|x1z1|} X^x1 Z^z1 · i^{|x2z2|} X^x2 Z^z2 = i^{|x1z1|+|x2z2|} (-1)^{|z1 x2|} X^x3 Z^z3,
    // and X^x3 Z^z3 = i^{-|x3z3|} P3.
    let e =
      (x & z).nonzeroBitCount + (other.x & other.z).nonzeroBitCount
      - (rx & rz).nonzeroBitCount + 2 * (z & other.x).nonzeroBitCount
    return ((e % 4 + 4) % 4, PauliString(x: rx, z: rz))
  }

  /// The real map `i[self, other]`, which is `sign · 2 · result` or zero when they commute.
  ///
  /// Both strings are Hermitian, so for anticommuting strings `self · other = ±i · result`
  /// and `i[self, other] = 2i · self · other` is a real multiple of `result`.
  @inlinable
  public func liouvillian(acting other: PauliString) -> (sign: Double, result: PauliString)? {
    if commutes(with: other) { return nil }
    let (phase, result) = multiplied(by: other)
    // phase is odd here: 2i · i^phase = 2 · i^{phase+1} = +2 for phase 3, -2 for phase 1.
    return (phase == 3 ? 2 : -2, result)
  }

  public static func < (lhs: PauliString, rhs: PauliString) -> Bool {
    lhs.z != rhs.z ? lhs.z < rhs.z : lhs.x < rhs.x
  }

  /// Site-by-site letters, or `I` for the identity.
  ///
  /// For example `X0 Z3`.
  public var description: String {
    var parts: [String] = []
    var mask = support
    while mask != 0 {
      let site = mask.trailingZeroBitCount
      mask &= mask - 1
      let bit: UInt64 = 1 << UInt64(site)
      let letter = (x & bit != 0) ? ((z & bit != 0) ? "Y" : "X") : "Z"
      parts.append("\(letter)\(site)")
    }
    return parts.isEmpty ? "I" : parts.joined()
  }
}
