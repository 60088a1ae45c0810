import Dispatch

/// The Liouvillian `O -> i[H, O]` of a spin chain, restricted to one symmetry sector.
///
/// In the orbit basis of `PauliSector` the matrix element between representatives is
/// `(R|L|S) = sqrt(m_S / m_R) * sum_{Q in orbit(R)} (Q| i[H, S])`, because L commutes with the
/// group. Built once as sparse rows per block, so each Lanczos step is one sparse product and
/// no rounding can ever leave the sector.
public struct PauliSectorSpace: SparseOperatorSpace {
  public let sector: PauliSector
  /// `matrices[b]` maps block b into block (b + 1) % blockCount; its rows index the target block.
  public let matrices: [SparseRows]
  public let initialBlock: Int
  public let initialVector: [Double]
  public let liouvillianScale: Double
  /// H's terms, sorted.
  public let hamiltonianTerms: [(string: PauliString, coefficient: Double)]
  /// O's terms, for the exact Krylov dimension.
  private let operatorTerms: PauliSum

  public enum BuildError: Error, CustomStringConvertible {
    case operatorNotInSector
    public var description: String {
      "the operator is not invariant under the detected symmetry group (internal error)"
    }
  }

  /// Builds the sector of `operator` under `hamiltonian` with the given symmetry group and
  /// global spin flips (`SpinFlips.detect`, or `.none`).
  public init(
    hamiltonian h: PauliSum, operator o: PauliSum, size n: Int, group: SymmetryGroup, flips: SpinFlips = .none,
    progress: SetupProgress? = nil
  ) throws {
    let parityBlocks = h.isReal && o.yParity != nil
    let phases = sectorPhases(progress, matrices: parityBlocks ? 2 : 1)
    let sector = PauliSector(
      size: n, group: group, parityBlocks: parityBlocks, flips: flips, progress: phases.enumeration)
    guard let (block, vector) = sector.coordinates(of: o) else { throw BuildError.operatorNotInSector }
    self.sector = sector
    self.initialBlock = block
    self.initialVector = vector
    self.liouvillianScale = 2 * h.terms.values.reduce(0) { $0 + abs($1) }
    let terms = h.sortedTerms
    self.hamiltonianTerms = terms
    self.operatorTerms = o
    var matrices: [SparseRows] = []
    for source in 0..<sector.blockCount {
      let target = (source + 1) % sector.blockCount
      matrices.append(
        Self.buildRows(sector: sector, terms: terms, source: source, target: target, progress: phases.matrix(source)))
    }
    self.matrices = matrices
  }

  /// Rows for the map source -> target: row S of target holds (S|L|R) = -(R|L|S).
  private static func buildRows(
    sector: PauliSector, terms: [(string: PauliString, coefficient: Double)], source: Int, target: Int,
    progress: SetupProgress?
  ) -> SparseRows {
    SparseRows.build(rows: sector.keys[target].count, progress: progress) { row, add in
      let ms = Double(sector.orbitSizes[target][row])
      forEachImage(of: sector.orbits.string(key: sector.keys[target][row]), in: source, sector: sector, terms: terms) {
        col, coefficient in
        add(Int32(col), -coefficient * (ms / Double(sector.orbitSizes[source][col])).squareRoot())
      }
    }
  }

  /// The terms of i[H, S] for one string S, from which both the rows and the exact Krylov
  /// dimension are made: each as the index of its representative in block `block` and its
  /// coefficient on that single string.
  private static func forEachImage(
    of s: PauliString, in block: Int, sector: PauliSector, terms: [(string: PauliString, coefficient: Double)],
    _ body: (Int, Double) -> Void
  ) {
    sector.keys[block].withUnsafeBufferPointer { keys in
      for (hs, hc) in terms {
        guard let (sign, q) = hs.liouvillian(acting: s) else { continue }
        guard let col = OrbitBasis.search(keys, sector.orbits.key(sector.group.canonical(q))) else {
          preconditionFailure("Liouvillian left the sector: \(q) from \(s)")
        }
        body(col, hc * sign)
      }
    }
  }

  public var blockDimensions: [Int] { sector.blockDimensions }

  public var storageBytes: Int { sector.storageBytes + matrices.reduce(0) { $0 + $1.storageBytes } }

  public var sectorDescription: String {
    let blocks =
      (sector.blockCount == 2 ? ", Y-parity blocks" : "") + (sector.flips.isEmpty ? "" : ", spin flips \(sector.flips)")
    let elements = matrices.reduce(0) { $0 + $1.nonzeros }
    return
      "symmetry \(sector.group)\(blocks); dimensions \(blockDimensions.map(String.init).joined(separator: " + ")); "
      + "\(elements) Liouvillian elements (\(formatBytes(storageBytes)))"
  }
}

/// An operator space whose Liouvillian is a list of sparse matrices, one per source block.
public protocol SparseOperatorSpace: KrylovOperatorSpace {
  /// `matrices[b]` maps block b into block (b + 1) % blockCount; its rows index the target block.
  var matrices: [SparseRows] { get }
}

extension SparseOperatorSpace {
  public func applyLiouvillian(
    block: Int, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double
  ) {
    let m = matrices[block]
    m.multiply(rows: 0..<output.count, input: input, output: output, perturbation: perturbation)
  }

  /// One pass over the matrix for both runs: the matrix is read once instead of twice.
  public func applyLiouvillianPair(
    block: Int, inputs: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>),
    interleaved: UnsafeBufferPointer<Double>,
    outputs: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>),
    perturbation: Double, part: Int, parts: Int
  ) {
    let m = matrices[block]
    let rows = outputs.0.count
    m.multiplyPair(
      rows: rows * part / parts..<rows * (part + 1) / parts, interleaved: interleaved, outputs: outputs,
      perturbation: perturbation)
  }
}

extension PauliSectorSpace: ExactlyRepresentedSpace {
  public func forEachExactImage(block: Int, index: Int, _ body: (Int, Double, Int) -> Void) {
    let target = (block + 1) % sector.blockCount
    let t = sector.orbits.string(key: sector.keys[block][index])
    Self.forEachImage(of: t, in: target, sector: sector, terms: hamiltonianTerms) { column, coefficient in
      body(column, coefficient, Int(sector.orbitSizes[target][column]))
    }
  }

  public func orbitSize(block: Int, index: Int) -> Int { Int(sector.orbitSizes[block][index]) }

  public var exactInitialVector: [Double] {
    var v = [Double](repeating: 0, count: sector.keys[initialBlock].count)
    for (s, c) in operatorTerms.terms {
      if let i = sector.orbits.index(ofRepresentative: s, block: initialBlock) { v[i] = c }
    }
    return v
  }
}
