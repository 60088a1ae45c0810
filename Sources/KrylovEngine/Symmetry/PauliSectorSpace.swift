import Dispatch

/// A sparse matrix in compressed rows: the Liouvillian between two sector blocks.
public struct SparseRows: Sendable {
  public var rowStart: [Int]
  public var columns: [Int32]
  public var values: [Double]

  public init(rowStart: [Int], columns: [Int32], values: [Double]) {
    self.rowStart = rowStart
    self.columns = columns
    self.values = values
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
      results.set(c, part)
    }
    var merged = SparseRows(rowStart: [0], columns: [], values: [])
    for c in 0..<chunks {
      let part = results.get(c)!
      let offset = merged.columns.count
      merged.rowStart += part.rowStart.dropFirst().map { $0 + offset }
      merged.columns += part.columns
      merged.values += part.values
    }
    return merged
  }

  public var rowCount: Int { rowStart.count - 1 }
  public var nonzeros: Int { values.count }
  public var storageBytes: Int { rowStart.count * 8 + columns.count * 4 + values.count * 8 }

  /// `output[r] = sum_k values[k] * input[columns[k]]` over the rows `rows`.
  ///
  /// With `perturbation` > 0, element `k` is scaled by `1 + perturbation * u_k`, with `u_k` in
  /// [-1, 1) a hash of `k`: a fixed, reproducible nearby operator at no memory cost.
  @inlinable
  func multiply(
    rows: Range<Int>, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double
  ) {
    rowStart.withUnsafeBufferPointer { start in
      columns.withUnsafeBufferPointer { cols in
        values.withUnsafeBufferPointer { vals in
          if perturbation == 0 {
            for r in rows {
              var acc = 0.0
              for k in start[r]..<start[r + 1] { acc += vals[k] * input[Int(cols[k])] }
              output[r] = acc
            }
          } else {
            let scale = perturbation * 0x1p-52
            for r in rows {
              var acc = 0.0
              for k in start[r]..<start[r + 1] {
                let h = (UInt64(k) &+ 0x9E37_79B9) &* 0x9E37_79B9_7F4A_7C15
                let u = Double(Int64(bitPattern: h) >> 11) * scale  // in [-perturbation, perturbation)
                acc += vals[k] * (1 + u) * input[Int(cols[k])]
              }
              output[r] = acc
            }
          }
        }
      }
    }
  }
}

/// The Liouvillian `O -> i[H, O]` of a spin chain, restricted to one symmetry sector.
///
/// In the orbit basis of `PauliSector` the matrix element between representatives is
/// `(R|L|S) = sqrt(m_S / m_R) * sum_{Q in orbit(R)} (Q| i[H, S])`, because L commutes with the
/// group. Built once as sparse rows per block, so each Lanczos step is one sparse product and
/// no rounding can ever leave the sector.
public struct PauliSectorSpace: SparseOperatorSpace {
  public let sector: PauliSector
  /// `matrices[b]` maps block b into block (b + 1) % blockCount; its rows index the target block.
  public let matrices: [SparseRows]
  public let initialBlock: Int
  public let initialVector: [Double]
  public let liouvillianScale: Double

  public enum BuildError: Error, CustomStringConvertible {
    case operatorNotInSector
    public var description: String {
      "the operator is not invariant under the detected symmetry group (internal error)"
    }
  }

  /// Builds the sector of `operator` under `hamiltonian` with the given symmetry group.
  public init(hamiltonian h: PauliSum, operator o: PauliSum, size n: Int, group: SymmetryGroup) throws {
    let parityBlocks = h.isReal && o.yParity != nil
    let sector = PauliSector(size: n, group: group, parityBlocks: parityBlocks)
    guard let (block, vector) = sector.coordinates(of: o) else { throw BuildError.operatorNotInSector }
    self.sector = sector
    self.initialBlock = block
    self.initialVector = vector
    self.liouvillianScale = 2 * h.terms.values.reduce(0) { $0 + abs($1) }
    let terms = h.sortedTerms
    var matrices: [SparseRows] = []
    for source in 0..<sector.blockCount {
      let target = (source + 1) % sector.blockCount
      matrices.append(Self.buildRows(sector: sector, terms: terms, source: source, target: target))
    }
    self.matrices = matrices
  }

  /// Rows for the map source -> target: row S of target holds (S|L|R) = -(R|L|S).
  private static func buildRows(
    sector: PauliSector, terms: [(string: PauliString, coefficient: Double)], source: Int, target: Int
  ) -> SparseRows {
    let n = sector.size
    return SparseRows.build(rows: sector.keys[target].count) { row, add in
      let s = sector.string(key: sector.keys[target][row])
      let ms = Double(sector.orbitSizes[target][row])
      sector.keys[source].withUnsafeBufferPointer { sourceKeys in
        for (hs, hc) in terms {
          guard let (sign, q) = hs.liouvillian(acting: s) else { continue }
          let r = sector.group.canonical(q)
          guard let col = PauliSector.search(sourceKeys, (r.z << UInt64(n)) | r.x) else {
            preconditionFailure("Liouvillian left the sector: \(q) from \(s)")
          }
          add(Int32(col), -hc * sign * (ms / Double(sector.orbitSizes[source][col])).squareRoot())
        }
      }
    }
  }

  public var blockDimensions: [Int] { sector.blockDimensions }

  public var storageBytes: Int { sector.storageBytes + matrices.reduce(0) { $0 + $1.storageBytes } }

  public var sectorDescription: String {
    let blocks = sector.blockCount == 2 ? ", Y-parity blocks" : ""
    return "symmetry \(sector.group)\(blocks); dimensions \(blockDimensions.map(String.init).joined(separator: " + "))"
  }
}

/// An operator space whose Liouvillian is a list of sparse matrices, one per source block.
public protocol SparseOperatorSpace: KrylovOperatorSpace {
  /// `matrices[b]` maps block b into block (b + 1) % blockCount; its rows index the target block.
  var matrices: [SparseRows] { get }
}

extension SparseOperatorSpace {
  public func applyLiouvillian(
    block: Int, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double
  ) {
    let m = matrices[block]
    m.multiply(rows: 0..<m.rowCount, input: input, output: output, perturbation: perturbation)
  }
}
