import Dispatch
import Foundation

/// A classical Krylov basis in breadth-first order, and the Liouvillian on it.
///
/// Level 0 holds the operator's terms; level n + 1 holds the elements first reached by applying
/// L to level n. Krylov vector n lies in the levels ≤ n, so ordering each block by level puts it
/// in a prefix of the block. L is antisymmetric, so the image of level n lies in levels n − 1,
/// n and n + 1 (an element two levels down would have reached level n earlier): each level is
/// looked up only in the one or two tables before it. With parity blocks (H even under
/// S^y → −S^y on every site, which reverses Poisson brackets) L flips the parity, so levels
/// alternate between the two blocks and the image of level n lies in levels n ± 1 only.
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

enum ClassicalBasisBuilder {
  /// Per-thread merge of one column's contributions: sums values per key and tracks Σ|parts|,
  /// so a sum that cancels to rounding (an analytically zero element) can be dropped.
  struct ColumnMerger {
    var keys: [UInt128]
    var values: [Double]
    var magnitudes: [Double]
    var used: [Int] = []
    var mask: Int

    init() {
      keys = [UInt128](repeating: 0, count: 1024)
      values = [Double](repeating: 0, count: 1024)
      magnitudes = [Double](repeating: 0, count: 1024)
      mask = 1023
    }

    mutating func add(_ key: UInt128, _ value: Double) {
      if 2 * (used.count + 1) > keys.count { grow() }
      var slot = Int(truncatingIfNeeded: KeyIndexTable.hash(key)) & mask
      while true {
        let k = keys[slot]
        if k == key {
          values[slot] += value
          magnitudes[slot] += abs(value)
          return
        }
        if k == 0 {
          keys[slot] = key
          values[slot] = value
          magnitudes[slot] = abs(value)
          used.append(slot)
          return
        }
        slot = (slot + 1) & mask
      }
    }

    /// Calls `body` for each kept (key, value) in first-seen order, then empties the merger.
    mutating func drain(_ body: (UInt128, Double) -> Void) {
      for slot in used {
        if abs(values[slot]) > 1e-13 * magnitudes[slot] { body(keys[slot], values[slot]) }
        keys[slot] = 0
      }
      used.removeAll(keepingCapacity: true)
    }

    private mutating func grow() {
      let old = used.map { (keys[$0], values[$0], magnitudes[$0]) }
      let capacity = keys.count * 2
      keys = [UInt128](repeating: 0, count: capacity)
      values = [Double](repeating: 0, count: capacity)
      magnitudes = [Double](repeating: 0, count: capacity)
      mask = capacity - 1
      used.removeAll(keepingCapacity: true)
      for (k, v, m) in old {
        var slot = Int(truncatingIfNeeded: KeyIndexTable.hash(k)) & mask
        while keys[slot] != 0 { slot = (slot + 1) & mask }
        keys[slot] = k
        values[slot] = v
        magnitudes[slot] = m
        used.append(slot)
      }
    }
  }

  /// One chunk's share of a level: its columns, and the entries whose rows are new elements.
  final class Chunk: @unchecked Sendable {
    var columns = SparseColumns()
    var pendingEntry: [Int] = []
    var pendingKey: [UInt128] = []
    var pendingHash: [UInt64] = []
    /// Shard-local index of each pending key, filled by the shard that owns it.
    var pendingLocal: UnsafeMutableBufferPointer<UInt32> = .init(start: nil, count: 0)
    deinit { pendingLocal.deallocate() }
  }

  /// Enumerates levels 0...levels and the columns of levels 0..<levels.
  ///
  /// - Parameters:
  ///   - initial: the operator's coefficients on canonical keys (merged, nonzero).
  ///   - parityBlocks: whether L flips a parity, so levels alternate between two blocks.
  ///   - levelCap: stop early once a level holds more elements than this (a pilot run for the
  ///     memory estimate); the basis then has fewer levels than asked.
  static func build<E: ClassicalLiouvillianExpander>(
    expander: E, initial: [(key: UInt128, value: Double)], levels: Int, parityBlocks: Bool,
    levelCap: Int = .max, cores: Int = ProcessInfo.processInfo.activeProcessorCount
  ) -> ClassicalBasis {
    let start = DispatchTime.now()
    let blockCount = parityBlocks ? 2 : 1
    let shardBits = cores <= 1 ? 0 : (cores <= 2 ? 1 : (cores <= 4 ? 2 : 3))
    var blockTotals = [Int](repeating: 0, count: blockCount)
    var columns = [SegmentedColumns](repeating: SegmentedColumns(), count: blockCount)
    var levelNonzeros: [Int] = []
    var levelSizes: [Int] = []
    var levelBlocks: [Int] = []
    var levelEnds: [Int] = []
    var tables: [Int: ShardedKeyIndex] = [:]

    // Level 0: the operator's terms.
    let level0 = ShardedKeyIndex(shardBits: 0, expected: initial.count)
    var current: [UInt128] = []
    var vector: [Double] = []
    for (key, value) in initial {
      let (index, inserted) = level0.shards[0].insert(key, value: UInt32(current.count), hash: KeyIndexTable.hash(key))
      if inserted {
        current.append(key)
        vector.append(value)
      } else {
        vector[Int(index)] += value
      }
    }
    tables[0] = level0
    levelSizes.append(current.count)
    levelBlocks.append(0)
    blockTotals[0] = current.count
    levelEnds.append(current.count)

    for n in 0..<levels {
      if current.count > levelCap { break }
      let sourceBlock = levelBlocks[n]
      let targetBlock = (sourceBlock + 1) % blockCount
      let lookIn: [ShardedKeyIndex] = (parityBlocks ? [n - 1] : [n - 1, n]).compactMap { tables[$0] }
      let levelKeys = current
      let chunkCount = max(1, min(levelKeys.count / 256, 16 * cores))
      let chunks = (0..<chunkCount).map { _ in Chunk() }
      // Reserve what the previous level needed per column, plus a margin: no regrowing copies.
      let expectedPerColumn = n == 0 ? 8.0 : 1.15 * Double(levelNonzeros[n - 1]) / Double(max(1, levelSizes[n - 1]))

      // Phase 1: images of this level, rows of known elements resolved, new keys set aside.
      DispatchQueue.concurrentPerform(iterations: chunkCount) { c in
        let chunk = chunks[c]
        var merger = ColumnMerger()
        let lo = levelKeys.count * c / chunkCount
        let hi = levelKeys.count * (c + 1) / chunkCount
        // Local arrays, handed to the chunk at the end: no shared state in the loop.
        var columnStart: [Int] = [0]
        columnStart.reserveCapacity(hi - lo + 1)
        var rows: [UInt32] = []
        var values: [Double] = []
        rows.reserveCapacity(Int(Double(hi - lo) * expectedPerColumn))
        values.reserveCapacity(Int(Double(hi - lo) * expectedPerColumn))
        var pendingEntry: [Int] = []
        var pendingKey: [UInt128] = []
        var pendingHash: [UInt64] = []
        var batchKeys: [UInt128] = []
        var batchValues: [Double] = []
        var batchHashes: [UInt64] = []
        var batchRows: [UInt32] = []
        var batchFirst: [UInt128] = []
        for i in lo..<hi {
          expander.expand(levelKeys[i]) { key, value in merger.add(key, value) }
          // The column's distinct keys, looked up as a batch (see KeyIndexTable.find(batch:)).
          batchKeys.removeAll(keepingCapacity: true)
          batchValues.removeAll(keepingCapacity: true)
          merger.drain { key, value in
            batchKeys.append(key)
            batchValues.append(value)
          }
          let count = batchKeys.count
          if batchHashes.count < count {
            batchHashes = [UInt64](repeating: 0, count: 2 * count)
            batchRows = [UInt32](repeating: 0, count: 2 * count)
            batchFirst = [UInt128](repeating: 0, count: 2 * count)
          }
          for j in 0..<count { batchHashes[j] = KeyIndexTable.hash(batchKeys[j]) }
          for j in 0..<count { batchRows[j] = .max }
          for table in lookIn {
            batchKeys.withUnsafeBufferPointer { queries in
              batchHashes.withUnsafeBufferPointer { hashes in
                batchRows.withUnsafeMutableBufferPointer { results in
                  batchFirst.withUnsafeMutableBufferPointer { first in
                    table.find(
                      batch: UnsafeBufferPointer(rebasing: queries[0..<count]),
                      hashes: UnsafeBufferPointer(rebasing: hashes[0..<count]), results: results, firstKeys: first,
                      onlyMissing: table !== lookIn[0])
                  }
                }
              }
            }
          }
          for j in 0..<count {
            if batchRows[j] != .max {
              rows.append(batchRows[j])
            } else {
              pendingEntry.append(rows.count)
              pendingKey.append(batchKeys[j])
              pendingHash.append(batchHashes[j])
              rows.append(0)
            }
            values.append(batchValues[j])
          }
          columnStart.append(rows.count)
        }
        chunk.columns = SparseColumns(columnStart: columnStart, rows: rows, values: values)
        chunk.pendingEntry = pendingEntry
        chunk.pendingKey = pendingKey
        chunk.pendingHash = pendingHash
        chunk.pendingLocal = .allocate(capacity: pendingKey.count)
      }

      // Phase 2: each shard numbers its new keys, reading the chunks in order (deterministic).
      let pendingTotal = chunks.reduce(0) { $0 + $1.pendingKey.count }
      // Sized for the level's growth so far (pending keys repeat each new key several times);
      // the tables grow if that is short.
      let growth = n == 0 ? 4.0 : 1.2 * Double(levelSizes[n]) / Double(max(1, levelSizes[n - 1]))
      let next = ShardedKeyIndex(
        shardBits: shardBits, expected: min(pendingTotal, Int(Double(levelKeys.count) * max(growth, 1)) + 16))
      let shardCount = 1 << shardBits
      let shardKeys = ChunkResults<[UInt128]>(count: shardCount)
      DispatchQueue.concurrentPerform(iterations: shardCount) { s in
        let table = next.shards[s]
        var keys: [UInt128] = []
        for chunk in chunks {
          for i in 0..<chunk.pendingKey.count where next.shard(ofHash: chunk.pendingHash[i]) == s {
            let (local, inserted) = table.insert(chunk.pendingKey[i], value: UInt32(keys.count), hash: chunk.pendingHash[i])
            if inserted { keys.append(chunk.pendingKey[i]) }
            chunk.pendingLocal[i] = local
          }
        }
        shardKeys.set(s, keys)
      }
      var bases = [Int](repeating: 0, count: shardCount)
      var running = blockTotals[targetBlock]
      for s in 0..<shardCount {
        bases[s] = running
        running += shardKeys.get(s)!.count
      }
      let shardBase = bases
      precondition(running < Int(UInt32.max), "classical chain: more basis elements than 32-bit indices hold")

      // Phase 3: global indices in the new table and in the pending rows.
      DispatchQueue.concurrentPerform(iterations: max(shardCount, chunkCount)) { i in
        if i < shardCount { next.shards[i].shiftValues(by: UInt32(shardBase[i])) }
        if i < chunkCount {
          let chunk = chunks[i]
          chunk.columns.rows.withUnsafeMutableBufferPointer { rows in
            for p in 0..<chunk.pendingEntry.count {
              let s = next.shard(ofHash: chunk.pendingHash[p])
              rows[chunk.pendingEntry[p]] = UInt32(shardBase[s]) + chunk.pendingLocal[p]
            }
          }
        }
      }
      for chunk in chunks where chunk.columns.columnCount > 0 { columns[sourceBlock].segments.append(chunk.columns) }
      levelNonzeros.append(chunks.reduce(0) { $0 + $1.columns.nonzeros })

      current = (0..<shardCount).flatMap { shardKeys.get($0)! }
      tables[n + 1] = next
      tables[n - 1] = nil  // no later level reaches back this far
      levelSizes.append(current.count)
      levelBlocks.append(targetBlock)
      blockTotals[targetBlock] += current.count
      levelEnds.append(blockTotals[targetBlock])
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return ClassicalBasis(
      levelSizes: levelSizes, levelBlocks: levelBlocks, levelEnds: levelEnds, blockDimensions: blockTotals,
      levelNonzeros: levelNonzeros, columns: columns, initialBlock: 0, initialVector: vector, buildSeconds: seconds)
  }
}
