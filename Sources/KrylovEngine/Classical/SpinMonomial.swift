/// A product of spin components on distinct sites, read off a Pauli string.
///
/// X, Y, Z on site j become S^x_j, S^y_j, S^z_j (physics.md §6). The classical chain's
/// Hamiltonian and operator are sums of these.
public struct SpinMonomial: Sendable, Hashable {
  /// Sites in increasing order.
  public var sites: [Int]
  /// Component on each site: 0, 1, 2 for x, y, z.
  public var components: [Int]
  public var coefficient: Double

  public init(sites: [Int], components: [Int], coefficient: Double) {
    self.sites = sites
    self.components = components
    self.coefficient = coefficient
  }

  /// The monomials of a Pauli sum, in a fixed order.
  public static func terms(of sum: PauliSum) -> [SpinMonomial] {
    sum.sortedTerms.map { term in
      var sites: [Int] = []
      var components: [Int] = []
      var mask = term.string.support
      while mask != 0 {
        let j = mask.trailingZeroBitCount
        mask &= mask - 1
        let bit = UInt64(1) << UInt64(j)
        let x = term.string.x & bit != 0
        let z = term.string.z & bit != 0
        sites.append(j)
        components.append(x && z ? 1 : (x ? 0 : 2))
      }
      return SpinMonomial(sites: sites, components: components, coefficient: term.coefficient)
    }
  }

  /// Rightmost site − leftmost site + 1.
  public var width: Int { (sites.last ?? 0) - (sites.first ?? 0) + 1 }
}
