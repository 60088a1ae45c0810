/// Operators in the ladder basis {I, Z, σ⁺, σ⁻} of each site, where total S^z is a charge.
///
/// A ladder string is two site masks, as a Pauli string's, read differently: I (x 0, z 0),
/// Z (0, 1), σ⁺ (1, 0), σ⁻ (1, 1), with σ^± = (X ± iY)/2. Its charge is #σ⁺ − #σ⁻; [H, ·]
/// keeps it when H conserves total S^z (physics.md §7). Strings are orthogonal for
/// `(A|B) = Tr(A†B) / 2^N`, and `2^{k/2} S` is normalized when S holds k ladder letters.
public enum Ladder {
  /// Letter codes, `2 x + z` on one site.
  static let identity = 0, zLetter = 1, raise = 2, lower = 3

  /// #σ⁺ − #σ⁻.
  @inlinable
  public static func charge(_ s: PauliString) -> Int {
    (s.x & ~s.z).nonzeroBitCount - (s.x & s.z).nonzeroBitCount
  }

  /// Number of Z letters.
  @inlinable
  public static func zCount(_ s: PauliString) -> Int { (s.z & ~s.x).nonzeroBitCount }

  /// The string with σ⁺ and σ⁻ exchanged: its Hermitian conjugate.
  @inlinable
  public static func conjugate(_ s: PauliString) -> PauliString { PauliString(x: s.x, z: s.z ^ s.x) }

  /// Number of σ^± letters.
  @inlinable
  public static func ladderCount(_ s: PauliString) -> Int { s.x.nonzeroBitCount }

  /// A Pauli sum in the ladder basis: X = σ⁺ + σ⁻, Y = −iσ⁺ + iσ⁻, Z = Z.
  ///
  /// Coefficients below `1e-13` of the largest are dropped: they are rounding in sums that
  /// cancel exactly (XX + YY has no σ⁺σ⁺ term). Nil when a term has more than `maxLadderSites`
  /// X or Y letters (its expansion has 2^k terms).
  static func expand(_ sum: PauliSum, maxLadderSites: Int = 16) -> [PauliString: Complex]? {
    var out: [PauliString: Complex] = [:]
    for (p, c) in sum.terms {
      guard p.x.nonzeroBitCount <= maxLadderSites else { return nil }
      var partial: [(PauliString, Complex)] = [(PauliString(x: 0, z: p.z & ~p.x), Complex(c, 0))]
      var sites = p.x
      while sites != 0 {
        let bit = sites & (~sites &+ 1)
        sites &= sites - 1
        let isY = p.z & bit != 0
        // X: (1, σ⁺) + (1, σ⁻); Y: (−i, σ⁺) + (i, σ⁻).
        let up = isY ? Complex(0, -1) : Complex.one
        let down = isY ? Complex(0, 1) : Complex.one
        partial = partial.flatMap { s, w in
          [
            (PauliString(x: s.x | bit, z: s.z), w * up),
            (PauliString(x: s.x | bit, z: s.z | bit), w * down),
          ]
        }
      }
      for (s, w) in partial { out[s, default: .zero] = out[s, default: .zero] + w }
    }
    let largest = out.values.reduce(0) { max($0, $1.magnitude) }
    return out.filter { $0.value.magnitude > 1e-13 * largest }
  }

  /// `a · b` on one site, as (coefficient, letter) pairs.
  static func product(_ a: Int, _ b: Int) -> [(Double, Int)] {
    switch (a, b) {
    case (identity, _): return [(1, b)]
    case (_, identity): return [(1, a)]
    case (zLetter, zLetter): return [(1, identity)]
    case (zLetter, raise): return [(1, raise)]
    case (raise, zLetter): return [(-1, raise)]
    case (zLetter, lower): return [(-1, lower)]
    case (lower, zLetter): return [(1, lower)]
    case (raise, lower): return [(0.5, identity), (0.5, zLetter)]
    case (lower, raise): return [(0.5, identity), (-0.5, zLetter)]
    default: return []  // σ⁺σ⁺ = σ⁻σ⁻ = 0
    }
  }
}

/// The commutator `[H_U, ·]` of the Hamiltonian's terms on one support U, tabulated by the
/// letters a string has on U, in the normalized ladder basis.
///
/// Outside U a string's letters are untouched (`[t, S] = [t_U, S_U] ⊗ S_rest`), so one table of
/// 4^|U| local patterns gives every string's image: the row builder reads the pattern, and each
/// entry says which letters replace it and with what coefficient.
struct LadderSupportTable: Sendable {
  /// The support's sites, in increasing order.
  let sites: [Int]
  let mask: UInt64
  /// For each local pattern (2 bits a site, in `sites` order): the image's masks on U, its
  /// coefficient between normalized strings, and between the strings themselves (`raw`).
  let entries: [[(x: UInt64, z: UInt64, value: Double, raw: Double)]]

  /// `terms`: the Hamiltonian's ladder strings on exactly this support, with real coefficients.
  init(mask: UInt64, terms: [(PauliString, Double)]) {
    self.mask = mask
    var sites: [Int] = []
    var m = mask
    while m != 0 {
      sites.append(m.trailingZeroBitCount)
      m &= m - 1
    }
    self.sites = sites
    let k = sites.count
    func letter(_ s: PauliString, _ site: Int) -> Int {
      Int((s.x >> UInt64(site)) & 1) * 2 + Int((s.z >> UInt64(site)) & 1)
    }
    /// Expands the site-by-site product of two letter lists.
    func expandProduct(_ a: [Int], _ b: [Int]) -> [(Double, [Int])] {
      var partial: [(Double, [Int])] = [(1, [])]
      for j in 0..<k {
        let local = Ladder.product(a[j], b[j])
        partial = partial.flatMap { c, letters in local.map { (c * $0.0, letters + [$0.1]) } }
      }
      return partial
    }
    var entries: [[(x: UInt64, z: UInt64, value: Double, raw: Double)]] = []
    for pattern in 0..<(1 << (2 * k)) {
      let s = (0..<k).map { (pattern >> (2 * $0)) & 3 }
      var image: [[Int]: Double] = [:]
      for (t, h) in terms {
        let a = sites.map { letter(t, $0) }
        for (c, out) in expandProduct(a, s) { image[out, default: 0] += h * c }
        for (c, out) in expandProduct(s, a) { image[out, default: 0] -= h * c }
      }
      let ladderIn = s.filter { $0 >= Ladder.raise }.count
      var row: [(x: UInt64, z: UInt64, value: Double, raw: Double)] = []
      for (out, c) in image.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where c != 0 {
        var x: UInt64 = 0
        var z: UInt64 = 0
        for (j, l) in out.enumerated() {
          let bit: UInt64 = 1 << UInt64(sites[j])
          if l >= Ladder.raise { x |= bit }
          if l & 1 == 1 { z |= bit }
        }
        // e_S = 2^{k/2} S: an image losing (gaining) ladder letters gains (loses) √2 each.
        let ladderOut = out.filter { $0 >= Ladder.raise }.count
        row.append((x, z, c * pow2Half(ladderIn - ladderOut), c))
      }
      entries.append(row)
    }
    self.entries = entries
  }

  /// The local pattern of `s` on this support.
  @inlinable
  func pattern(of s: PauliString) -> Int {
    var p = 0
    for (j, site) in sites.enumerated() {
      p |= Int((s.x >> UInt64(site)) & 1) << (2 * j + 1) | Int((s.z >> UInt64(site)) & 1) << (2 * j)
    }
    return p
  }

  /// Mean number of image strings over the local patterns: the expected elements a row gains from U.
  var meanImages: Double { Double(entries.reduce(0) { $0 + $1.count }) / Double(max(1, entries.count)) }
}

/// 2^{e/2}, exactly a power of two times 1 or √2.
private func pow2Half(_ e: Int) -> Double {
  let whole = Double(sign: .plus, exponent: e >> 1, significand: 1)
  return e & 1 == 0 ? whole : whole * 2.0.squareRoot()
}
