import Dispatch
import Foundation

/// The basis of one symmetry sector: symmetric sums over orbits of Pauli strings.
///
/// Each basis vector is `|R) = (1/sqrt(m_R)) sum_{Q in orbit(R)} Q` for an orbit representative
/// `R` (its smallest image) of size `m_R`; these are orthonormal. Representatives are grouped in
/// blocks by the parity of their Y count when the Hamiltonian is real (every term has an even
/// number of Y's), since `i[H, .]` then flips that parity. Within a block they are sorted, so
/// a representative's index is found by binary search.
public struct PauliSector: Sendable {
  public let size: Int
  public let group: SymmetryGroup
  /// 2 when blocks are Y-parity halves, 1 otherwise.
  public let blockCount: Int
  /// Sorted representative keys `(z << N) | x` of each block.
  public let keys: [[UInt64]]
  /// Orbit size of each representative, by block.
  public let orbitSizes: [[UInt16]]
  /// The global spin flips whose sign every string of the sector shares.
  public let flips: SpinFlips

  /// Enumerates every non-identity orbit of the group among the strings `flips` admits (the
  /// work is 4^N canonicalizations, on all cores).
  public init(size n: Int, group: SymmetryGroup, parityBlocks: Bool, flips: SpinFlips = .none) {
    precondition(n >= 1 && n <= 31, "sector keys hold at most 31 sites")
    self.size = n
    self.group = group
    self.flips = flips
    self.blockCount = parityBlocks ? 2 : 1
    let total = UInt64(1) << UInt64(2 * n)
    let chunks = max(1, min(64, Int(total >> 12)))
    let mask: UInt64 = (1 << UInt64(n)) - 1
    let blocks = blockCount
    let elements = group.elements.filter { $0 != .identity }
    let filtered = !flips.isEmpty
    let results = ChunkResults<([[UInt64]], [[UInt16]])>(count: chunks)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      var k: [[UInt64]] = Array(repeating: [], count: blocks)
      var m: [[UInt16]] = Array(repeating: [], count: blocks)
      let lo = max(1, total * UInt64(c) / UInt64(chunks))
      let hi = total * UInt64(c + 1) / UInt64(chunks)
      var key = lo
      outer: while key < hi {
        defer { key += 1 }
        let s = PauliString(x: key & mask, z: key >> UInt64(n))
        if filtered && !flips.admits(s) { continue }
        var fixed = 1
        for g in elements {
          let image = PauliString(x: g.apply(s.x, size: n), z: g.apply(s.z, size: n))
          if image < s { continue outer }
          if image == s { fixed += 1 }
        }
        let b = blocks == 2 ? s.yCount & 1 : 0
        k[b].append(key)
        m[b].append(UInt16((elements.count + 1) / fixed))
      }
      results.set(c, (k, m))
    }
    (self.keys, self.orbitSizes) = results.concatenatedBlocks(blocks: blocks)
  }

  public var blockDimensions: [Int] { keys.map(\.count) }

  @inlinable
  public func key(_ s: PauliString) -> UInt64 { (s.z << UInt64(size)) | s.x }

  public func string(key: UInt64) -> PauliString {
    PauliString(x: key & ((1 << UInt64(size)) - 1), z: key >> UInt64(size))
  }

  /// The block a string belongs to.
  @inlinable
  public func block(of s: PauliString) -> Int { blockCount == 2 ? s.yCount & 1 : 0 }

  /// Index of a representative within its block, or nil if it is not one.
  public func index(ofRepresentative r: PauliString) -> Int? {
    let b = block(of: r)
    let target = key(r)
    return keys[b].withUnsafeBufferPointer { Self.search($0, target) }
  }

  @inlinable
  static func search(_ keys: UnsafeBufferPointer<UInt64>, _ target: UInt64) -> Int? {
    var lo = 0
    var hi = keys.count
    while lo < hi {
      let mid = (lo + hi) >> 1
      if keys[mid] < target { lo = mid + 1 } else { hi = mid }
    }
    return lo < keys.count && keys[lo] == target ? lo : nil
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
      let r = string(key: keys[b][i])
      let images = Set(group.elements.map { $0.apply(r, size: size) })
      let each = c / Double(orbitSizes[b][i]).squareRoot()
      for q in images { sum.add(each, q) }
    }
    return sum
  }

  public var storageBytes: Int { keys.reduce(0) { $0 + $1.count * 10 } }
}

/// Results written by concurrent workers into their own slots.
final class ChunkResults<T>: @unchecked Sendable {
  private var slots: [T?]
  private let lock = NSLock()
  init(count: Int) { slots = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
  func get(_ i: Int) -> T? { lock.withLock { slots[i] } }
  var count: Int { slots.count }
}

extension ChunkResults {
  /// Per-block key and orbit-size lists from every chunk, in chunk order (so sorted keys stay sorted).
  func concatenatedBlocks<Size>(blocks: Int) -> ([[UInt64]], [[Size]]) where T == ([[UInt64]], [[Size]]) {
    var keys: [[UInt64]] = Array(repeating: [], count: blocks)
    var sizes: [[Size]] = Array(repeating: [], count: blocks)
    for c in 0..<count {
      guard let (k, m) = get(c) else { preconditionFailure("chunk \(c) has no result: every worker stores its chunk's") }
      for b in 0..<blocks {
        keys[b] += k[b]
        sizes[b] += m[b]
      }
    }
    return (keys, sizes)
  }
}
