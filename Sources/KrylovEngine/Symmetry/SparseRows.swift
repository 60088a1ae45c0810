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

  /// Builds `rows` rows on all cores. `contributions(row, add)` calls `add(column, value)` once
  /// per contribution; repeated columns are summed, exact zeros dropped, columns sorted.
  static func build(
    rows: Int, contributions: @Sendable @escaping (Int, (Int32, Double) -> Void) -> Void
  ) -> SparseRows {
    let chunks = max(1, min(32, rows / 2048))
    let results = ChunkResults<SparseRows>(count: chunks)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      let lo = rows * c / chunks
      let hi = rows * (c + 1) / chunks
      var part = SparseRows(rowStart: [0], columns: [], values: [])
      part.rowStart.reserveCapacity(hi - lo + 1)
      var entries: [(Int32, Double)] = []
      for row in lo..<hi {
        entries.removeAll(keepingCapacity: true)
        contributions(row) { column, value in
          if let j = entries.firstIndex(where: { $0.0 == column }) {
            entries[j].1 += value
          } else {
            entries.append((column, value))
          }
        }
        entries.sort { $0.0 < $1.0 }
        for (column, value) in entries where value != 0 {
          part.columns.append(column)
          part.values.append(value)
        }
        part.rowStart.append(part.columns.count)
      }
      part.compact()
      results.set(c, part)
    }
    var merged = SparseRows(rowStart: [0], columns: [], values: [])
    let parts = (0..<chunks).map { results.get($0)! }
    merged.rowStart.reserveCapacity(rows + 1)
    merged.columns.reserveCapacity(parts.reduce(0) { $0 + $1.columns.count })
    for part in parts {
      let offset = merged.columns.count
      merged.rowStart += part.rowStart.dropFirst().map { $0 + offset }
      merged.columns += part.columns
    }
    // One table for all chunks, if the union still fits 2-byte indices.
    var union: [Double: UInt16] = [:]
    var table: [Double] = []
    var compactable = parts.allSatisfy { !$0.table.isEmpty || $0.columns.isEmpty }
    if compactable {
      for part in parts {
        for v in part.table where union[v] == nil {
          guard table.count < 65_536 else {
            compactable = false
            break
          }
          union[v] = UInt16(table.count)
          table.append(v)
        }
        if !compactable { break }
      }
    }
    if compactable {
      merged.table = table
      merged.index.reserveCapacity(merged.columns.count)
      for part in parts {
        let remap = part.table.map { union[$0]! }
        merged.index += part.index.map { remap[Int($0)] }
      }
    } else {
      merged.values.reserveCapacity(merged.columns.count)
      for part in parts { merged.values += part.expandedValues }
    }
    return merged
  }

  /// Replaces `values` by `index` + `table` when there are at most 65,536 distinct values.
  mutating func compact() {
    var seen: [Double: UInt16] = [:]
    var table: [Double] = []
    var index: [UInt16] = []
    index.reserveCapacity(values.count)
    for v in values {
      if let i = seen[v] {
        index.append(i)
      } else {
        guard table.count < 65_536 else { return }
        seen[v] = UInt16(table.count)
        index.append(UInt16(table.count))
        table.append(v)
      }
    }
    if values.isEmpty { table = [0] }
    self.table = table
    self.index = index
    values = []
  }

  var isCompact: Bool { !table.isEmpty }

  /// Every element's value, whichever way it is stored.
  public var expandedValues: [Double] { isCompact ? index.map { table[Int($0)] } : values }

  public var rowCount: Int { rowStart.count - 1 }
  public var nonzeros: Int { columns.count }
  public var storageBytes: Int {
    rowStart.count * 8 + columns.count * 4 + values.count * 8 + index.count * 2 + table.count * 8
  }

  /// The relative perturbation of element k in the probe: a fixed hash of k in [-p, p).
  @inline(__always)
  static func perturbationFactor(_ k: Int, scale: Double) -> Double {
    let h = (UInt64(k) &+ 0x9E37_79B9) &* 0x9E37_79B9_7F4A_7C15
    return 1 + Double(Int64(bitPattern: h) >> 11) * scale
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
            acc += value(k) * Self.perturbationFactor(k, scale: scale) * input[Int(cols[k])]
          }
        }
        output[r] = acc
      }
    }
  }

  /// Both runs at once over `rows`: the first input through the exact matrix, the second
  /// through the perturbed one (`multiply` with and without `perturbation`, in one pass).
  /// `interleaved` holds the two inputs entry by entry: the random reads of the product, which
  /// bound its speed once the vectors leave the cache, fetch both runs' entries at once.
  func multiplyPair(
    rows: Range<Int>, interleaved: UnsafeBufferPointer<Double>,
    outputs: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>), perturbation: Double
  ) {
    let scale = perturbation * 0x1p-52
    let x = interleaved.baseAddress!
    let limit = Int32(clamping: interleaved.count / 2)
    withElements { start, cols, value in
      for r in rows {
        var accA = 0.0
        var accB = 0.0
        for k in start[r]..<start[r + 1] {
          if cols[k] >= limit { break }
          let c = 2 * Int(cols[k])
          let v = value(k)
          accA += v * x[c]
          accB += v * Self.perturbationFactor(k, scale: scale) * x[c + 1]
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
