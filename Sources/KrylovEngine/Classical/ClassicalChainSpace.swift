import Dispatch
import Foundation

/// A classical Krylov basis in breadth-first order (`LevelSearch`), and the Liouvillian on it.
///
/// With parity blocks (H even under S^y → −S^y on every site, which reverses Poisson brackets)
/// L flips the parity, so levels alternate between the two blocks.
public struct ClassicalBasis: Sendable {
  /// Elements first reached at each level 0...levels.
  public var levelSizes: [Int]
  /// Block of each level.
  public var levelBlocks: [Int]
  /// For level n: how many elements of its block have level ≤ n (the length of Krylov vector n).
  public var levelEnds: [Int]
  public var blockDimensions: [Int]
  /// Nonzeros of the columns of each level 0..<levels.
  public var levelNonzeros: [Int]
  /// `columns[b]` maps block b into block (b + 1) % blockCount; column j is block-b element j.
  public var columns: [SegmentedColumns]
  public var initialBlock: Int
  public var initialVector: [Double]
  /// Wall time of the enumeration and the Liouvillian's columns.
  public var buildSeconds: Double

  public var nonzeros: Int { columns.reduce(0) { $0 + $1.nonzeros } }
}

/// Where a classical chain lives: the infinite chain (translation classes) or a finite chain
/// with the site permutations that fix H and O.
public enum ClassicalGeometry: Sendable {
  case infinite
  case finite(size: Int, boundary: Boundary, group: SymmetryGroup)
}

/// The Liouvillian L f = {f, H} of a classical spin chain on its breadth-first Krylov basis
/// (physics.md §6): the `KrylovOperatorSpace` the one Lanczos driver runs in.
///
/// The basis is products over sites of real spherical harmonics (orthonormal for the uniform
/// measure), summed over translations (infinite chain) or over the symmetry group (finite
/// chain) and normalized; L is antisymmetric in it, so the driver's real recursion applies as
/// for the quantum map i[H, ·]. Elements are ordered by the level at which they are first
/// reached from O, so Krylov vector n occupies the first `vectorLength(step: n)` entries of its
/// block. The matrix is stored by columns, built once by `LevelSearch` on all cores.
public struct ClassicalChainSpace: KrylovOperatorSpace {
  public let basis: ClassicalBasis
  public let geometry: ClassicalGeometry
  public let reflection: Bool
  public let parityBlocks: Bool
  public let liouvillianScale: Double

  public enum BuildError: Error, CustomStringConvertible {
    case keyTooLong(bits: Int)
    case zeroOperator
    public var description: String {
      switch self {
      case .keyTooLong(let bits):
        "the classical chain needs keys of about \(bits) bits after that many steps, beyond the 128 a key holds: ask for fewer steps"
      case .zeroOperator: "the operator is zero on the classical chain"
      }
    }
  }

  /// Largest total degree any Krylov vector reaches in `steps` steps: each step adds at most
  /// (sites of a term − 1), the derivation keeping its site's degree.
  static func maxDegree(hamiltonian: [SpinMonomial], operator: [SpinMonomial], steps: Int) -> Int {
    let d0 = `operator`.map(\.sites.count).max() ?? 1
    let raise = max(0, (hamiltonian.map(\.sites.count).max() ?? 1) - 1)
    return d0 + steps * raise
  }

  /// Bits the longest key can need (HarmonicKey: one per site plus at most three per degree).
  static func keyBits(
    hamiltonian: [SpinMonomial], operator: [SpinMonomial], steps: Int, geometry: ClassicalGeometry
  ) -> Int {
    let degree = maxDegree(hamiltonian: hamiltonian, operator: `operator`, steps: steps)
    switch geometry {
    case .infinite:
      let pad = max(0, (hamiltonian.map(\.width).max() ?? 1) - 1)
      let width = (`operator`.map(\.width).max() ?? 1) + steps * pad
      return width + 2 * pad + 3 * degree
    case .finite(let size, _, _):
      return size + 3 * degree
    }
  }

  /// Whether the mirror image of the infinite chain's unit cells is the same cell.
  static func mirrorSymmetric(_ sum: PauliSum, width: Int) -> Bool {
    let image = PauliSum(
      sum.terms.map { (InfiniteChainSpace.normalized(InfiniteChainSpace.mirrored($0.key, width: width)), $0.value) })
    return image.isApproximatelyEqual(to: sum, tolerance: 1e-12 * (sum.terms.values.map(abs).max() ?? 1))
  }

  /// - Parameters:
  ///   - hamiltonian: for the infinite chain, its unit cell (terms whose leftmost site is 0);
  ///     Pauli letters read as spin components.
  ///   - operator: likewise (the operator density on the infinite chain).
  ///   - levels: breadth-first levels to enumerate: `steps` for b_1 ... b_steps.
  ///   - levelCap: stop enumerating once a level exceeds this many elements (a pilot run).
  ///   - onLevel: told the elements numbered so far, after each level.
  public init(
    hamiltonian h: PauliSum, operator o: PauliSum, geometry: ClassicalGeometry, levels: Int,
    levelCap: Int = .max, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
    isCancelled: @escaping @Sendable () -> Bool = { false }, onLevel: ((_ elements: Int) -> Void)? = nil
  ) throws {
    let hTerms = SpinMonomial.terms(of: h)
    let oTerms = SpinMonomial.terms(of: o)
    let bits = Self.keyBits(hamiltonian: hTerms, operator: oTerms, steps: levels, geometry: geometry)
    guard bits <= 128 else { throw BuildError.keyTooLong(bits: bits) }
    let tables = SphericalHarmonicTables(
      maxDegree: Self.maxDegree(hamiltonian: hTerms, operator: oTerms, steps: levels))
    self.geometry = geometry
    parityBlocks = h.isReal && o.yParity != nil
    liouvillianScale = h.terms.values.reduce(0) { $0 + abs($1) }
    switch geometry {
    case .infinite:
      let width = max(InfiniteChainSpace.width(h), InfiniteChainSpace.width(o))
      reflection = Self.mirrorSymmetric(h, width: width) && Self.mirrorSymmetric(o, width: width)
      let expander = InfiniteChainExpander(tables: tables, cell: hTerms, reflection: reflection)
      basis = try Self.enumerate(
        expander: expander, tables: tables, operator: oTerms, levels: levels,
        parityBlocks: parityBlocks, levelCap: levelCap, cores: cores, isCancelled: isCancelled, onLevel: onLevel)
    case .finite(let size, _, let group):
      reflection = group.hasReflections
      let expander = FiniteChainExpander(tables: tables, terms: hTerms, size: size, group: group)
      basis = try Self.enumerate(
        expander: expander, tables: tables, operator: oTerms, levels: levels,
        parityBlocks: parityBlocks, levelCap: levelCap, cores: cores, isCancelled: isCancelled, onLevel: onLevel)
    }
  }

  /// The operator's coefficients on canonical keys, then the breadth-first build.
  private static func enumerate<E: ClassicalLiouvillianExpander>(
    expander: E, tables: SphericalHarmonicTables, operator oTerms: [SpinMonomial], levels: Int, parityBlocks: Bool,
    levelCap: Int, cores: Int, isCancelled: @escaping @Sendable () -> Bool, onLevel: ((Int) -> Void)?
  ) throws -> ClassicalBasis {
    var initial: [UInt128: Double] = [:]
    var order: [UInt128] = []
    for term in oTerms {
      var sites = [UInt16](repeating: 0, count: (term.sites.last ?? 0) + 1)
      var value = term.coefficient
      for (site, a) in zip(term.sites, term.components) {
        // S^a = (M_a 1): a single l = 1 harmonic.
        let column = tables.multiply[a].column(0)
        sites[site] = tables.multiply[a].targets[column.lowerBound]
        value *= tables.multiply[a].values[column.lowerBound]
      }
      guard let (key, orbit) = expander.canonical(sites: sites) else { throw BuildError.keyTooLong(bits: 129) }
      if initial[key] == nil { order.append(key) }
      initial[key, default: 0] += value / Double(orbit).squareRoot()
    }
    let pairs = order.compactMap { key in initial[key].flatMap { abs($0) > 0 ? (key: key, value: $0) : nil } }
    guard !pairs.isEmpty else { throw BuildError.zeroOperator }
    let start = DispatchTime.now()
    var search = LevelSearch(expander: expander, parityBlocks: parityBlocks)
    search.cores = cores
    search.isCancelled = isCancelled
    var columns = [SegmentedColumns](repeating: SegmentedColumns(), count: parityBlocks ? 2 : 1)
    let found = try search.run(
      initial: pairs, levels: levels,
      store: { _, block, images in
        for image in images where image.columnCount > 0 { columns[block].segments.append(image) }
      },
      afterLevel: { progress in
        onLevel?(progress.levelSizes.reduce(0, +))
        return progress.newKeys.count <= levelCap
      })
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return ClassicalBasis(
      levelSizes: found.sizes, levelBlocks: found.blocks, levelEnds: found.ends,
      blockDimensions: found.blockDimensions, levelNonzeros: found.nonzeros, columns: columns, initialBlock: 0,
      initialVector: found.initialVector, buildSeconds: seconds)
  }

  // MARK: - KrylovOperatorSpace

  public var blockDimensions: [Int] { basis.blockDimensions }
  public var initialBlock: Int { basis.initialBlock }
  /// The operator on level 0, padded with zeros to the whole block (what the driver expects).
  public var initialVector: [Double] {
    basis.initialVector + [Double](repeating: 0, count: basis.blockDimensions[0] - basis.initialVector.count)
  }
  public var storageBytes: Int { basis.columns.reduce(0) { $0 + $1.storageBytes } }

  public func applyLiouvillian(
    block: Int, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double
  ) {
    basis.columns[block].multiply(input: input, output: output, perturbation: perturbation)
  }

  public func vectorLength(step n: Int) -> Int {
    if n < basis.levelEnds.count { return basis.levelEnds[n] }
    return blockDimensions[(initialBlock + n) % blockDimensions.count]
  }

  public var sectorDescription: String {
    var parts = ["classical spins"]
    switch geometry {
    case .infinite: parts.append("infinite chain: translation classes")
    case .finite(let size, let boundary, let group): parts.append("N=\(size) \(boundary.rawValue), symmetry \(group)")
    }
    if reflection, case .infinite = geometry { parts.append("reflection") }
    if parityBlocks { parts.append("S^y-parity blocks") }
    parts.append("\(basis.levelSizes.count - 1) breadth-first levels")
    let total = blockDimensions.reduce(0, +)
    return parts.joined(separator: ", ") + "; basis \(total) (dimensions "
      + blockDimensions.map(String.init).joined(separator: " + ") + "), \(basis.nonzeros) nonzeros"
  }
}
