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

  // The local field by (site, component) slot 3·site + a: a constant part (from terms on that
  // site alone), linear entries (two-site terms: coefficient × one other component), and
  // general entries (coefficient × a product of other components).
  let fieldConstant: [Double]
  let linearStarts: [Int32]
  let linearCoefficient: [Double]
  let linearIndex: [Int32]
  let productStarts: [Int32]
  let productCoefficient: [Double]
  let productOtherStarts: [Int32]
  let productOthers: [Int32]

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

    // Derivatives of each term with respect to each of its factors, by slot.
    var perSlot: [[(coefficient: Double, others: [Int32])]] = Array(repeating: [], count: 3 * siteCount)
    for (k, list) in termFactors.enumerated() {
      for (i, factor) in list.enumerated() {
        let others = list.enumerated().filter { $0.offset != i }.map { Int32(3 * $0.element.site + $0.element.component) }
        perSlot[3 * factor.site + factor.component].append((coefficients[k], others))
      }
    }
    var constant = [Double](repeating: 0, count: 3 * siteCount)
    var linearStarts: [Int32] = [0]
    var linearCoefficient: [Double] = []
    var linearIndex: [Int32] = []
    var productStarts: [Int32] = [0]
    var productCoefficient: [Double] = []
    var productOtherStarts: [Int32] = [0]
    var productOthers: [Int32] = []
    for (slot, entries) in perSlot.enumerated() {
      for entry in entries {
        switch entry.others.count {
        case 0: constant[slot] += entry.coefficient
        case 1:
          linearCoefficient.append(entry.coefficient)
          linearIndex.append(entry.others[0])
        default:
          productCoefficient.append(entry.coefficient)
          productOthers.append(contentsOf: entry.others)
          productOtherStarts.append(Int32(productOthers.count))
        }
      }
      linearStarts.append(Int32(linearCoefficient.count))
      productStarts.append(Int32(productCoefficient.count))
    }
    fieldConstant = constant
    self.linearStarts = linearStarts
    self.linearCoefficient = linearCoefficient
    self.linearIndex = linearIndex
    self.productStarts = productStarts
    self.productCoefficient = productCoefficient
    self.productOtherStarts = productOtherStarts
    self.productOthers = productOthers
  }

  /// The built-in or custom Hamiltonian of `chain`, read classically.
  public static func hamiltonian(of chain: SpinChain) throws(SystemError) -> SpinMonomialSum {
    SpinMonomialSum(try chain.hamiltonian(), siteCount: chain.pauliSiteCount)
  }

  /// The operator of `chain`, read classically; beyond 2^±20, divided by a power of two that
  /// brings its largest coefficient near 1: exact, and C(t) (normalized by ⟨O²⟩) is unchanged,
  /// while ⟨O²⟩ of 1e−200·Z neither underflows nor 1e200·Z overflows.
  public static func observable(of chain: SpinChain) throws(SystemError) -> SpinMonomialSum {
    let o = try chain.initialOperator()
    let s = PauliSum.rescaling(of: o.terms.values)
    return SpinMonomialSum(s == 1 ? o : o.scaled(by: 1 / s), siteCount: chain.pauliSiteCount)
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
          try fieldConstant.withUnsafeBufferPointer { k in
            try linearStarts.withUnsafeBufferPointer { ls in
              try linearCoefficient.withUnsafeBufferPointer { lc in
                try linearIndex.withUnsafeBufferPointer { li in
                  try productStarts.withUnsafeBufferPointer { ps in
                    try productCoefficient.withUnsafeBufferPointer { pc in
                      try productOtherStarts.withUnsafeBufferPointer { pos in
                        try productOthers.withUnsafeBufferPointer { po in
                          try body(
                            SpinMonomialKernel(
                              coefficients: c, factors: f, factorStarts: fs, fieldConstant: k, linearStarts: ls,
                              linearCoefficient: lc, linearIndex: li, productStarts: ps, productCoefficient: pc,
                              productOtherStarts: pos, productOthers: po))
                        }
                      }
                    }
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
    return withKernel { k in
      state.withUnsafeBufferPointer { buffer in
        // 3 · siteCount ≥ 3 entries.
        guard let base = buffer.baseAddress else { preconditionFailure("the state of a chain with sites has a base address") }
        return k.value(base)
      }
    }
  }

  /// The local field F_j = ∇_j of the sum at `site` (independent of S_j itself).
  public func field(of site: Int, in state: [Double]) -> (Double, Double, Double) {
    precondition(state.count == 3 * siteCount)
    return withKernel { k in
      state.withUnsafeBufferPointer { buffer in
        // 3 · siteCount ≥ 3 entries.
        guard let base = buffer.baseAddress else { preconditionFailure("the state of a chain with sites has a base address") }
        return k.field(of: site, in: base)
      }
    }
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
  let fieldConstant: UnsafeBufferPointer<Double>
  let linearStarts: UnsafeBufferPointer<Int32>
  let linearCoefficient: UnsafeBufferPointer<Double>
  let linearIndex: UnsafeBufferPointer<Int32>
  let productStarts: UnsafeBufferPointer<Int32>
  let productCoefficient: UnsafeBufferPointer<Double>
  let productOtherStarts: UnsafeBufferPointer<Int32>
  let productOthers: UnsafeBufferPointer<Int32>

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

  /// One component (slot 3·site + a) of the local field.
  @inline(__always)
  func fieldComponent(_ slot: Int, _ state: UnsafePointer<Double>) -> Double {
    var f = fieldConstant[slot]
    for e in Int(linearStarts[slot])..<Int(linearStarts[slot + 1]) {
      f += linearCoefficient[e] * state[Int(linearIndex[e])]
    }
    for e in Int(productStarts[slot])..<Int(productStarts[slot + 1]) {
      var product = productCoefficient[e]
      for i in Int(productOtherStarts[e])..<Int(productOtherStarts[e + 1]) { product *= state[Int(productOthers[i])] }
      f += product
    }
    return f
  }

  /// The local field at `site`.
  @inline(__always)
  public func field(of site: Int, in state: UnsafePointer<Double>) -> (Double, Double, Double) {
    (fieldComponent(3 * site, state), fieldComponent(3 * site + 1, state), fieldComponent(3 * site + 2, state))
  }

  // MARK: Four samples at once (SIMD lanes), the same operations in the same order per lane.

  /// The value at four phase-space points, one per lane (`state[slot]` holds slot 3·site + a).
  public func value(_ state: UnsafePointer<SIMD4<Double>>) -> SIMD4<Double> {
    var total = SIMD4<Double>(repeating: 0)
    for k in 0..<coefficients.count {
      var product = SIMD4<Double>(repeating: coefficients[k])
      for i in Int(factorStarts[k])..<Int(factorStarts[k + 1]) { product *= state[Int(factors[i])] }
      total += product
    }
    return total
  }

  @inline(__always)
  func fieldComponent(_ slot: Int, _ state: UnsafePointer<SIMD4<Double>>) -> SIMD4<Double> {
    var f = SIMD4<Double>(repeating: fieldConstant[slot])
    for e in Int(linearStarts[slot])..<Int(linearStarts[slot + 1]) {
      f += linearCoefficient[e] * state[Int(linearIndex[e])]
    }
    for e in Int(productStarts[slot])..<Int(productStarts[slot + 1]) {
      var product = SIMD4<Double>(repeating: productCoefficient[e])
      for i in Int(productOtherStarts[e])..<Int(productOtherStarts[e + 1]) { product *= state[Int(productOthers[i])] }
      f += product
    }
    return f
  }

  /// The local field at `site` for four points.
  @inline(__always)
  public func field(of site: Int, in state: UnsafePointer<SIMD4<Double>>) -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
    (fieldComponent(3 * site, state), fieldComponent(3 * site + 1, state), fieldComponent(3 * site + 2, state))
  }
}
