/// A permutation of chain sites from the dihedral group: an optional mirror, then a shift.
///
/// Site `i` goes to `(reflects ? N-1-i : i) + shift (mod N)`. Site permutations map Pauli
/// strings to Pauli strings with no sign, which is what lets the sector basis stay real.
public struct SiteSymmetry: Hashable, Sendable, CustomStringConvertible {
  public var reflects: Bool
  public var shift: Int

  public static let identity = SiteSymmetry(reflects: false, shift: 0)

  public init(reflects: Bool, shift: Int) {
    self.reflects = reflects
    self.shift = shift
  }

  public func site(_ i: Int, size n: Int) -> Int {
    ((reflects ? n - 1 - i : i) + shift) % n
  }

  /// The image of a site mask on a chain of `n` sites.
  @inlinable
  public func apply(_ mask: UInt64, size n: Int) -> UInt64 {
    var m = mask
    if reflects { m = m.bitSwapped >> UInt64(64 - n) }
    if shift == 0 { return m }
    let full: UInt64 = n == 64 ? ~0 : (1 << UInt64(n)) - 1
    return ((m << UInt64(shift)) | (m >> UInt64(n - shift))) & full
  }

  public func apply(_ s: PauliString, size n: Int) -> PauliString {
    PauliString(x: apply(s.x, size: n), z: apply(s.z, size: n))
  }

  public func apply(_ sum: PauliSum, size n: Int) -> PauliSum {
    PauliSum(sum.terms.map { (apply($0.key, size: n), $0.value) })
  }

  /// Number of cycles of the permutation, which fixes `4^cycles` Pauli strings (Burnside).
  public func cycleLengths(size n: Int) -> [Int] {
    var seen = [Bool](repeating: false, count: n)
    var lengths: [Int] = []
    for start in 0..<n where !seen[start] {
      var length = 0
      var i = start
      while !seen[i] {
        seen[i] = true
        i = site(i, size: n)
        length += 1
      }
      lengths.append(length)
    }
    return lengths
  }

  public var description: String { reflects ? "mirror+shift \(shift)" : "shift \(shift)" }
}

extension UInt64 {
  /// The 64 bits in reverse order.
  @usableFromInline
  var bitSwapped: UInt64 {
    var v = self
    v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
    v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
    v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
    return v.byteSwapped
  }
}

/// The site permutations that leave both the Hamiltonian and the operator unchanged.
///
/// Candidates are the dihedral group of the ring (pbc) or the mirror of the open chain (obc);
/// the ones that fix both operators form a subgroup, and the Liouvillian of H commutes with
/// each, so the Krylov space of O never leaves the subspace of strings sums invariant under it.
public struct SymmetryGroup: Sendable, CustomStringConvertible {
  public var size: Int
  public var elements: [SiteSymmetry]

  public init(size: Int, elements: [SiteSymmetry]) {
    self.size = size
    self.elements = elements
  }

  /// The trivial group: no reduction, the full Pauli basis (kept for comparison runs).
  public static func trivial(size: Int) -> SymmetryGroup {
    SymmetryGroup(size: size, elements: [.identity])
  }

  /// Every candidate that fixes `h` and `o` (coefficients equal to 1e-12 relative).
  public static func detect(hamiltonian h: PauliSum, operator o: PauliSum, size n: Int, boundary: Boundary)
    -> SymmetryGroup
  {
    var candidates: [SiteSymmetry] = []
    switch boundary {
    case .pbc:
      for reflects in [false, true] {
        for shift in 0..<n { candidates.append(SiteSymmetry(reflects: reflects, shift: shift)) }
      }
    case .obc:
      candidates = [.identity, SiteSymmetry(reflects: true, shift: 0)]
    }
    func fixes(_ g: SiteSymmetry, _ sum: PauliSum) -> Bool {
      let scale = sum.terms.values.reduce(0) { max($0, abs($1)) }
      return g.apply(sum, size: n).isApproximatelyEqual(to: sum, tolerance: 1e-12 * scale)
    }
    let kept = candidates.filter { fixes($0, h) && fixes($0, o) }
    // Distinct permutations only (on tiny rings two candidates can coincide).
    var seen = Set<[Int]>()
    let unique = kept.filter { g in seen.insert((0..<n).map { g.site($0, size: n) }).inserted }
    return SymmetryGroup(size: n, elements: unique)
  }

  public var order: Int { elements.count }

  public var hasTranslations: Bool { elements.contains { !$0.reflects && $0.shift != 0 } }
  public var hasReflections: Bool { elements.contains { $0.reflects } }

  /// The smallest image of a string: the orbit's representative, and how many elements fix it.
  @inlinable
  public func canonical(_ s: PauliString) -> PauliString {
    var best = s
    for g in elements {
      let image = PauliString(x: g.apply(s.x, size: size), z: g.apply(s.z, size: size))
      if image < best { best = image }
    }
    return best
  }

  /// Number of distinct images of `s`.
  public func orbitSize(_ s: PauliString) -> Int {
    var fixed = 0
    for g in elements where g.apply(s, size: size) == s { fixed += 1 }
    return elements.count / fixed
  }

  /// Exact number of orbits of non-identity strings with even and odd Y count, among the strings
  /// `flips` admits (Burnside's lemma).
  ///
  /// A string fixed by a permutation is constant on its cycles; a cycle of length l carrying a
  /// letter adds l to that letter's count. Counting fixed strings by the parities that matter
  /// (Y count, and the ∏X and ∏Z signs of `SpinFlips`) is a product over cycles, done as a
  /// walk over the 8 parity states.
  public func orbitCounts(flips: SpinFlips = .none) -> (even: Int, odd: Int) {
    // State bits: 1 = Y-count parity, 2 = ∏X sign (Y and Z letters), 4 = ∏Z sign (X and Y letters).
    let letterBits = [0, 4, 1 | 2 | 4, 2]  // I, X, Y, Z
    var totals = [Double](repeating: 0, count: 8)
    for g in elements {
      var fixed = [Double](repeating: 0, count: 8)
      fixed[0] = 1
      for l in g.cycleLengths(size: size) {
        var next = [Double](repeating: 0, count: 8)
        for state in 0..<8 where fixed[state] != 0 {
          for bits in letterBits { next[l % 2 == 1 ? state ^ bits : state] += fixed[state] }
        }
        fixed = next
      }
      for state in 0..<8 { totals[state] += fixed[state] }
    }
    var even = 0
    var odd = 0
    for state in 0..<8 {
      if let x = flips.x, (state >> 1) & 1 != x { continue }
      if let z = flips.z, (state >> 2) & 1 != z { continue }
      var orbits = Int((totals[state] / Double(order)).rounded())
      if state == 0 { orbits -= 1 }  // less the identity string
      if state & 1 == 0 { even += orbits } else { odd += orbits }
    }
    return (even, odd)
  }

  public var description: String {
    let t = hasTranslations
    let r = hasReflections
    let name =
      switch (t, r) {
      case (true, true): "translations and reflections"
      case (true, false): "translations"
      case (false, true): "reflection"
      case (false, false): "none"
      }
    return "\(name) (\(order) element\(order == 1 ? "" : "s"))"
  }
}
