/// What the breadth-first enumeration needs from a chain geometry: the image of one basis
/// element under the Liouvillian, as canonical keys with matrix elements.
///
/// For a product f of one-site harmonics and a Hamiltonian term c S^{a_1}_{j_1} ⋯ S^{a_r}_{j_r},
/// the Leibniz rule gives {f, term} = −c Σ_s (D_{a_s} on j_s) Π_{t≠s} (M_{a_t} on j_t) f: one
/// derivation, the other factors multiplications. A derivation of a constant site vanishes.
///
/// `expand` gives L e_R for the basis element of `key`, each value with the orbit factor
/// √(m_R / m_Q) included.
protocol ClassicalLiouvillianExpander: LevelExpander {
  /// The canonical key of a product given site by site, and its orbit size; nil if too long.
  func canonical(sites: [UInt16]) -> (key: UInt128, orbit: Int)?
}

/// The products a term contributes when one of its sites carries the derivation: for each
/// choice of table entries, the new harmonic on every term site and the product of the entries.
@inline(__always)
func forEachTermProduct(
  tables: SphericalHarmonicTables, components: [Int], harmonics: [Int], derivationSite s: Int,
  scratch: inout [UInt16], _ body: (_ newHarmonics: [UInt16], _ value: Double) -> Void
) {
  let r = components.count
  var ranges: [Range<Int>] = []
  ranges.reserveCapacity(r)
  for t in 0..<r {
    let op = t == s ? tables.derive[components[t]] : tables.multiply[components[t]]
    let range = op.column(harmonics[t])
    if range.isEmpty { return }
    ranges.append(range)
  }
  var position = ranges.map(\.lowerBound)
  if scratch.count != r { scratch = [UInt16](repeating: 0, count: r) }
  while true {
    var value = 1.0
    for t in 0..<r {
      let op = t == s ? tables.derive[components[t]] : tables.multiply[components[t]]
      scratch[t] = op.targets[position[t]]
      value *= op.values[position[t]]
    }
    body(scratch, value)
    var t = r - 1
    while t >= 0 {
      position[t] += 1
      if position[t] < ranges[t].upperBound { break }
      position[t] = ranges[t].lowerBound
      t -= 1
    }
    if t < 0 { return }
  }
}
