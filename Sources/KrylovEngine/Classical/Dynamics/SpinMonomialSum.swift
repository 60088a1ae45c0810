/// A real sum of products of classical spin components, compiled for evaluation on phase-space
/// points: the classical reading of a `PauliSum` (physics.md §6).
///
/// Each Pauli string is read as the product of the spin components S^x, S^y, S^z on its sites,
/// one per site, so every term is linear in each single spin. A phase-space point is a flat
/// array `[x0, y0, z0, x1, y1, z1, …]` of unit vectors, one per site.
///
/// Because each term holds a site at most once, the sum splits around any site j as
/// `S_j · F_j + (terms without j)`, where the local field `F_j = ∇_j` of the sum does not
/// depend on `S_j`. `field(of:in:)` returns it.
public struct SpinMonomialSum: Sendable {
  /// Number of sites of the chain.
  public let siteCount: Int
  /// Coefficients of the terms, in the order of `sortedTerms` of the Pauli sum.
  public let coefficients: [Double]
  /// Flat state indices (3·site + component) of each term's factors: `factors[factorStarts[k]..<factorStarts[k+1]]`.
  public let factors: [Int32]
  public let factorStarts: [Int32]

  // The local field, grouped by site: entries `fieldStarts[j]..<fieldStarts[j+1]`, each the
  // derivative of one term with respect to one of its factors on site j.
  let fieldComponent: [Int32]
  let fieldCoefficient: [Double]
  let fieldOtherStarts: [Int32]
  let fieldOthers: [Int32]
  let fieldStarts: [Int32]

  /// The classical function of `sum` on a chain of `siteCount` sites.
  public init(_ sum: PauliSum, siteCount: Int) {
    precondition(siteCount >= 1 && siteCount <= 64, "site count out of range")
    self.siteCount = siteCount
    var coefficients: [Double] = []
    var factors: [Int32] = []
    var factorStarts: [Int32] = [0]
    // Per term, its (site, component) factors.
    var termFactors: [[(site: Int, component: Int)]] = []
    for (string, coefficient) in sum.sortedTerms {
      precondition(string.support >> UInt64(siteCount) == 0, "term \(string) outside the chain")
      var list: [(site: Int, component: Int)] = []
      var mask = string.support
      while mask != 0 {
        let site = mask.trailingZeroBitCount
        mask &= mask - 1
        let bit: UInt64 = 1 << UInt64(site)
        let component = (string.x & bit != 0) ? ((string.z & bit != 0) ? 1 : 0) : 2
        list.append((site, component))
        factors.append(Int32(3 * site + component))
      }
      coefficients.append(coefficient)
      factorStarts.append(Int32(factors.count))
      termFactors.append(list)
    }
    self.coefficients = coefficients
    self.factors = factors
    self.factorStarts = factorStarts

    var perSite: [[(component: Int, coefficient: Double, others: [Int32])]] = Array(repeating: [], count: siteCount)
    for (k, list) in termFactors.enumerated() {
      for (i, factor) in list.enumerated() {
        let others = list.enumerated().filter { $0.offset != i }.map { Int32(3 * $0.element.site + $0.element.component) }
        perSite[factor.site].append((factor.component, coefficients[k], others))
      }
    }
    var component: [Int32] = []
    var coefficient: [Double] = []
    var otherStarts: [Int32] = [0]
    var others: [Int32] = []
    var starts: [Int32] = [0]
    for entries in perSite {
      for entry in entries {
        component.append(Int32(entry.component))
        coefficient.append(entry.coefficient)
        others.append(contentsOf: entry.others)
        otherStarts.append(Int32(others.count))
      }
      starts.append(Int32(component.count))
    }
    fieldComponent = component
    fieldCoefficient = coefficient
    fieldOtherStarts = otherStarts
    fieldOthers = others
    fieldStarts = starts
  }

  /// The built-in or custom Hamiltonian of `chain`, read classically.
  public static func hamiltonian(of chain: SpinChain) throws(SystemError) -> SpinMonomialSum {
    SpinMonomialSum(try chain.hamiltonian(), siteCount: chain.size)
  }

  /// The operator of `chain`, read classically.
  public static func observable(of chain: SpinChain) throws(SystemError) -> SpinMonomialSum {
    SpinMonomialSum(try chain.initialOperator(), siteCount: chain.size)
  }

  public var termCount: Int { coefficients.count }

  /// Sites that appear together in at least one term, as a list of neighbours per site.
  public var interactions: [Set<Int>] {
    var neighbours = Array(repeating: Set<Int>(), count: siteCount)
    for k in 0..<termCount {
      let sites = factors[Int(factorStarts[k])..<Int(factorStarts[k + 1])].map { Int($0) / 3 }
      for a in sites { for b in sites where a != b { neighbours[a].insert(b) } }
    }
    return neighbours
  }

  /// The exact infinite-temperature average ⟨f²⟩ over independent uniform spins.
  ///
  /// Distinct products are orthogonal (a component that appears in one product and not the
  /// other averages to zero), and ⟨(S^a)²⟩ = 1/3 per site, so ⟨f²⟩ = Σ c² 3^{−|support|}.
  public var meanSquare: Double {
    var total = 0.0
    for k in 0..<termCount {
      let length = Int(factorStarts[k + 1] - factorStarts[k])
      total += coefficients[k] * coefficients[k] * pow3(-length)
    }
    return total
  }

  /// Runs `body` with raw views of the compiled arrays, for evaluation in inner loops.
  public func withKernel<R>(_ body: (SpinMonomialKernel) throws -> R) rethrows -> R {
    try coefficients.withUnsafeBufferPointer { c in
      try factors.withUnsafeBufferPointer { f in
        try factorStarts.withUnsafeBufferPointer { fs in
          try fieldComponent.withUnsafeBufferPointer { fc in
            try fieldCoefficient.withUnsafeBufferPointer { fk in
              try fieldOtherStarts.withUnsafeBufferPointer { fos in
                try fieldOthers.withUnsafeBufferPointer { fo in
                  try fieldStarts.withUnsafeBufferPointer { fst in
                    try body(
                      SpinMonomialKernel(
                        coefficients: c, factors: f, factorStarts: fs, fieldComponent: fc, fieldCoefficient: fk,
                        fieldOtherStarts: fos, fieldOthers: fo, fieldStarts: fst))
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// The value at a phase-space point given as an array.
  public func value(_ state: [Double]) -> Double {
    precondition(state.count == 3 * siteCount)
    return withKernel { k in state.withUnsafeBufferPointer { k.value($0.baseAddress!) } }
  }

  /// The local field F_j = ∇_j of the sum at `site` (independent of S_j itself).
  public func field(of site: Int, in state: [Double]) -> (Double, Double, Double) {
    precondition(state.count == 3 * siteCount)
    return withKernel { k in state.withUnsafeBufferPointer { k.field(of: site, in: $0.baseAddress!) } }
  }

  /// A colouring of the sites such that no term holds two sites of one colour: the flow of one
  /// colour then moves spins whose fields are frozen (greedy, in site order; a nearest-neighbour
  /// ring takes 2 colours for even N and 3 for odd N).
  public var colouring: [[Int]] {
    let neighbours = interactions
    var colour = Array(repeating: -1, count: siteCount)
    for site in 0..<siteCount {
      let used = Set(neighbours[site].compactMap { colour[$0] >= 0 ? colour[$0] : nil })
      var c = 0
      while used.contains(c) { c += 1 }
      colour[site] = c
    }
    let count = (colour.max() ?? 0) + 1
    return (0..<count).map { c in (0..<siteCount).filter { colour[$0] == c } }
  }
}

/// 3^e for small integer e.
private func pow3(_ e: Int) -> Double {
  var r = 1.0
  for _ in 0..<abs(e) { r *= 3 }
  return e >= 0 ? r : 1 / r
}

/// Raw views of a `SpinMonomialSum`, valid inside `withKernel` only.
public struct SpinMonomialKernel {
  let coefficients: UnsafeBufferPointer<Double>
  let factors: UnsafeBufferPointer<Int32>
  let factorStarts: UnsafeBufferPointer<Int32>
  let fieldComponent: UnsafeBufferPointer<Int32>
  let fieldCoefficient: UnsafeBufferPointer<Double>
  let fieldOtherStarts: UnsafeBufferPointer<Int32>
  let fieldOthers: UnsafeBufferPointer<Int32>
  let fieldStarts: UnsafeBufferPointer<Int32>

  /// The value at a phase-space point.
  public func value(_ state: UnsafePointer<Double>) -> Double {
    var total = 0.0
    for k in 0..<coefficients.count {
      var product = coefficients[k]
      for i in Int(factorStarts[k])..<Int(factorStarts[k + 1]) { product *= state[Int(factors[i])] }
      total += product
    }
    return total
  }

  /// The local field at `site`.
  public func field(of site: Int, in state: UnsafePointer<Double>) -> (Double, Double, Double) {
    var fx = 0.0
    var fy = 0.0
    var fz = 0.0
    for e in Int(fieldStarts[site])..<Int(fieldStarts[site + 1]) {
      var product = fieldCoefficient[e]
      for i in Int(fieldOtherStarts[e])..<Int(fieldOtherStarts[e + 1]) { product *= state[Int(fieldOthers[i])] }
      switch fieldComponent[e] {
      case 0: fx += product
      case 1: fy += product
      default: fz += product
      }
    }
    return (fx, fy, fz)
  }
}
