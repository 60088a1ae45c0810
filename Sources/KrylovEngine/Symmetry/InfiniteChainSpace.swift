import Dispatch
import Foundation

/// Translation-invariant operators on the infinite chain, as densities: the thermodynamic limit.
///
/// An operator Σ_j T^j (Σ_R c_R R) is stored as the coefficients c_R of its translation classes,
/// each class represented by the string shifted so that its leftmost site is 0. With the inner
/// product per site these classes are orthonormal (a finite string is never translation
/// invariant), and i[H, ·] maps class R to Σ_Q c_Q class(Q), where Σ c_Q Q = i[H_local, R] sums
/// every translate of the Hamiltonian's unit cell that overlaps R. The mirror image is used like
/// a symmetry of the finite chain when H and O allow it; Y-parity blocks as on finite chains.
///
/// Exact to `steps` coefficients, over the classes actually reached: breadth first from O's
/// classes, level k holding the classes first reached after k applications of L. O_n lies in
/// levels ≤ n, so the basis is ordered by level and vector n occupies a prefix of its block
/// (`vectorLength(step:)`). Level `steps` is reached but not expanded: its rows are only read
/// for their entries in level steps − 1, the transpose of that level's (L is antisymmetric).
/// The reached classes grow about 1.55× per step for mfim / sz_total, against 4× for every
/// class of the same width.
public struct InfiniteChainSpace: SparseOperatorSpace {
  public let reflection: Bool
  public let blockCount: Int
  /// Classes per block (ordered by level, then by first reach).
  public let blockDimensions: [Int]
  /// levelEnds[b][k]: classes of block b at levels ≤ k (levels of the other parity add none).
  public let levelEnds: [[Int]]
  public let matrices: [SparseRows]
  public let initialBlock: Int
  public let initialVector: [Double]
  public let liouvillianScale: Double
  /// The widest class in the basis (sites).
  public let maxWidth: Int

  public enum BuildError: Error, CustomStringConvertible {
    case notTranslationInvariant
    case tooWide(Int)
    case memory(estimated: Int, limit: Int, level: Int, classes: Int)
    public var description: String {
      switch self {
      case .notTranslationInvariant:
        "the infinite chain needs a translation-invariant operator (sz_total, sx_total, zz_total, or a custom operator with --translate-operator)"
      case .tooWide(let w):
        "the infinite chain needs strings of width \(w), beyond the 62 sites a class can hold: ask for fewer steps"
      case .memory(let estimated, let limit, let level, let classes):
        "refusing to continue: after \(level) levels the infinite chain holds \(classes) classes, and the run would "
          + "need about \(formatBytes(estimated)) but the memory limit is \(formatBytes(limit)) "
          + "(raise the limit with --memory-limit, or ask for fewer steps)"
      }
    }
  }

  /// The unit cell of a translation-invariant sum on an open chain: its terms whose leftmost site is 0.
  public static func unitCell(of sum: PauliSum) -> PauliSum {
    PauliSum(sum.terms.filter { $0.key.support & 1 != 0 }.map { ($0.key, $0.value) })
  }

  /// Largest width (rightmost site − leftmost site + 1) of any term.
  static func width(_ sum: PauliSum) -> Int {
    sum.terms.keys.map { width($0) }.max() ?? 1
  }

  static func width(_ s: PauliString) -> Int { 64 - s.support.leadingZeroBitCount }

  /// - Parameters:
  ///   - hamiltonianCell: the unit cell (terms with leftmost site 0).
  ///   - operatorCell: the operator density (terms with leftmost site 0).
  ///   - memoryLimit: the build stops, before it exceeds this, when the projected run would.
  ///   - onLevel: told the classes numbered so far, after each level.
  public init(
    hamiltonianCell h: PauliSum, operatorCell o: PauliSum, steps: Int, memoryLimit: Int = Int.max,
    precision: VectorPrecision = .single, isCancelled: @escaping @Sendable () -> Bool = { false },
    onLevel: ((_ classes: Int) -> Void)? = nil
  ) throws {
    let reach = TranslationClassReach(hamiltonianCell: h, operatorCell: o)
    reflection = reach.reflect
    blockCount = reach.blocks
    liouvillianScale = 2 * h.terms.values.reduce(0) { $0 + abs($1) }
    let built = try reach.build(
      steps: steps, memoryLimit: memoryLimit, precision: precision, isCancelled: isCancelled, onLevel: onLevel)
    blockDimensions = built.blockDimensions
    levelEnds = built.levelEnds
    matrices = built.matrices
    initialBlock = built.initialBlock
    initialVector = built.initialVector
    maxWidth = built.maxWidth
  }

  public func vectorLength(step n: Int) -> Int {
    let b = (initialBlock + n) % blockCount
    let ends = levelEnds[b]
    return ends[min(n, ends.count - 1)]
  }

  public var storageBytes: Int {
    matrices.reduce(0) { $0 + $1.storageBytes }
  }

  public var sectorDescription: String {
    let elements = matrices.reduce(0) { $0 + $1.nonzeros }
    return "infinite chain: translation classes reached, widths ≤ \(maxWidth)\(reflection ? ", reflection" : "")"
      + "\(blockCount == 2 ? ", Y-parity blocks" : ""); dimensions "
      + blockDimensions.map(String.init).joined(separator: " + ")
      + "; \(elements) Liouvillian elements (\(formatBytes(storageBytes)))"
  }

  /// Shifts a string so that its leftmost site is 0.
  @inlinable
  static func normalized(_ s: PauliString) -> PauliString {
    let shift = UInt64(s.support.trailingZeroBitCount)
    return PauliString(x: s.x >> shift, z: s.z >> shift)
  }

  /// The mirror image within `width` sites (then to be normalized).
  @inlinable
  static func mirrored(_ s: PauliString, width: Int) -> PauliString {
    PauliString(x: s.x.bitSwapped >> UInt64(64 - width), z: s.z.bitSwapped >> UInt64(64 - width))
  }
}
