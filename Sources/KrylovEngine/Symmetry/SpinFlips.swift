/// Global spin flips: the π rotations ∏_j X_j and ∏_j Z_j of every spin (∏ Y_j is their product).
///
/// A flip maps each Pauli string to itself with a sign: under ∏X a string gains (−1) for every
/// Y or Z it holds (the letters that anticommute with X), under ∏Z for every X or Y. When every
/// term of H is even under a flip, i[H, ·] keeps a string's sign, so the Krylov space of an
/// operator whose terms share one sign holds only strings of that sign: the sector loses the
/// other half. Site permutations keep letter counts, so the signs are orbit invariants and the
/// constraint combines with the site symmetries. tfim is even under ∏X; xxz and j1j2 under
/// both; mfim with h ≠ 0 under neither.
public struct SpinFlips: Equatable, Sendable, CustomStringConvertible {
  /// The sign bit (0: even, 1: odd) every string of the sector has under ∏X, or nil when ∏X is
  /// not a symmetry of the run.
  public var x: Int?
  /// The same under ∏Z.
  public var z: Int?

  public static let none = SpinFlips(x: nil, z: nil)

  public init(x: Int?, z: Int?) {
    self.x = x
    self.z = z
  }

  /// Sign bits of a string under ∏X (parity of its Y and Z letters: the z mask) and ∏Z (parity
  /// of its X and Y letters: the x mask).
  @inlinable
  public static func signs(_ s: PauliString) -> (x: Int, z: Int) {
    (s.z.nonzeroBitCount & 1, s.x.nonzeroBitCount & 1)
  }

  /// The flips under which H is even and O has one sign.
  public static func detect(hamiltonian h: PauliSum, operator o: PauliSum) -> SpinFlips {
    func common(_ sum: PauliSum, _ sign: (PauliString) -> Int) -> Int? {
      guard let first = sum.terms.keys.first.map(sign) else { return nil }
      return sum.terms.keys.allSatisfy { sign($0) == first } ? first : nil
    }
    let hx = common(h, { signs($0).x })
    let hz = common(h, { signs($0).z })
    return SpinFlips(x: hx == 0 ? common(o, { signs($0).x }) : nil, z: hz == 0 ? common(o, { signs($0).z }) : nil)
  }

  /// Whether a string has the sector's signs.
  @inlinable
  public func admits(_ s: PauliString) -> Bool {
    let sign = Self.signs(s)
    return (x == nil || x == sign.x) && (z == nil || z == sign.z)
  }

  public var isEmpty: Bool { x == nil && z == nil }

  public var description: String {
    var parts: [String] = []
    if let x { parts.append("∏X \(x == 0 ? "even" : "odd")") }
    if let z { parts.append("∏Z \(z == 0 ? "even" : "odd")") }
    return parts.isEmpty ? "none" : parts.joined(separator: ", ")
  }
}
