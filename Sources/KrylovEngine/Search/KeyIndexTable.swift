/// An open-addressing hash table from nonzero 128-bit keys to 32-bit indices.
///
/// Written by one thread at a time, read by many: the breadth-first search (`LevelSearch`) fills
/// one table per level and looks keys up from every core while no thread writes. Linear
/// probing with the load kept at most one half; key 0 marks an empty slot (no basis element
/// has key 0: it is the identity string, or the constant function of classical spins).
final class KeyIndexTable: @unchecked Sendable {
  // Unchecked: one writer at a time by construction (see the type's comment), and the dynamic
  // exclusivity checks cost more than the probes.
  @exclusivity(unchecked) private(set) var keys: UnsafeMutableBufferPointer<UInt128>
  @exclusivity(unchecked) private(set) var values: UnsafeMutableBufferPointer<UInt32>
  @exclusivity(unchecked) private(set) var count = 0
  @exclusivity(unchecked) private(set) var mask: Int

  init(expected: Int) {
    var capacity = 16
    while capacity < 2 * max(expected, 1) { capacity <<= 1 }
    keys = HugePageMemory.allocateZeroed(UInt128.self, count: capacity)
    values = HugePageMemory.allocateZeroed(UInt32.self, count: capacity)
    mask = capacity - 1
  }

  deinit {
    HugePageMemory.deallocate(keys)
    HugePageMemory.deallocate(values)
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

  /// Replaces every stored value v by `transform(v)`: one pass over the slots, when every key
  /// in the table was inserted in the same round.
  func mapAllValues(_ transform: (UInt32) -> UInt32) {
    for i in 0..<keys.count where keys[i] != 0 { values[i] = transform(values[i]) }
  }

  /// Sets the value of `key`, which is present.
  func setValue(_ value: UInt32, of key: UInt128, hash: UInt64) {
    var slot = Int(truncatingIfNeeded: hash) & mask
    while keys[slot] != key { slot = (slot + 1) & mask }
    values[slot] = value
  }

  private func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = oldKeys.count * 2
    keys = HugePageMemory.allocateZeroed(UInt128.self, count: capacity)
    values = HugePageMemory.allocateZeroed(UInt32.self, count: capacity)
    mask = capacity - 1
    count = 0
    for i in 0..<oldKeys.count where oldKeys[i] != 0 {
      insert(oldKeys[i], value: oldValues[i], hash: Self.hash(oldKeys[i]))
    }
    HugePageMemory.deallocate(oldKeys)
    HugePageMemory.deallocate(oldValues)
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

  /// Looks up a batch: `results[i]` = index of `queries[i]`, or `UInt32.max` if absent.
  ///
  /// With `onlyMissing`, entries already found (not `.max`) are left alone.
  ///
  /// The first probe of every key is loaded in one pass before any is examined: the loads are
  /// independent, so the processor overlaps their cache misses (the tables are far larger than
  /// the cache, and these misses are most of the enumeration's time).
  func find(
    batch queries: UnsafeBufferPointer<UInt128>, hashes: UnsafeBufferPointer<UInt64>,
    results: UnsafeMutableBufferPointer<UInt32>, firstKeys: UnsafeMutableBufferPointer<UInt128>, onlyMissing: Bool
  ) {
    withUnsafeTemporaryAllocation(of: Int.self, capacity: max(queries.count, 1)) { open in
      var m = 0
      for i in 0..<queries.count where !onlyMissing || results[i] == .max {
        open[m] = i
        m += 1
      }
      for t in 0..<m {
        let i = open[t]
        let table = shards[shard(ofHash: hashes[i])]
        let slot = Int(truncatingIfNeeded: hashes[i]) & table.mask
        firstKeys[i] = table.keys[slot]
        results[i] = table.values[slot]
      }
      for t in 0..<m {
        let i = open[t]
        let key = queries[i]
        if firstKeys[i] == key { continue }
        if firstKeys[i] == 0 {
          results[i] = .max
          continue
        }
        results[i] = shards[shard(ofHash: hashes[i])].find(key, hash: hashes[i]) ?? .max
      }
    }
  }

  var count: Int { shards.reduce(0) { $0 + $1.count } }
  var storageBytes: Int { shards.reduce(0) { $0 + $1.storageBytes } }
}
