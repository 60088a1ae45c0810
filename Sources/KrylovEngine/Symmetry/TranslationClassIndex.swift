/// Positions of translation classes: an open-addressing hash table from a Pauli string to an
/// `Int32`, with a cheap multiplicative hash. The class search does tens of millions of
/// lookups per level; a general `Dictionary` (SipHash, per-entry metadata) spent most of the
/// search's time there.
///
/// Lookups may run on many threads at once while nothing is inserted.
final class TranslationClassIndex: @unchecked Sendable {
  private var xs: UnsafeMutablePointer<UInt64>
  private var zs: UnsafeMutablePointer<UInt64>
  private var values: UnsafeMutablePointer<Int32>
  private var capacity: Int
  private(set) var count = 0
  /// An empty slot: the identity string, which is never a class.
  private static let empty: Int32 = -1

  init(capacity requested: Int = 1024) {
    capacity = 1
    while capacity < max(16, requested * 2) { capacity <<= 1 }
    (xs, zs, values) = Self.allocate(capacity)
  }

  deinit {
    xs.deallocate()
    zs.deallocate()
    values.deallocate()
  }

  private static func allocate(_ n: Int) -> (
    UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<Int32>
  ) {
    let x = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
    let z = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
    let v = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    v.initialize(repeating: empty, count: n)
    return (x, z, v)
  }

  @inline(__always)
  private static func slot(_ s: PauliString, mask: Int) -> Int {
    let h = (s.x &* 0x9E37_79B9_7F4A_7C15) ^ (s.z &* 0xC2B2_AE3D_27D4_EB4F)
    return Int(truncatingIfNeeded: (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9 >> 20) & mask
  }

  /// The value stored for `s`, if any.
  @inline(__always)
  func find(_ s: PauliString) -> Int32? {
    let mask = capacity - 1
    var i = Self.slot(s, mask: mask)
    while true {
      let v = values[i]
      if v == Self.empty { return nil }
      if xs[i] == s.x && zs[i] == s.z { return v }
      i = (i + 1) & mask
    }
  }

  /// Stores `value` for `s`, which must not be present.
  func insert(_ s: PauliString, _ value: Int32) {
    if (count + 1) * 4 > capacity * 3 { grow() }
    let mask = capacity - 1
    var i = Self.slot(s, mask: mask)
    while values[i] != Self.empty { i = (i + 1) & mask }
    xs[i] = s.x
    zs[i] = s.z
    values[i] = value
    count += 1
  }

  private func grow() {
    let (oldX, oldZ, oldV, oldCapacity) = (xs, zs, values, capacity)
    capacity *= 2
    (xs, zs, values) = Self.allocate(capacity)
    count = 0
    for i in 0..<oldCapacity where oldV[i] != Self.empty {
      insert(PauliString(x: oldX[i], z: oldZ[i]), oldV[i])
    }
    oldX.deallocate()
    oldZ.deallocate()
    oldV.deallocate()
  }
}
