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
/// Exact to `steps` coefficients: every class reachable in that many applications has width at
/// most `maxWidth` = (operator width) + steps × (Hamiltonian range − 1), and every such class is
/// in the basis. Products wider than that are dropped: they are reached only after the last step.
public struct InfiniteChainSpace: SparseOperatorSpace {
  public let maxWidth: Int
  public let reflection: Bool
  public let blockCount: Int
  public let keys: [[UInt64]]
  public let orbitSizes: [[UInt8]]
  public let matrices: [SparseRows]
  public let initialBlock: Int
  public let initialVector: [Double]
  public let liouvillianScale: Double

  public enum BuildError: Error, CustomStringConvertible {
    case notTranslationInvariant
    case tooWide(Int)
    public var description: String {
      switch self {
      case .notTranslationInvariant:
        "the infinite chain needs a translation-invariant operator (sz_total, sx_total, zz_total, or a custom operator with --translate-operator)"
      case .tooWide(let w):
        "the infinite chain needs strings of width \(w), beyond the 31 sites a key can hold: ask for fewer steps"
      }
    }
  }

  /// The unit cell of a translation-invariant sum on an open chain: its terms whose leftmost site is 0.
  public static func unitCell(of sum: PauliSum) -> PauliSum {
    PauliSum(sum.terms.filter { $0.key.support & 1 != 0 }.map { ($0.key, $0.value) })
  }

  /// Largest width (rightmost site − leftmost site + 1) of any term.
  static func width(_ sum: PauliSum) -> Int {
    sum.terms.keys.map { 64 - $0.support.leadingZeroBitCount }.max() ?? 1
  }

  /// The number of classes of width ≤ w per Y-parity block, before reflection (for memory estimates).
  public static func classCount(maxWidth w: Int) -> Int {
    // Width exactly v ≥ 2: non-identity ends (3 × 3) and anything between (4^(v-2)); v = 1: 3.
    var total = 3
    if w >= 2 { for v in 2...w { total += 9 << (2 * (v - 2)) } }
    return total
  }

  /// - Parameters:
  ///   - hamiltonianCell: the unit cell (terms with leftmost site 0).
  ///   - operatorCell: the operator density (terms with leftmost site 0).
  public init(hamiltonianCell h: PauliSum, operatorCell o: PauliSum, steps: Int) throws {
    let range = Self.width(h)
    let w0 = Self.width(o)
    let maxWidth = w0 + steps * max(range - 1, 0)
    guard maxWidth <= 31 else { throw BuildError.tooWide(maxWidth) }
    self.maxWidth = maxWidth
    let mirror = { (s: PauliString) -> PauliString in Self.normalized(Self.mirrored(s, width: maxWidth)) }
    let hMirror = PauliSum(h.terms.map { (mirror($0.key), $0.value) })
    let oMirror = PauliSum(o.terms.map { (mirror($0.key), $0.value) })
    reflection =
      hMirror.isApproximatelyEqual(to: h, tolerance: 1e-12 * (h.terms.values.map(abs).max() ?? 1))
      && oMirror.isApproximatelyEqual(to: o, tolerance: 1e-12 * (o.terms.values.map(abs).max() ?? 1))
    let parityBlocks = h.isReal && o.yParity != nil
    blockCount = parityBlocks ? 2 : 1
    liouvillianScale = 2 * h.terms.values.reduce(0) { $0 + abs($1) }

    // Enumerate classes: strings with site 0 not the identity, width ≤ maxWidth, canonical under the mirror.
    let blocks = blockCount
    let reflect = reflection
    let total = UInt64(1) << UInt64(2 * maxWidth)
    let mask: UInt64 = (1 << UInt64(maxWidth)) - 1
    let chunks = max(1, min(64, Int(total >> 12)))
    let results = ChunkResults<([[UInt64]], [[UInt8]])>(count: chunks)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      var k: [[UInt64]] = Array(repeating: [], count: blocks)
      var m: [[UInt8]] = Array(repeating: [], count: blocks)
      let lo = total * UInt64(c) / UInt64(chunks)
      let hi = total * UInt64(c + 1) / UInt64(chunks)
      var key = lo
      while key < hi {
        defer { key += 1 }
        let s = PauliString(x: key & mask, z: key >> UInt64(maxWidth))
        guard s.support & 1 != 0 else { continue }
        var size: UInt8 = 1
        if reflect {
          let r = Self.normalized(Self.mirrored(s, width: maxWidth))
          if r < s { continue }
          if r != s { size = 2 }
        }
        let b = blocks == 2 ? s.yCount & 1 : 0
        k[b].append(Self.key(s, width: maxWidth))
        m[b].append(size)
      }
      results.set(c, (k, m))
    }
    // Keys were generated in (z, x) order, which is the key order: each block is sorted.
    let (keys, sizes) = results.concatenatedBlocks(blocks: blocks)
    self.keys = keys
    self.orbitSizes = sizes

    // The Hamiltonian's translates that can overlap a string of width ≤ maxWidth starting at 0.
    var translates: [(PauliString, Double, Int)] = []  // (term shifted by +shift, coefficient, shift)
    for (term, c) in h.terms {
      let w = 64 - term.support.leadingZeroBitCount
      for shift in -(w - 1)..<maxWidth {
        translates.append((term, c, shift))
      }
    }

    // Initial vector.
    var initialBlock = 0
    var vector: [Double] = []
    do {
      let first = o.terms.keys.first!
      initialBlock = blocks == 2 ? first.yCount & 1 : 0
      vector = [Double](repeating: 0, count: keys[initialBlock].count)
      for (s, c) in o.terms {
        let r = reflect ? min(s, Self.normalized(Self.mirrored(s, width: maxWidth))) : s
        let i = Self.search(keys[initialBlock], Self.key(r, width: maxWidth))!
        vector[i] += c / Double(sizes[initialBlock][i]).squareRoot()
      }
    }
    self.initialBlock = initialBlock
    self.initialVector = vector

    var matrices: [SparseRows] = []
    for source in 0..<blocks {
      let target = (source + 1) % blocks
      matrices.append(
        Self.buildRows(
          keys: keys, sizes: sizes, translates: translates, source: source, target: target, maxWidth: maxWidth,
          reflect: reflect))
    }
    self.matrices = matrices
  }

  static func key(_ s: PauliString, width: Int) -> UInt64 { (s.z << UInt64(width)) | s.x }

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

  static func search(_ keys: [UInt64], _ target: UInt64) -> Int? {
    keys.withUnsafeBufferPointer { PauliSector.search($0, target) }
  }

  /// Rows of the map source → target; row S holds (S|L|R) = −(R|L|S), as in the finite sector.
  private static func buildRows(
    keys: [[UInt64]], sizes: [[UInt8]], translates: [(PauliString, Double, Int)], source: Int, target: Int,
    maxWidth: Int, reflect: Bool
  ) -> SparseRows {
    let mask: UInt64 = (1 << UInt64(maxWidth)) - 1
    // Pad by the Hamiltonian's reach on the left: work on strings shifted right by `pad` sites.
    let pad = translates.map { -$0.2 }.max() ?? 0
    return SparseRows.build(rows: keys[target].count) { row, add in
      let k = keys[target][row]
      let s = PauliString(x: (k & mask) << UInt64(pad), z: (k >> UInt64(maxWidth)) << UInt64(pad))
      let ms = Double(sizes[target][row])
      keys[source].withUnsafeBufferPointer { sourceKeys in
        for (term, hc, shift) in translates {
          let at = UInt64(shift + pad)
          let t = PauliString(x: term.x << at, z: term.z << at)
          guard t.support & s.support != 0, let (sign, q) = t.liouvillian(acting: s) else { continue }
          var r = normalized(q)
          guard 64 - r.support.leadingZeroBitCount <= maxWidth else { continue }  // reached only after the last step
          if reflect {
            let m = normalized(mirrored(r, width: maxWidth))
            if m < r { r = m }
          }
          guard let col = PauliSector.search(sourceKeys, key(r, width: maxWidth)) else {
            preconditionFailure("infinite chain: product outside the class table")
          }
          add(Int32(col), -hc * sign * (ms / Double(sizes[source][col])).squareRoot())
        }
      }
    }
  }

  public var blockDimensions: [Int] { keys.map(\.count) }

  public var storageBytes: Int {
    keys.reduce(0) { $0 + $1.count * 9 } + matrices.reduce(0) { $0 + $1.storageBytes }
  }

  public var sectorDescription: String {
    "infinite chain: translation classes of width ≤ \(maxWidth)\(reflection ? ", reflection" : "")"
      + "\(blockCount == 2 ? ", Y-parity blocks" : ""); dimensions "
      + blockDimensions.map(String.init).joined(separator: " + ")
  }
}
