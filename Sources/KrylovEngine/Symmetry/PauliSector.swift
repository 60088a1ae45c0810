/// The basis of one symmetry sector: symmetric sums over orbits of Pauli strings.
///
/// Each basis vector is `|R) = (1/sqrt(m_R)) sum_{Q in orbit(R)} Q` for an orbit representative
/// `R` (its smallest image) of size `m_R`; these are orthonormal. Representatives are grouped in
/// blocks by the parity of their Y count when the Hamiltonian is real (every term has an even
/// number of Y's), since `i[H, .]` then flips that parity.
public struct PauliSector: Sendable {
  /// The representatives, by block.
  public let orbits: OrbitBasis
  /// 2 when blocks are Y-parity halves, 1 otherwise.
  public var blockCount: Int { orbits.blockCount }
  /// The global spin flips whose sign every string of the sector shares.
  public let flips: SpinFlips

  /// Enumerates every non-identity orbit of the group among the strings `flips` admits.
  public init(
    size n: Int, group: SymmetryGroup, parityBlocks: Bool, flips: SpinFlips = .none, progress: SetupProgress? = nil
  ) {
    self.flips = flips
    self.orbits = OrbitBasis(size: n, group: group, blockCount: parityBlocks ? 2 : 1, progress: progress) { s in
      flips.admits(s) ? 1 << (parityBlocks ? s.yCount & 1 : 0) : 0
    }
  }

  public var size: Int { orbits.size }
  public var group: SymmetryGroup { orbits.group }
  public var keys: [[UInt64]] { orbits.keys }
  public var orbitSizes: [[UInt16]] { orbits.orbitSizes }
  public var blockDimensions: [Int] { orbits.blockDimensions }

  /// The block a string belongs to.
  @inlinable
  public func block(of s: PauliString) -> Int { blockCount == 2 ? s.yCount & 1 : 0 }

  /// Index of a representative within its block, or nil if it is not one.
  public func index(ofRepresentative r: PauliString) -> Int? {
    orbits.index(ofRepresentative: r, block: block(of: r))
  }

  /// Coefficients of a symmetric Pauli sum in this basis, and the block they lie in.
  ///
  /// Returns nil when the sum is not invariant under the group or mixes blocks.
  public func coordinates(of sum: PauliSum) -> (block: Int, vector: [Double])? {
    guard let first = sum.terms.keys.first else { return nil }
    let b = block(of: first)
    var v = [Double](repeating: 0, count: keys[b].count)
    for (s, c) in sum.terms {
      guard block(of: s) == b else { return nil }
      let r = group.canonical(s)
      guard let i = index(ofRepresentative: r) else { return nil }
      v[i] += c / Double(orbitSizes[b][i]).squareRoot()
    }
    // Invariance check: every image must carry the same coefficient.
    for (s, c) in sum.terms {
      for g in group.elements where abs(sum[g.apply(s, size: size)] - c) > 1e-12 * max(1, abs(c)) {
        return nil
      }
    }
    return (b, v)
  }

  /// The Pauli sum a coefficient vector of block `b` stands for.
  public func pauliSum(block b: Int, vector: [Double]) -> PauliSum {
    var sum = PauliSum()
    for (i, c) in vector.enumerated() where c != 0 {
      let r = orbits.string(key: keys[b][i])
      let images = Set(group.elements.map { $0.apply(r, size: size) })
      let each = c / Double(orbitSizes[b][i]).squareRoot()
      for q in images { sum.add(each, q) }
    }
    return sum
  }

  public var storageBytes: Int { orbits.storageBytes }
}
