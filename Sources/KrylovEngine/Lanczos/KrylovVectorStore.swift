import COpenBLAS

/// How the stored Krylov vectors are kept: the recursion itself always runs in Double.
public enum VectorPrecision: String, Sendable, Codable, CaseIterable {
  /// 8 bytes per entry.
  case double
  /// 4 bytes per entry, after the first `doubleHead` vectors of each block, which stay in
  /// Double. Stored vectors serve only to reorthogonalize, but projecting on a Float copy also
  /// projects on its rounding error, which leaks (about 6e-8 of the new vector, weighed by
  /// the copy's entries) into the overlaps. Spread over many basis elements, a late vector
  /// leaks about 6e-8 / √(elements); the first vectors are concentrated on a few elements and
  /// would leak up to 6e-8, past the √ε the partial scheme must stay under.
  case single

  var bytes: Int { self == .double ? 8 : 4 }

  /// Vectors per block kept in Double under `.single`.
  public static let doubleHead = 32

  /// How many of a block's first `count` vectors are kept in Double.
  public func vectorsInDouble(of count: Int) -> Int {
    self == .double ? count : min(count, Self.doubleHead)
  }
}

/// The stored Krylov vectors of one block: vector j occupies a prefix of `lengths[j]` entries.
///
/// Gram–Schmidt runs over the stored vectors in three sweeps (overlaps; subtract and re-measure
/// slab by slab while the slab is in cache; subtract again): classical Gram–Schmidt twice, with
/// the vectors read three times. Full-length Double vectors go through BLAS; prefixes and Float
/// vectors through SIMD loops that widen to Double and accumulate in Double.
final class KrylovVectorStore: @unchecked Sendable {
  let dimension: Int
  /// The first `head` vectors, in Double; the rest in Float.
  private let head: Int
  private let headRaw: UnsafeMutableRawPointer
  private let headCapacity: Int
  private let raw: UnsafeMutableRawPointer
  private(set) var offsets: [Int] = []
  private(set) var lengths: [Int] = []
  private let capacity: Int
  private var overlaps: [Double] = []
  private var overlaps2: [Double] = []

  /// - Parameters:
  ///   - dimension: the block's dimension (the longest a vector can be).
  ///   - lengths: the length of every vector the block will hold, in order.
  init(precision: VectorPrecision, dimension: Int, lengths planned: [Int]) {
    self.dimension = dimension
    head = precision.vectorsInDouble(of: planned.count)
    headCapacity = max(1, planned.prefix(head).reduce(0, +))
    capacity = max(1, planned.dropFirst(head).reduce(0, +))
    headRaw = .allocate(byteCount: headCapacity * 8, alignment: 64)
    raw = .allocate(byteCount: precision == .double ? 8 : capacity * precision.bytes, alignment: 64)
  }

  deinit {
    headRaw.deallocate()
    raw.deallocate()
  }

  /// Bytes the vectors of `lengths` take under `precision`.
  static func bytes(lengths: [Int], precision: VectorPrecision) -> Double {
    let head = precision.vectorsInDouble(of: lengths.count)
    let headEntries = lengths.prefix(head).reduce(0.0) { $0 + Double($1) }
    let rest = lengths.dropFirst(head).reduce(0.0) { $0 + Double($1) }
    return headEntries * 8 + rest * Double(precision.bytes)
  }

  var count: Int { lengths.count }

  /// Appends `scale * v[0..<length]`.
  func append(_ v: UnsafePointer<Double>, length: Int, scale: Double) {
    let j = count
    let offset = j == head ? 0 : (offsets.last ?? 0) + (lengths.last ?? 0)
    if j < head {
      precondition(offset + length <= headCapacity, "Krylov vector store overflow")
      let p = headRaw.assumingMemoryBound(to: Double.self) + offset
      for i in 0..<length { p[i] = v[i] * scale }
    } else {
      precondition(offset + length <= capacity, "Krylov vector store overflow")
      let p = raw.assumingMemoryBound(to: Float.self) + offset
      for i in 0..<length { p[i] = Float(v[i] * scale) }
    }
    offsets.append(offset)
    lengths.append(length)
  }

  /// Whether every vector is full length and Double, laid out as a column-major matrix.
  private var isDenseDouble: Bool {
    count <= head && lengths.allSatisfy { $0 == dimension }
  }

  /// Removes from `a[0..<length]` its components along every stored vector, twice.
  func orthogonalize(_ a: UnsafeMutablePointer<Double>, length: Int) {
    let k = count
    guard k > 0, length > 0 else { return }
    if overlaps.count < k {
      overlaps = Array(repeating: 0, count: max(k, 2 * overlaps.count))
      overlaps2 = overlaps
    }
    if isDenseDouble && length == dimension {
      blasTwice(a, k: k)
      return
    }
    sweepTwice(
      headRaw.assumingMemoryBound(to: Double.self), raw.assumingMemoryBound(to: Float.self), a, length: length)
  }

  private func blasTwice(_ a: UnsafeMutablePointer<Double>, k: Int) {
    let dim = dimension
    let lda = Int32(dim)
    let m = headRaw.assumingMemoryBound(to: Double.self)
    let kk = Int32(k)
    overlaps.withUnsafeMutableBufferPointer { c1b in
      overlaps2.withUnsafeMutableBufferPointer { c2b in
        // `orthogonalize` sized both to at least count > 0 entries.
        guard let c1 = c1b.baseAddress, let c2 = c2b.baseAddress else {
          preconditionFailure("the overlap buffers hold at least one entry per stored vector")
        }
        cblas_dgemv(CblasColMajor, CblasTrans, lda, kk, 1, m, lda, a, 1, 0, c1, 1)
        for j in 0..<k { c2[j] = 0 }
        // About 256 KiB of V per slab, so it is still in cache for the second overlaps.
        let slab = max(64, 32768 / k)
        var start = 0
        while start < dim {
          let rows = Int32(min(slab, dim - start))
          cblas_dgemv(CblasColMajor, CblasNoTrans, rows, kk, -1, m + start, lda, c1, 1, 1, a + start, 1)
          cblas_dgemv(CblasColMajor, CblasTrans, rows, kk, 1, m + start, lda, a + start, 1, 1, c2, 1)
          start += slab
        }
        cblas_dgemv(CblasColMajor, CblasNoTrans, lda, kk, -1, m, lda, c2, 1, 1, a, 1)
      }
    }
  }

  private func sweepTwice(
    _ doubles: UnsafeMutablePointer<Double>, _ floats: UnsafeMutablePointer<Float>,
    _ a: UnsafeMutablePointer<Double>, length: Int
  ) {
    let k = count
    let h = min(head, k)
    overlaps.withUnsafeMutableBufferPointer { c1b in
      overlaps2.withUnsafeMutableBufferPointer { c2b in
        // `orthogonalize` sized both to at least count > 0 entries.
        guard let c1 = c1b.baseAddress, let c2 = c2b.baseAddress else {
          preconditionFailure("the overlap buffers hold at least one entry per stored vector")
        }
        for j in 0..<k {
          let hi = min(lengths[j], length)
          c1[j] = j < h ? widenedDot(doubles + offsets[j], a, 0, hi) : widenedDot(floats + offsets[j], a, 0, hi)
          c2[j] = 0
        }
        let slab = max(256, 32768 / k)
        var start = 0
        while start < length {
          let end = min(start + slab, length)
          for j in 0..<k where lengths[j] > start {
            let hi = min(end, lengths[j])
            if j < h {
              widenedSubtract(doubles + offsets[j], a, c1[j], start, hi)
            } else {
              widenedSubtract(floats + offsets[j], a, c1[j], start, hi)
            }
          }
          for j in 0..<k where lengths[j] > start {
            let hi = min(end, lengths[j])
            c2[j] += j < h ? widenedDot(doubles + offsets[j], a, start, hi) : widenedDot(floats + offsets[j], a, start, hi)
          }
          start = end
        }
        for j in 0..<k {
          let hi = min(lengths[j], length)
          if j < h {
            widenedSubtract(doubles + offsets[j], a, c2[j], 0, hi)
          } else {
            widenedSubtract(floats + offsets[j], a, c2[j], 0, hi)
          }
        }
      }
    }
  }

}

/// A stored scalar the Gram–Schmidt loops read four at a time, widened to Double.
protocol WidenableScalar {
  static func widen4(_ p: UnsafePointer<Self>) -> SIMD4<Double>
  static func widen(_ x: Self) -> Double
}

extension Double: WidenableScalar {
  @inline(__always) static func widen4(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
  }
  @inline(__always) static func widen(_ x: Double) -> Double { x }
}

extension Float: WidenableScalar {
  @inline(__always) static func widen4(_ p: UnsafePointer<Float>) -> SIMD4<Double> {
    SIMD4<Double>(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self))
  }
  @inline(__always) static func widen(_ x: Float) -> Double { Double(x) }
}

/// Σ v[i] a[i] over lo..<hi, accumulated in Double.
@inline(__always)
func widenedDot<S: WidenableScalar>(_ v: UnsafePointer<S>, _ a: UnsafePointer<Double>, _ lo: Int, _ hi: Int) -> Double {
  var s0 = SIMD4<Double>()
  var s1 = SIMD4<Double>()
  var i = lo
  while i + 8 <= hi {
    s0 += S.widen4(v + i) * UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Double>.self)
    s1 += S.widen4(v + i + 4) * UnsafeRawPointer(a + i + 4).loadUnaligned(as: SIMD4<Double>.self)
    i += 8
  }
  var s = (s0 + s1).sum()
  while i < hi {
    s += S.widen(v[i]) * a[i]
    i += 1
  }
  return s
}

/// a[i] -= c v[i] over lo..<hi.
@inline(__always)
func widenedSubtract<S: WidenableScalar>(
  _ v: UnsafePointer<S>, _ a: UnsafeMutablePointer<Double>, _ c: Double, _ lo: Int, _ hi: Int
) {
  guard c != 0 else { return }
  let c4 = SIMD4<Double>(repeating: c)
  var i = lo
  while i + 4 <= hi {
    let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Double>.self) - c4 * S.widen4(v + i)
    UnsafeMutableRawPointer(a + i).storeBytes(of: x, as: SIMD4<Double>.self)
    i += 4
  }
  while i < hi {
    a[i] -= c * S.widen(v[i])
    i += 1
  }
}
