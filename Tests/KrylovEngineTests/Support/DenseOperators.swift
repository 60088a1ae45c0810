import COpenBLAS
import Foundation
import KrylovEngine

/// A dense complex 2^N × 2^N matrix, row-major.
///
/// The independent reference for Pauli algebra, Lanczos and C(t) on small chains. Nothing here
/// uses the engine's Pauli bit tricks.
struct DenseMatrix: Equatable {
  var dimension: Int
  /// Interleaved (re, im), row-major.
  var storage: [Double]

  init(dimension: Int) {
    self.dimension = dimension
    storage = [Double](repeating: 0, count: 2 * dimension * dimension)
  }

  subscript(row: Int, column: Int) -> (re: Double, im: Double) {
    get {
      let k = 2 * (row * dimension + column)
      return (storage[k], storage[k + 1])
    }
    set {
      let k = 2 * (row * dimension + column)
      storage[k] = newValue.re
      storage[k + 1] = newValue.im
    }
  }

  /// The 2×2 Pauli matrices.
  static func pauli(_ letter: Character) -> DenseMatrix {
    var m = DenseMatrix(dimension: 2)
    switch letter {
    case "I":
      m[0, 0] = (1, 0)
      m[1, 1] = (1, 0)
    case "X":
      m[0, 1] = (1, 0)
      m[1, 0] = (1, 0)
    case "Y":
      m[0, 1] = (0, -1)
      m[1, 0] = (0, 1)
    case "Z":
      m[0, 0] = (1, 0)
      m[1, 1] = (-1, 0)
    default: fatalError("not a Pauli letter")
    }
    return m
  }

  /// Kronecker product self ⊗ other.
  func kron(_ other: DenseMatrix) -> DenseMatrix {
    let d = dimension * other.dimension
    var out = DenseMatrix(dimension: d)
    for i in 0..<dimension {
      for j in 0..<dimension {
        let a = self[i, j]
        if a.re == 0 && a.im == 0 { continue }
        for k in 0..<other.dimension {
          for l in 0..<other.dimension {
            let b = other[k, l]
            out[i * other.dimension + k, j * other.dimension + l] = (a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
          }
        }
      }
    }
    return out
  }

  /// The matrix of a Pauli string on `n` sites, built letter by letter (site 0 is the leftmost factor).
  static func of(_ s: PauliString, sites n: Int) -> DenseMatrix {
    var m = DenseMatrix.pauli("I")
    for site in 0..<n {
      let bit: UInt64 = 1 << UInt64(site)
      let letter: Character = (s.x & bit != 0) ? ((s.z & bit != 0) ? "Y" : "X") : ((s.z & bit != 0) ? "Z" : "I")
      m = site == 0 ? .pauli(letter) : m.kron(.pauli(letter))
    }
    return m
  }

  static func of(_ sum: PauliSum, sites n: Int) -> DenseMatrix {
    var m = DenseMatrix(dimension: 1 << n)
    for (s, c) in sum.terms { m.add(DenseMatrix.of(s, sites: n), scale: (c, 0)) }
    return m
  }

  mutating func add(_ other: DenseMatrix, scale: (re: Double, im: Double)) {
    for k in stride(from: 0, to: storage.count, by: 2) {
      let (a, b) = (other.storage[k], other.storage[k + 1])
      storage[k] += scale.re * a - scale.im * b
      storage[k + 1] += scale.re * b + scale.im * a
    }
  }

  static func * (a: DenseMatrix, b: DenseMatrix) -> DenseMatrix {
    let d = a.dimension
    var c = DenseMatrix(dimension: d)
    var one = [1.0, 0.0]
    var zero = [0.0, 0.0]
    a.storage.withUnsafeBufferPointer { pa in
      b.storage.withUnsafeBufferPointer { pb in
        c.storage.withUnsafeMutableBufferPointer { pc in
          cblas_zgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), &one, pa.baseAddress, Int32(d),
            pb.baseAddress, Int32(d), &zero, pc.baseAddress, Int32(d))
        }
      }
    }
    return c
  }

  /// Tr(self† other) / dimension: the inner product of physics.md §2.
  func dot(_ other: DenseMatrix) -> (re: Double, im: Double) {
    var re = 0.0
    var im = 0.0
    for k in stride(from: 0, to: storage.count, by: 2) {
      // conj(a) * b
      re += storage[k] * other.storage[k] + storage[k + 1] * other.storage[k + 1]
      im += storage[k] * other.storage[k + 1] - storage[k + 1] * other.storage[k]
    }
    return (re / Double(dimension), im / Double(dimension))
  }

  var norm: Double { dot(self).re.squareRoot() }

  func maxDifference(_ other: DenseMatrix) -> Double {
    zip(storage, other.storage).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  /// The real part, for matrices known to be real (our Hamiltonians), row-major.
  var realPart: [Double] { stride(from: 0, to: storage.count, by: 2).map { storage[$0] } }
}

/// Lanczos on dense matrices with the superoperator written as HO − OH: no Pauli strings, no sectors.
///
/// Accurate only for a few dozen steps (nothing keeps it in the symmetry sector), which is all it
/// is asked for.
func denseLanczos(hamiltonian h: DenseMatrix, operator o: DenseMatrix, steps: Int) -> [Double] {
  var basis: [DenseMatrix] = [o]
  let n0 = o.norm
  basis[0].add(o, scale: (1 / n0 - 1, 0))
  var b: [Double] = []
  for n in 1...steps {
    let last = basis[n - 1]
    // A = L O_{n-1} = H O − O H.
    var a = h * last
    a.add(last * h, scale: (-1, 0))
    if n >= 2 { a.add(basis[n - 2], scale: (-b[n - 2], 0)) }
    for _ in 0..<2 {
      for q in basis {
        let c = q.dot(a)
        a.add(q, scale: (-c.re, -c.im))
      }
    }
    let bn = a.norm
    if bn < 1e-10 * (b.max() ?? 1) { break }
    b.append(bn)
    var next = a
    next.add(a, scale: (1 / bn - 1, 0))
    basis.append(next)
  }
  return b
}

/// Eigenvalues and eigenvectors (columns, row-major storage) of a real symmetric matrix (LAPACK dsyev).
func symmetricEigen(_ matrix: [Double], dimension d: Int) -> (values: [Double], vectors: [Double]) {
  // dsyev is column-major; a symmetric matrix is its own transpose.
  var a = matrix
  var w = [Double](repeating: 0, count: d)
  var n = Int32(d)
  var lda = Int32(d)
  var info: Int32 = 0
  var lwork = Int32(-1)
  var query = 0.0
  var jobz = Int8(UInt8(ascii: "V"))
  var uplo = Int8(UInt8(ascii: "U"))
  dsyev_(&jobz, &uplo, &n, &a, &lda, &w, &query, &lwork, &info)
  lwork = Int32(query)
  var work = [Double](repeating: 0, count: Int(lwork))
  dsyev_(&jobz, &uplo, &n, &a, &lda, &w, &work, &lwork, &info)
  precondition(info == 0, "dsyev failed")
  // Column-major result: eigenvector k is a[k*d ..< (k+1)*d]. Return row-major V with V[i*d+k].
  var v = [Double](repeating: 0, count: d * d)
  for k in 0..<d { for i in 0..<d { v[i * d + k] = a[k * d + i] } }
  return (w, v)
}

/// C(t) = Tr(e^{iHt} O e^{-iHt} O) / Tr(O O) for real symmetric H and O, from H's eigenbasis.
func denseAutocorrelation(hamiltonian h: [Double], operator o: [Double], dimension d: Int, times: [Double]) -> [Double] {
  let (energies, v) = symmetricEigen(h, dimension: d)
  // O' = Vᵀ O V.
  var ov = [Double](repeating: 0, count: d * d)
  var op = [Double](repeating: 0, count: d * d)
  cblas_dgemm(
    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, o, Int32(d), v, Int32(d), 0, &ov, Int32(d))
  cblas_dgemm(
    CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1, v, Int32(d), ov, Int32(d), 0, &op, Int32(d))
  let norm = op.reduce(0) { $0 + $1 * $1 }
  return times.map { t in
    var c = 0.0
    for j in 0..<d {
      for k in 0..<d {
        let w = op[j * d + k] * op[j * d + k]
        if w != 0 { c += w * cos((energies[j] - energies[k]) * t) }
      }
    }
    return c / norm
  }
}

func randomString(sites n: Int, using rng: inout SplitMix64) -> PauliString {
  let mask: UInt64 = (1 << UInt64(n)) - 1
  return PauliString(x: rng.next() & mask, z: rng.next() & mask)
}
