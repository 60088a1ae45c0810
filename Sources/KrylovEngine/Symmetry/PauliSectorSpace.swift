import Dispatch

/// A sparse matrix in compressed rows: the Liouvillian between two sector blocks.
public struct SparseRows: Sendable {
  public var rowStart: [Int]
  public var columns: [Int32]
  public var values: [Double]

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
public struct PauliSectorSpace: KrylovOperatorSpace {
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
    let rows = sector.keys[target].count
    let chunks = max(1, min(32, rows / 2048))
    let results = ChunkResults<SparseRows>(count: chunks)
    let n = sector.size
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      let lo = rows * c / chunks
      let hi = rows * (c + 1) / chunks
      var rowStart = [0]
      var columns: [Int32] = []
      var values: [Double] = []
      rowStart.reserveCapacity(hi - lo + 1)
      columns.reserveCapacity((hi - lo) * 8)
      values.reserveCapacity((hi - lo) * 8)
      var entries: [(Int32, Double)] = []
      sector.keys[source].withUnsafeBufferPointer { sourceKeys in
        for row in lo..<hi {
          let s = sector.string(key: sector.keys[target][row])
          let ms = Double(sector.orbitSizes[target][row])
          entries.removeAll(keepingCapacity: true)
          for (hs, hc) in terms {
            guard let (sign, q) = hs.liouvillian(acting: s) else { continue }
            let r = sector.group.canonical(q)
            let rk = (r.z << UInt64(n)) | r.x
            guard let col = PauliSector.search(sourceKeys, rk) else {
              preconditionFailure("Liouvillian left the sector: \(q) from \(s)")
            }
            let mr = Double(sector.orbitSizes[source][col])
            let value = -hc * sign * (ms / mr).squareRoot()
            if let j = entries.firstIndex(where: { $0.0 == Int32(col) }) {
              entries[j].1 += value
            } else {
              entries.append((Int32(col), value))
            }
          }
          entries.sort { $0.0 < $1.0 }
          for (col, value) in entries where value != 0 {
            columns.append(col)
            values.append(value)
          }
          rowStart.append(columns.count)
        }
      }
      results.set(c, SparseRows(rowStart: rowStart, columns: columns, values: values))
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

  public var blockDimensions: [Int] { sector.blockDimensions }

  public var storageBytes: Int { sector.storageBytes + matrices.reduce(0) { $0 + $1.storageBytes } }

  public func applyLiouvillian(
    block: Int, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double
  ) {
    let m = matrices[block]
    m.multiply(rows: 0..<m.rowCount, input: input, output: output, perturbation: perturbation)
  }

  public var sectorDescription: String {
    let blocks = sector.blockCount == 2 ? ", Y-parity blocks" : ""
    return "symmetry \(sector.group)\(blocks); dimensions \(blockDimensions.map(String.init).joined(separator: " + "))"
  }
}
