import CPrefetch
import Dispatch

/// A sparse matrix in compressed rows: the Liouvillian between two sector blocks.
///
/// A Liouvillian has few distinct elements (a Hamiltonian coefficient times a sign and a ratio
/// of orbit sizes), so when there are at most 65,536 of them each element is stored as a
/// 2-byte index into `table`: 6 bytes per element with its column instead of 12, and the
/// product that dominates each Lanczos step moves half the bytes.
public struct SparseRows: Sendable {
  public var rowStart: [Int]
  public var columns: [Int32]
  /// Element values, when not compacted.
  public var values: [Double]
  /// Compacted: element k is `table[Int(index[k])]`.
  public var index: [UInt16]
  public var table: [Double]

  public init(rowStart: [Int], columns: [Int32], values: [Double]) {
    self.rowStart = rowStart
    self.columns = columns
    self.values = values
    self.index = []
    self.table = []
  }

  /// Builds `rows` rows on all cores.
  ///
  /// `contributions(row, add)` calls `add(column, value)` once per contribution; repeated
  /// columns are summed, exact zeros dropped, columns sorted.
  static func build(
    rows: Int, progress: SetupProgress? = nil,
    contributions: @Sendable @escaping (Int, (Int32, Double) -> Void) -> Void
  ) -> SparseRows {
    let chunks = max(1, min(32, rows / 2048))
    let results = ChunkResults<SparseRowsAppender>(count: chunks)
    let counter = ProgressCounter(total: chunks, report: progress)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      var part = SparseRowsAppender()
      var entries: [(Int32, Double)] = []
      for row in rows * c / chunks..<rows * (c + 1) / chunks {
        entries.removeAll(keepingCapacity: true)
        contributions(row) { column, value in entries.append((column, value)) }
        part.append(row: &entries)
      }
      results.set(c, part)
      counter?.complete()
    }
    var merged = SparseRowsAppender()
    for c in 0..<chunks {
      guard let part = results.get(c) else { preconditionFailure("chunk \(c) has no rows: every worker stores its chunk's") }
      merged.append(contentsOf: part)
    }
    return merged.finish()
  }

  var isCompact: Bool { !table.isEmpty }

  /// The same matrix with every element negated: rows, columns and indices are shared.
  func negated() -> SparseRows {
    var m = self
    if isCompact { m.table = table.map { -$0 } } else { m.values = values.map { -$0 } }
    return m
  }

  /// Every element's value, whichever way it is stored.
  public var expandedValues: [Double] { isCompact ? index.map { table[Int($0)] } : values }

  public var rowCount: Int { rowStart.count - 1 }
  public var nonzeros: Int { columns.count }
  public var storageBytes: Int {
    rowStart.count * 8 + columns.count * 4 + values.count * 8 + index.count * 2 + table.count * 8
  }

  /// `output[r] = sum_k values[k] * input[columns[k]]` over the rows `rows`.
  ///
  /// With `perturbation` > 0, element `k` is scaled by `1 + perturbation * u_k`, with `u_k` in
  /// [-1, 1) a hash of `k`: a fixed, reproducible nearby operator at no memory cost.
  func multiply(
    rows: Range<Int>, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double
  ) {
    let scale = perturbation * 0x1p-52
    let limit = Int32(clamping: input.count)
    withElements { start, cols, value in
      for r in rows {
        var acc = 0.0
        // Columns are sorted; those past the input's prefix multiply zeros.
        if perturbation == 0 {
          for k in start[r]..<start[r + 1] {
            if cols[k] >= limit { break }
            acc += value(k) * input[Int(cols[k])]
          }
        } else {
          for k in start[r]..<start[r + 1] {
            if cols[k] >= limit { break }
            acc += value(k) * ProbePerturbation.factor(k, scale: scale) * input[Int(cols[k])]
          }
        }
        output[r] = acc
      }
    }
  }

  /// Both runs at once over `rows`: the first input through the exact matrix, the second through the perturbed one.
  ///
  /// This is `multiply` with and without `perturbation`, in one pass. `interleaved` holds the two
  /// inputs entry by entry: the random reads of the product, which bound its speed once the
  /// vectors leave the cache, fetch both runs' entries at once.
  func multiplyPair(
    rows: Range<Int>, interleaved: UnsafeBufferPointer<Double>,
    outputs: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>), perturbation: Double
  ) {
    let scale = perturbation * 0x1p-52
    // Buffer subscripts are unchecked in release builds, as pointer ones are.
    let x = interleaved
    let limit = Int32(clamping: interleaved.count / 2)
    withElements { start, cols, value in
      // The input entries `ahead` elements on are asked for now (in range: columns past the
      // prefix are never read, but their lines may be fetched).
      let ahead = 64
      let lastAhead = cols.count - 1 - ahead
      for r in rows {
        var accA = 0.0
        var accB = 0.0
        for k in start[r]..<start[r + 1] {
          if k <= lastAhead, let base = x.baseAddress {
            krylov_prefetch(base + 2 * Int(min(cols[k + ahead], limit &- 1)))
          }
          if cols[k] >= limit { break }
          let c = 2 * Int(cols[k])
          let v = value(k)
          accA += v * x[c]
          accB += v * ProbePerturbation.factor(k, scale: scale) * x[c + 1]
        }
        outputs.0[r] = accA
        outputs.1[r] = accB
      }
    }
  }

  /// Calls `body` with the row starts, the columns and an element reader for either storage.
  @inline(__always)
  private func withElements(
    _ body: (UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int32>, (Int) -> Double) -> Void
  ) {
    rowStart.withUnsafeBufferPointer { start in
      columns.withUnsafeBufferPointer { cols in
        if isCompact {
          index.withUnsafeBufferPointer { idx in
            table.withUnsafeBufferPointer { tab in
              body(start, cols) { tab[Int(idx[$0])] }
            }
          }
        } else {
          values.withUnsafeBufferPointer { vals in
            body(start, cols) { vals[$0] }
          }
        }
      }
    }
  }
}

/// Sparse rows appended one at a time, compacted as they come (see `SparseRows`).
struct SparseRowsAppender: Sendable {
  private var rowStart: [Int] = [0]
  private var columns: [Int32] = []
  private var index: [UInt16] = []
  private var values: [Double] = []
  private var table: [Double] = []
  private var lookup: [UInt64: UInt16] = [:]
  /// A direct-mapped cache in front of `lookup`: the few distinct values repeat constantly.
  private var cacheKeys = [UInt64](repeating: 0, count: 256)
  private var cacheValues = [UInt16](repeating: UInt16.max, count: 256)
  private var compact = true

  var rowCount: Int { rowStart.count - 1 }
  var elementCount: Int { columns.count }

  /// Sums repeated columns, drops exact zeros, sorts, appends.
  mutating func append(row entries: inout [(Int32, Double)]) {
    entries.sort { $0.0 < $1.0 }
    var i = 0
    while i < entries.count {
      let col = entries[i].0
      var v = entries[i].1
      i += 1
      while i < entries.count && entries[i].0 == col {
        v += entries[i].1
        i += 1
      }
      guard v != 0 else { continue }
      columns.append(col)
      appendValue(v)
    }
    rowStart.append(columns.count)
  }

  private mutating func appendValue(_ v: Double) {
    guard compact else {
      values.append(v)
      return
    }
    let bits = v.bitPattern
    let slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 56)
    if cacheValues[slot] != UInt16.max && cacheKeys[slot] == bits {
      index.append(cacheValues[slot])
      return
    }
    guard let t = tableIndex(of: v) else {
      compact = false
      values = index.map { table[Int($0)] }
      values.append(v)
      index = []
      return
    }
    cacheKeys[slot] = bits
    cacheValues[slot] = t
    index.append(t)
  }

  /// Appends every row of `other`, after these.
  mutating func append(contentsOf other: SparseRowsAppender) {
    let offset = columns.count
    rowStart += other.rowStart.dropFirst().map { $0 + offset }
    columns += other.columns
    if compact && other.compact, let map = indices(of: other.table) {
      // Both compacted: translate the other's indices through a table as small as its values.
      let start = index.count
      index.append(contentsOf: repeatElement(0, count: other.index.count))
      index.withUnsafeMutableBufferPointer { target in
        other.index.withUnsafeBufferPointer { source in
          map.withUnsafeBufferPointer { map in
            for i in 0..<source.count { target[start + i] = map[Int(source[i])] }
          }
        }
      }
    } else if other.compact {
      for t in other.index { appendValue(other.table[Int(t)]) }
    } else {
      for v in other.values { appendValue(v) }
    }
  }

  /// This table's index of each of `values`, added where new; nil when they do not all fit
  /// (the table may then hold some of them unused).
  private mutating func indices(of values: [Double]) -> [UInt16]? {
    var map: [UInt16] = []
    map.reserveCapacity(values.count)
    for v in values {
      guard let t = tableIndex(of: v) else { return nil }
      map.append(t)
    }
    return map
  }

  /// The table's index of `v`, added if new; nil when the table is full.
  private mutating func tableIndex(of v: Double) -> UInt16? {
    if let known = lookup[v.bitPattern] { return known }
    guard table.count < 65_536 else { return nil }
    let t = UInt16(table.count)
    lookup[v.bitPattern] = t
    table.append(v)
    return t
  }

  /// Room for `rows` more rows of `elements` elements in all: appending a level's rows to a
  /// large block then costs no regrowing copy of the block.
  mutating func reserveCapacity(rows: Int, elements: Int) {
    rowStart.reserveCapacity(rowStart.count + rows)
    columns.reserveCapacity(columns.count + elements)
    if compact { index.reserveCapacity(index.count + elements) } else { values.reserveCapacity(values.count + elements) }
  }

  /// The negated transpose: rows of elements that were reached but never expanded.
  ///
  /// Returns the rows of `count` basis elements numbered from `firstColumn` on, in consecutive
  /// parts to append in order, read off the entries that rows `sourceRows` of `source` have in
  /// those columns: an antisymmetric Liouvillian has (q|L|r) = −(r|L|q). Row q lists the source
  /// rows r in ascending order (sorted columns, as `append(row:)` leaves them). The work goes in
  /// passes over column ranges, on every core, so the transient arrays stay a fraction of the
  /// result.
  static func negatedTranspose(
    of source: SparseRowsAppender, rows sourceRows: Range<Int>, firstColumn: Int, count: Int
  ) -> [SparseRowsAppender] {
    // Where each source row's entries in the transposed columns begin (columns are sorted).
    var tailStart = [Int](repeating: 0, count: sourceRows.count)
    var total = 0
    for (i, r) in sourceRows.enumerated() {
      var k = source.rowStart[r + 1]
      while k > source.rowStart[r] && Int(source.columns[k - 1]) >= firstColumn { k -= 1 }
      tailStart[i] = k
      total += source.rowStart[r + 1] - k
    }
    let passes = max(1, min(count, total / (1 << 22)))
    let parts = ChunkResults<SparseRowsAppender>(count: passes)
    let tails = tailStart
    DispatchQueue.concurrentPerform(iterations: passes) { pass in
      var result = SparseRowsAppender()
      let lo = firstColumn + count * pass / passes
      let hi = firstColumn + count * (pass + 1) / passes
      var starts = [Int](repeating: 0, count: hi - lo + 1)
      for (i, r) in sourceRows.enumerated() {
        for k in tails[i]..<source.rowStart[r + 1] {
          let c = Int(source.columns[k])
          if c >= hi { break }
          if c >= lo { starts[c - lo + 1] += 1 }
        }
      }
      for q in 0..<(hi - lo) { starts[q + 1] += starts[q] }
      var next = starts
      var transposedColumns = [Int32](repeating: 0, count: starts[hi - lo])
      var transposedValues = [Double](repeating: 0, count: starts[hi - lo])
      for (i, r) in sourceRows.enumerated() {
        for k in tails[i]..<source.rowStart[r + 1] {
          let c = Int(source.columns[k])
          if c >= hi { break }
          guard c >= lo else { continue }
          transposedColumns[next[c - lo]] = Int32(r)
          transposedValues[next[c - lo]] = -source.value(k)
          next[c - lo] += 1
        }
      }
      result.reserveCapacity(rows: hi - lo, elements: starts[hi - lo])
      for q in 0..<(hi - lo) {
        for p in starts[q]..<starts[q + 1] {
          result.columns.append(transposedColumns[p])
          result.appendValue(transposedValues[p])
        }
        result.rowStart.append(result.columns.count)
      }
      parts.set(pass, result)
    }
    return (0..<passes).map { pass in
      guard let part = parts.get(pass) else { preconditionFailure("pass \(pass) has no rows: every pass stores its own") }
      return part
    }
  }

  private func value(_ k: Int) -> Double { compact ? table[Int(index[k])] : values[k] }

  func finish() -> SparseRows {
    var rows = SparseRows(rowStart: rowStart, columns: columns, values: compact ? [] : values)
    if compact {
      rows.index = index
      rows.table = table.isEmpty ? [0] : table
    }
    return rows
  }
}
