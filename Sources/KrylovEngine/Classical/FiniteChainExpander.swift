/// The Liouvillian on a finite classical chain (pbc or obc), with the site permutations that
/// fix H and O (translations and mirrors from `SymmetryGroup.detect`): key to keys.
///
/// An element is the normalized sum over the orbit of a product of site harmonics, keyed by the
/// smallest `HarmonicKey` of its images (site 0 first). Simple and direct: each output product is
/// re-encoded under every group element. Finite chains are for checks and small systems; the
/// long runs are on the infinite chain.
struct FiniteChainExpander: ClassicalLiouvillianExpander {
  let tables: SphericalHarmonicTables
  let terms: [SpinMonomial]
  let size: Int
  /// Each group element as a site map: `permutations[g][i]` is the image of site i.
  let permutations: [[Int]]

  init(tables: SphericalHarmonicTables, terms: [SpinMonomial], size: Int, group: SymmetryGroup) {
    self.tables = tables
    self.terms = terms
    self.size = size
    permutations = group.elements.map { g in (0..<size).map { g.site($0, size: size) } }
  }

  func canonical(sites: [UInt16]) -> (key: UInt128, orbit: Int)? {
    var full = sites
    if full.count < size { full += [UInt16](repeating: 0, count: size - full.count) }
    var image = [UInt16](repeating: 0, count: size)
    var images = Set<UInt128>()
    var best = UInt128.max
    for p in permutations {
      for i in 0..<size { image[p[i]] = full[i] }
      guard let key = HarmonicKey.encode(image) else { return nil }
      images.insert(key)
      best = min(best, key)
    }
    return (best, images.count)
  }

  func expand(_ key: UInt128, _ emit: (UInt128, Double) -> Void) {
    var k = HarmonicKey.decode(key)
    k += [UInt16](repeating: 0, count: size - k.count)
    guard let (_, orbitIn) = canonical(sites: k) else { preconditionFailure("classical chain: key too long") }
    var scratch: [UInt16] = []
    for term in terms {
      let r = term.sites.count
      let current = term.sites.map { Int(k[$0]) }
      for s in 0..<r where current[s] != 0 {
        forEachTermProduct(
          tables: tables, components: term.components, harmonics: current, derivationSite: s, scratch: &scratch
        ) { newHarmonics, value in
          var out = k
          for t in 0..<r { out[term.sites[t]] = newHarmonics[t] }
          guard let (q, orbitOut) = canonical(sites: out) else {
            preconditionFailure("classical chain: a product outgrew its 128-bit key")
          }
          emit(q, -term.coefficient * value * (Double(orbitIn) / Double(orbitOut)).squareRoot())
        }
      }
    }
  }
}
