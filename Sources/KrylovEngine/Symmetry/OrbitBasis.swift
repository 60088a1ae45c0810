import Dispatch

/// Orbit representatives of strings over four letters a site, enumerated on all cores.
///
/// A string is two site masks (`x`, `z`), carried in a `PauliString`: Pauli letters in
/// `PauliSector`, ladder letters in `ChargeSector`. Site permutations act on the masks alone, so
/// one enumeration serves both: every string the classifier admits is kept when it is the
/// smallest image under the group, with its orbit size, in the blocks the classifier names.
/// Keys are `(z << N) | x`, visited in increasing order, so each block comes out sorted and a
/// representative's index is found by binary search.
///
/// An optional conjugation (an involution commuting with the site permutations) joins a string's
/// orbit with its image's; basis vectors then carry a block's character (±1) on the conjugated
/// images, and an orbit that maps to itself with the sign −1 has no vector in that block.
public struct OrbitBasis: Sendable {
  public let size: Int
  public let group: SymmetryGroup
  public let conjugation: OrbitConjugation?
  /// Sorted representative keys of each block.
  public let keys: [[UInt64]]
  /// Orbit size of each representative, by block.
  public let orbitSizes: [[UInt16]]

  /// Enumerates every non-identity orbit whose strings `classify` puts in a block.
  ///
  /// The work is 4^N classifications, on all cores. `classify` returns the blocks a string
  /// belongs to, as a bit mask (bit b for block b; 0 leaves the string out).
  public init(
    size n: Int, group: SymmetryGroup, blockCount: Int, conjugation: OrbitConjugation? = nil,
    progress: SetupProgress? = nil, classify: @Sendable @escaping (PauliString) -> UInt8
  ) {
    precondition(n >= 1 && n <= 31, "sector keys hold at most 31 sites")
    self.size = n
    self.group = group
    self.conjugation = conjugation
    let total = UInt64(1) << UInt64(2 * n)
    let chunks = max(1, min(64, Int(total >> 12)))
    let mask: UInt64 = (1 << UInt64(n)) - 1
    let elements = group.elements.filter { $0 != .identity }
    let results = ChunkResults<([[UInt64]], [[UInt16]])>(count: chunks)
    let counter = ProgressCounter(total: chunks, report: progress)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      var k: [[UInt64]] = Array(repeating: [], count: blockCount)
      var m: [[UInt16]] = Array(repeating: [], count: blockCount)
      let lo = max(1, total * UInt64(c) / UInt64(chunks))
      let hi = total * UInt64(c + 1) / UInt64(chunks)
      var key = lo
      outer: while key < hi {
        defer { key += 1 }
        let s = PauliString(x: key & mask, z: key >> UInt64(n))
        let blocks = classify(s)
        if blocks == 0 { continue }
        var fixed = 1
        for g in elements {
          let image = PauliString(x: g.apply(s.x, size: n), z: g.apply(s.z, size: n))
          if image < s { continue outer }
          if image == s { fixed += 1 }
        }
        // The conjugated images: each one equal to s stabilizes s with the block's character.
        var order = elements.count + 1
        var conjugateFixed = 0
        if let conjugation, let partner = conjugation.image(s) {
          order *= 2
          for g in group.elements {
            let image = PauliString(x: g.apply(partner.x, size: n), z: g.apply(partner.z, size: n))
            if image < s { continue outer }
            if image == s { conjugateFixed += 1 }
          }
        }
        for b in 0..<blockCount where blocks & (1 << b) != 0 {
          if conjugateFixed > 0 && (conjugation?.characters[b] ?? 1) < 0 { continue }
          k[b].append(key)
          m[b].append(UInt16(order / (fixed + conjugateFixed)))
        }
      }
      results.set(c, (k, m))
      counter?.complete()
    }
    (self.keys, self.orbitSizes) = results.concatenatedBlocks(blocks: blockCount)
  }

  /// The representative of a string's orbit, and whether it is reached through the conjugation
  /// (the string then carries the block's character relative to its representative).
  @inlinable
  public func canonical(_ s: PauliString) -> (representative: PauliString, conjugated: Bool) {
    var best = group.canonical(s)
    var conjugated = false
    if let conjugation, let partner = conjugation.image(s) {
      let other = group.canonical(partner)
      if other < best {
        best = other
        conjugated = true
      }
    }
    return (best, conjugated)
  }

  /// Whether a representative's conjugate lies in its own orbit (so a block whose character is
  /// −1 has no vector for it).
  public func isSelfConjugate(_ r: PauliString) -> Bool {
    guard let partner = conjugation?.image(r) else { return false }
    return group.elements.contains { $0.apply(partner, size: size) == r }
  }

  public var blockCount: Int { keys.count }
  public var blockDimensions: [Int] { keys.map(\.count) }

  @inlinable
  public func key(_ s: PauliString) -> UInt64 { (s.z << UInt64(size)) | s.x }

  public func string(key: UInt64) -> PauliString {
    PauliString(x: key & ((1 << UInt64(size)) - 1), z: key >> UInt64(size))
  }

  /// Index of a representative within block `b`, or nil if it is not one.
  public func index(ofRepresentative r: PauliString, block b: Int) -> Int? {
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

  /// Keys (8 bytes) and orbit sizes (2 bytes) of every representative.
  public var storageBytes: Int { keys.reduce(0) { $0 + $1.count * 10 } }
}

/// An involution on strings that joins orbits with a sign: in the ladder basis, σ⁺ ↔ σ⁻ on
/// charge-0 strings, whose Hermitian combinations are even or odd under it.
public struct OrbitConjugation: Sendable {
  /// The image of a string, or nil when the string has no partner in the basis.
  public let image: @Sendable (PauliString) -> PauliString?
  /// The sign each block's basis vectors carry on conjugated images (+1 or −1).
  public let characters: [Double]

  public init(characters: [Double], image: @Sendable @escaping (PauliString) -> PauliString?) {
    self.image = image
    self.characters = characters
  }
}
