import Dispatch
import Foundation

/// Why a breadth-first search stopped short.
public enum LevelSearchError: Error, CustomStringConvertible {
  case tooManyElements
  case cancelled
  public var description: String {
    switch self {
    case .tooManyElements: "the breadth-first search reached more basis elements than 32-bit indices hold"
    case .cancelled: "the set-up was cancelled"
    }
  }
}

/// What the breadth-first search needs from a space: the image of one basis element under the
/// Liouvillian.
public protocol LevelExpander: Sendable {
  /// Calls `emit(key, value)` for each contribution to L e_key: `value` is the matrix element's
  /// share. Contributions to one key are not summed; key 0 is never a basis element.
  func expand(_ key: UInt128, _ emit: (UInt128, Double) -> Void) throws
}

/// The breadth-first search over the basis elements a Liouvillian reaches from an operator,
/// and the images of those elements: shared by the quantum infinite chain (translation classes
/// of Pauli strings) and classical spins (products of spherical harmonics).
///
/// Level 0 holds the operator's elements; level n + 1 those first reached by applying L to
/// level n. Krylov vector n lies in the levels ≤ n, so ordering each block by level puts it in
/// a prefix of the block. L is antisymmetric, so the image of level n lies in levels n − 1, n
/// and n + 1 (an element two levels down would have reached level n earlier): each level's
/// image is looked up only in the tables of the levels beside it, and older tables are freed.
/// With parity blocks (L flips a parity) levels alternate between the two blocks and the image
/// of level n lies in levels n ± 1 only.
///
/// Images are computed on every core. New elements are numbered in the order they are first
/// reached, by shards of the hash table on their own cores (`numberNewKeys`): the basis order,
/// and so every b_n, is the same on any number of cores and shards. That order also keeps an
/// element's neighbours near it in the basis, which the product's reads need.
public struct LevelSearch<Expander: LevelExpander>: Sendable {
  public let expander: Expander
  public let parityBlocks: Bool
  /// Shards of each level's hash table, each filled on its own core: a power of two.
  ///
  /// The basis order does not depend on it.
  public var numberingShards = 2
  /// A merged matrix element with |value| ≤ `cancellation` · Σ|parts| is dropped (0: exact
  /// zeros only).
  public var cancellation = 1e-13
  /// Elements expanded at once: bounds the transient lists of a large level.
  public var sliceSize = Int.max
  public var cores = ProcessInfo.processInfo.activeProcessorCount
  /// Polled between slices and every few thousand elements: true stops the search with
  /// `LevelSearchError.cancelled` (a set-up can take minutes; Ctrl-C must not wait for it).
  public var isCancelled: @Sendable () -> Bool = { false }

  public init(expander: Expander, parityBlocks: Bool) {
    self.expander = expander
    self.parityBlocks = parityBlocks
  }

  /// The search after each new level: what a memory guard or a pilot decides on.
  public struct Progress {
    /// Elements of each level so far.
    public var levelSizes: [Int]
    /// Entries of the images stored so far, and the elements they belong to.
    public var nonzeros: Int
    public var expanded: Int
    /// The keys of the level just numbered.
    public var newKeys: [UInt128]
  }

  /// The levels found; the images themselves went to `store` as they were made.
  public struct Levels {
    public var sizes: [Int]
    /// Block of each level (levels alternate with parity blocks; level 0 is in block 0).
    public var blocks: [Int]
    /// For level n: how many elements of its block have level ≤ n (the length of Krylov vector n).
    public var ends: [Int]
    public var blockDimensions: [Int]
    /// Entries of the images of each expanded level.
    public var nonzeros: [Int]
    /// The operator on level 0, merged per key.
    public var initialVector: [Double]
  }

  /// One chunk's share of a slice: its images, and the entries whose rows are new elements.
  private final class Chunk: @unchecked Sendable {
    var images = SparseColumns()
    var pendingEntry: [Int] = []
    var pendingKey: [UInt128] = []
    var pendingHash: [UInt64] = []
  }

  /// Enumerates levels 0 to `levels` (fewer if a level is empty or `afterLevel` says stop)
  /// and hands the images of levels 0 ..< `levels` to `store`, slice by slice in basis order.
  ///
  /// - Parameters:
  ///   - initial: the operator's coefficients per key (repeated keys are summed).
  ///   - store: receives (level, block, images): column j of each image matrix lists the
  ///     (index in the other block, value) of one element, the chunks in order.
  ///   - afterLevel: called once level 0 and then each new level is numbered; false stops.
  public func run(
    initial: [(key: UInt128, value: Double)], levels: Int,
    store: (_ level: Int, _ block: Int, _ images: [SparseColumns]) throws -> Void,
    afterLevel: (Progress) throws -> Bool
  ) throws -> Levels {
    precondition(numberingShards > 0 && numberingShards & (numberingShards - 1) == 0, "shards: a power of two")
    let blockCount = parityBlocks ? 2 : 1
    let shardBits = numberingShards.trailingZeroBitCount
    var blockTotals = [Int](repeating: 0, count: blockCount)
    var found = Levels(
      sizes: [], blocks: [], ends: [], blockDimensions: [], nonzeros: [], initialVector: [])
    var tables: [Int: ShardedKeyIndex] = [:]

    // Level 0: the operator's keys.
    let level0 = ShardedKeyIndex(shardBits: 0, expected: initial.count)
    var current: [UInt128] = []
    for (key, value) in initial {
      let (index, inserted) = level0.shards[0].insert(key, value: UInt32(current.count), hash: KeyIndexTable.hash(key))
      if inserted {
        current.append(key)
        found.initialVector.append(value)
      } else {
        found.initialVector[Int(index)] += value
      }
    }
    tables[0] = level0
    found.sizes.append(current.count)
    found.blocks.append(0)
    blockTotals[0] = current.count
    found.ends.append(current.count)
    var expanded = 0
    var proceed = try afterLevel(Progress(levelSizes: found.sizes, nonzeros: 0, expanded: 0, newKeys: current))

    var n = 0
    while proceed && n < levels {
      let sourceBlock = found.blocks[n]
      let targetBlock = (sourceBlock + 1) % blockCount
      let previous: [ShardedKeyIndex] = (parityBlocks ? [n - 1] : [n - 1, n]).compactMap { tables[$0] }
      let levelKeys = current
      var next: ShardedKeyIndex?
      var newKeys: [UInt128] = []
      var levelNonzeros = 0
      // Reserve what the previous level needed per column, plus a margin: no regrowing copies.
      let expectedPerColumn = n == 0 ? 8.0 : 1.15 * Double(found.nonzeros[n - 1]) / Double(max(1, found.sizes[n - 1]))
      var from = 0
      repeat {
        if isCancelled() { throw LevelSearchError.cancelled }
        let to = levelKeys.count - from > sliceSize ? from + sliceSize : levelKeys.count
        // Elements of this level numbered in earlier slices are found in `next`.
        let lookIn = previous + (next.map { $0.count > 0 ? [$0] : [] } ?? [])
        let chunks = try expandSlice(
          levelKeys[from..<to], lookIn: lookIn, expectedPerColumn: expectedPerColumn)

        // Number the new keys in the order they are first reached (chunk by chunk, entry by
        // entry), whatever the shards and cores: see `numberNewKeys`.
        let pendingTotal = chunks.reduce(0) { $0 + $1.pendingKey.count }
        if next == nil {
          // Sized for the level's growth so far (pending keys repeat each new key several
          // times); the tables grow if that is short.
          let growth = n == 0 ? 4.0 : 1.2 * Double(found.sizes[n]) / Double(max(1, found.sizes[n - 1]))
          next = ShardedKeyIndex(
            shardBits: shardBits, expected: min(pendingTotal, Int(Double(levelKeys.count) * max(growth, 1)) + 16))
        }
        guard let table = next else { preconditionFailure("the next level's table was just made") }
        newKeys += try numberNewKeys(
          chunks, in: table, firstIndex: blockTotals[targetBlock] + newKeys.count, tableWasEmpty: newKeys.isEmpty)
        let images = chunks.map(\.images)
        levelNonzeros += images.reduce(0) { $0 + $1.nonzeros }
        try store(n, sourceBlock, images)
        expanded += to - from
        from = to
      } while from < levelKeys.count

      found.nonzeros.append(levelNonzeros)
      tables[n - 1] = nil  // no later level reaches back this far
      n += 1
      tables[n] = next
      current = newKeys
      found.sizes.append(newKeys.count)
      found.blocks.append(targetBlock)
      blockTotals[targetBlock] += newKeys.count
      found.ends.append(blockTotals[targetBlock])
      proceed = try afterLevel(
        Progress(
          levelSizes: found.sizes, nonzeros: found.nonzeros.reduce(0, +), expanded: expanded, newKeys: newKeys))
      if newKeys.isEmpty { break }  // nothing new: the Krylov space closes
    }
    found.blockDimensions = blockTotals
    return found
  }

  /// Numbers a slice's new keys in the order they are first reached: chunk by chunk, entry by
  /// entry, as one thread reading the pending entries would, on `numberingShards` cores.
  ///
  /// Each shard, on its own core, inserts the pending keys its hash owns in that order, storing
  /// with each the position of its first occurrence; it writes what it found into an array of
  /// its own (shards writing side by side into one array would fight over its cache lines).
  /// A prefix count over the first occurrences (on every core) gives each its index; every
  /// pending entry, and every new key's slot, then takes the index of its key's first
  /// occurrence. Returns the new keys in index order.
  ///
  /// - Parameters:
  ///   - firstIndex: the index of the slice's first new key.
  ///   - tableWasEmpty: no slice has put keys in `table` before (a pass over the slots then
  ///     beats probing for each new key again).
  private func numberNewKeys(
    _ chunks: [Chunk], in table: ShardedKeyIndex, firstIndex: Int, tableWasEmpty: Bool
  ) throws -> [UInt128] {
    var chunkOffsets: [Int] = []
    var total = 0
    for chunk in chunks {
      chunkOffsets.append(total)
      total += chunk.pendingKey.count
    }
    let offsets = chunkOffsets
    guard total > 0 else { return [] }
    guard total < Int(UInt32.max) else { throw LevelSearchError.tooManyElements }
    let shards = table.shards.count
    // Raw memory, each written at disjoint positions: `firstSeen[s][p]`, the position of the
    // first occurrence of entry p's key when shard s owns it (else UInt32.max); `index[p]`, the
    // index of the key first seen at p.
    nonisolated(unsafe) let firstSeen = (0..<shards).map { _ in UnsafeMutableBufferPointer<UInt32>.allocate(capacity: total) }
    nonisolated(unsafe) let index = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: total)
    defer {
      for buffer in firstSeen { buffer.deallocate() }
      index.deallocate()
    }
    DispatchQueue.concurrentPerform(iterations: shards) { s in
      let shard = table.shards[s]
      let seen = firstSeen[s]
      seen.initialize(repeating: .max)
      for (c, chunk) in chunks.enumerated() {
        for i in 0..<chunk.pendingKey.count where table.shard(ofHash: chunk.pendingHash[i]) == s {
          let position = UInt32(offsets[c] + i)
          seen[Int(position)] = shard.insert(chunk.pendingKey[i], value: position, hash: chunk.pendingHash[i]).value
        }
      }
    }
    @Sendable func first(_ p: Int) -> Int {
      var f = firstSeen[0][p]
      for s in 1..<shards { f = min(f, firstSeen[s][p]) }
      return Int(f)
    }
    // The prefix count, over a few ranges of positions at once.
    let ranges = max(1, min(cores, total / 65_536))
    let bounds = (0...ranges).map { total * $0 / ranges }
    let counts = ChunkResults<Int>(count: ranges)
    DispatchQueue.concurrentPerform(iterations: ranges) { r in
      var count = 0
      for p in bounds[r]..<bounds[r + 1] where first(p) == p { count += 1 }
      counts.set(r, count)
    }
    var rangeStarts = [firstIndex]
    for r in 0..<ranges { rangeStarts.append(rangeStarts[r] + (counts.get(r) ?? 0)) }
    guard rangeStarts[ranges] < Int(Int32.max) else { throw LevelSearchError.tooManyElements }
    let starts = rangeStarts
    DispatchQueue.concurrentPerform(iterations: ranges) { r in
      var next = UInt32(starts[r])
      for p in bounds[r]..<bounds[r + 1] where first(p) == p {
        index[p] = next
        next += 1
      }
    }
    // Positions become indices: in the table, in the entries, and the keys in index order.
    let keysOfChunk = ChunkResults<[UInt128]>(count: chunks.count)
    DispatchQueue.concurrentPerform(iterations: max(shards, chunks.count)) { i in
      if i < shards {
        let shard = table.shards[i]
        if tableWasEmpty {
          shard.mapAllValues { index[Int($0)] }
        } else {
          for (c, chunk) in chunks.enumerated() {
            for j in 0..<chunk.pendingKey.count where firstSeen[i][offsets[c] + j] == UInt32(offsets[c] + j) {
              shard.setValue(index[offsets[c] + j], of: chunk.pendingKey[j], hash: chunk.pendingHash[j])
            }
          }
        }
      }
      if i < chunks.count {
        let chunk = chunks[i]
        var keys: [UInt128] = []
        chunk.images.rows.withUnsafeMutableBufferPointer { rows in
          for j in 0..<chunk.pendingEntry.count {
            let f = first(offsets[i] + j)
            rows[chunk.pendingEntry[j]] = index[f]
            if f == offsets[i] + j { keys.append(chunk.pendingKey[j]) }
          }
        }
        keysOfChunk.set(i, keys)
      }
    }
    return (0..<chunks.count).flatMap { keysOfChunk.get($0) ?? [] }
  }

  /// The images of one slice of a level, on every core: per chunk, each element's merged
  /// entries, rows of known elements resolved and new keys set aside.
  private func expandSlice(
    _ slice: ArraySlice<UInt128>, lookIn: [ShardedKeyIndex], expectedPerColumn: Double
  ) throws -> [Chunk] {
    let chunkCount = max(1, min(slice.count / 256, 16 * cores))
    let chunks = (0..<chunkCount).map { _ in Chunk() }
    let failure = ChunkResults<Error>(count: 1)
    let base = slice.startIndex
    let tolerance = cancellation
    DispatchQueue.concurrentPerform(iterations: chunkCount) { c in
      let chunk = chunks[c]
      var merger = ColumnMerger()
      let lo = base + slice.count * c / chunkCount
      let hi = base + slice.count * (c + 1) / chunkCount
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
      do {
        for i in lo..<hi {
          if (i - lo) & 4095 == 4095 && isCancelled() { throw LevelSearchError.cancelled }
          try expander.expand(slice[i]) { key, value in merger.add(key, value) }
          // The element's distinct keys, looked up as a batch (see ShardedKeyIndex.find(batch:)).
          batchKeys.removeAll(keepingCapacity: true)
          batchValues.removeAll(keepingCapacity: true)
          merger.drain(tolerance: tolerance) { key, value in
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
      } catch {
        failure.set(0, error)
      }
      chunk.images = SparseColumns(columnStart: columnStart, rows: rows, values: values)
      chunk.pendingEntry = pendingEntry
      chunk.pendingKey = pendingKey
      chunk.pendingHash = pendingHash
    }
    if let error = failure.get(0) { throw error }
    return chunks
  }
}
