/// A sparse matrix stored by columns: column j lists the rows that basis element j feeds.
///
/// The classical Liouvillian is built this way because the enumeration produces it this way
/// (one basis element at a time, its image under L), and a product by columns reads only the
/// input's leading entries: exactly the prefix a Krylov vector occupies.
public struct SparseColumns: Sendable {
  public var columnStart: [Int] = [0]
  public var rows: [UInt32] = []
  public var values: [Double] = []

  public init() {}

  init(columnStart: [Int], rows: [UInt32], values: [Double]) {
    self.columnStart = columnStart
    self.rows = rows
    self.values = values
  }

  public var columnCount: Int { columnStart.count - 1 }
  public var nonzeros: Int { values.count }
  public var storageBytes: Int { columnStart.count * 8 + rows.count * 4 + values.count * 8 }

  /// `output = A input`, reading the first `input.count` columns and writing every entry of
  /// `output`; contributions to rows beyond `output.count` are dropped (there are none when
  /// the lengths are the Krylov prefixes).
  ///
  /// With `perturbation` > 0, element e is scaled by `1 + perturbation * u_e`, with u_e in
  /// [-1, 1) a hash of e, as `SparseRows.multiply` does: the driver's probe.
  func multiply(
    input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>, perturbation: Double
  ) {
    for i in 0..<output.count { output[i] = 0 }
    accumulate(input: input, output: output, perturbation: perturbation, entryOffset: 0)
  }

  /// `output += A input` (see `multiply`); `entryOffset` numbers this matrix's elements after
  /// those of the segments before it, for the probe's perturbation.
  func accumulate(
    input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>, perturbation: Double,
    entryOffset: Int
  ) {
    let limit = output.count
    let columns = min(input.count, columnCount)
    columnStart.withUnsafeBufferPointer { start in
      rows.withUnsafeBufferPointer { rowIndex in
        values.withUnsafeBufferPointer { vals in
          let scale = perturbation * 0x1p-52
          for j in 0..<columns {
            let x = input[j]
            if x == 0 { continue }
            for e in start[j]..<start[j + 1] {
              let r = Int(rowIndex[e])
              guard r < limit else { continue }
              var v = vals[e]
              if perturbation != 0 { v *= ProbePerturbation.factor(e + entryOffset, scale: scale) }
              output[r] += v * x
            }
          }
        }
      }
    }
  }
}

/// A block's columns as the segments they were built in (one per chunk of each level), in
/// column order: appending a level costs no copy, and the product walks the segments in turn.
public struct SegmentedColumns: Sendable {
  public var segments: [SparseColumns] = []

  public init() {}

  public var columnCount: Int { segments.reduce(0) { $0 + $1.columnCount } }
  public var nonzeros: Int { segments.reduce(0) { $0 + $1.nonzeros } }
  public var storageBytes: Int { segments.reduce(0) { $0 + $1.storageBytes } }

  /// `output = A input` over the first `input.count` columns, as `SparseColumns.multiply`.
  func multiply(
    input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>, perturbation: Double
  ) {
    for i in 0..<output.count { output[i] = 0 }
    var column = 0
    var entries = 0
    for segment in segments {
      guard column < input.count else { break }
      let count = min(segment.columnCount, input.count - column)
      segment.accumulate(
        input: UnsafeBufferPointer(rebasing: input[column..<(column + count)]), output: output,
        perturbation: perturbation, entryOffset: entries)
      column += segment.columnCount
      entries += segment.nonzeros
    }
  }
}
