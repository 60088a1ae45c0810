/// An open-addressing hash table from nonzero 128-bit keys to 32-bit indices.
///
/// Written once, then read by many threads: the breadth-first enumeration of a classical basis
/// fills one table per level and looks keys up from both cores while no thread writes. Linear
/// probing with the load kept at most one half; key 0 marks an empty slot (no basis element
/// has key 0: that is the constant function).
final class KeyIndexTable: @unchecked Sendable {
  private(set) var keys: UnsafeMutableBufferPointer<UInt128>
  private(set) var values: UnsafeMutableBufferPointer<UInt32>
  private(set) var count = 0
  private var mask: Int

  init(expected: Int) {
    var capacity = 16
    while capacity < 2 * max(expected, 1) { capacity <<= 1 }
    keys = .allocate(capacity: capacity)
    keys.initialize(repeating: 0)
    values = .allocate(capacity: capacity)
    values.initialize(repeating: 0)
    mask = capacity - 1
  }

  deinit {
    keys.deallocate()
    values.deallocate()
  }

  /// Bytes held by the slots.
  var storageBytes: Int { keys.count * 20 }

  /// A well-mixed hash of a key (both halves through a multiply–xorshift).
  @inlinable
  static func hash(_ key: UInt128) -> UInt64 {
    var h = UInt64(truncatingIfNeeded: key) &* 0x9E37_79B9_7F4A_7C15
    h ^= UInt64(truncatingIfNeeded: key >> 64) &+ (h >> 29)
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
  }

  @inlinable
  func find(_ key: UInt128) -> UInt32? { find(key, hash: Self.hash(key)) }

  @inlinable
  func find(_ key: UInt128, hash: UInt64) -> UInt32? {
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let k = keys[slot]
      if k == key { return values[slot] }
      if k == 0 { return nil }
      slot = (slot + 1) & mask
    }
  }

  /// Inserts `key` with `value` unless present; returns the stored value and whether it was new.
  @discardableResult
  func insert(_ key: UInt128, value: UInt32, hash: UInt64) -> (value: UInt32, inserted: Bool) {
    if 2 * (count + 1) > keys.count { grow() }
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let k = keys[slot]
      if k == key { return (values[slot], false) }
      if k == 0 {
        keys[slot] = key
        values[slot] = value
        count += 1
        return (value, true)
      }
      slot = (slot + 1) & mask
    }
  }

  /// Adds `offset` to every stored value (indices assigned per shard, then made global).
  func shiftValues(by offset: UInt32) {
    guard offset != 0 else { return }
    for i in 0..<keys.count where keys[i] != 0 { values[i] &+= offset }
  }

  private func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = oldKeys.count * 2
    keys = .allocate(capacity: capacity)
    keys.initialize(repeating: 0)
    values = .allocate(capacity: capacity)
    values.initialize(repeating: 0)
    mask = capacity - 1
    count = 0
    for i in 0..<oldKeys.count where oldKeys[i] != 0 {
      insert(oldKeys[i], value: oldValues[i], hash: Self.hash(oldKeys[i]))
    }
    oldKeys.deallocate()
    oldValues.deallocate()
  }
}

/// A level's keys split by hash into shards, so each core can insert into its own shard.
final class ShardedKeyIndex: @unchecked Sendable {
  let shards: [KeyIndexTable]
  let shardBits: Int

  init(shardBits: Int, expected: Int) {
    self.shardBits = shardBits
    let n = 1 << shardBits
    shards = (0..<n).map { _ in KeyIndexTable(expected: expected / n + 16) }
  }

  @inlinable
  func shard(ofHash h: UInt64) -> Int { shardBits == 0 ? 0 : Int(h >> UInt64(64 - shardBits)) }

  @inlinable
  func find(_ key: UInt128, hash: UInt64) -> UInt32? { shards[shard(ofHash: hash)].find(key, hash: hash) }

  var count: Int { shards.reduce(0) { $0 + $1.count } }
  var storageBytes: Int { shards.reduce(0) { $0 + $1.storageBytes } }
}
