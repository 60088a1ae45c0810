import COpenBLAS
import Foundation

/// C(t) and K(t) from Lanczos coefficients (physics.md §4).
///
/// The amplitudes obey dφ/dt = B φ with B tridiagonal and antisymmetric (B_{n+1,n} = b_{n+1}).
/// With D = diag(i^n), D^-1 B D = -i T where T is the real symmetric tridiagonal matrix with
/// off-diagonal b, so φ(t) = D exp(-i T t) e_0. One eigendecomposition T = U Λ Uᵀ (LAPACK dstevd,
/// backward stable) then gives every time exactly: C(t) = Σ_k U_0k² cos(λ_k t) and
/// |φ_n(t)|² = (Σ_k U_nk U_0k cos λ_k t)² + (Σ_k U_nk U_0k sin λ_k t)². No time stepping, so no
/// error accumulates with t or with the number of coefficients.
///
/// Coefficients of 1e±200 would overflow or underflow the eigensolver: the chain is then solved
/// for b / s, s a power of two, and the eigenvalues kept in units of s (λ t = λ' (s t)), which is
/// exact. The solve holds two (M+1)² matrices and costs O(M³): sequences longer than
/// `maximumCount` are refused with that estimate rather than left to run for hours.
public struct KrylovChainDynamics: Sendable {
  /// Eigenvalues of T / energyScale.
  private let scaledEigenvalues: [Double]
  /// The power of two the coefficients were divided by (1 unless they are beyond 2^±20).
  public let energyScale: Double
  /// Eigenvalues of T.
  public var eigenvalues: [Double] { scaledEigenvalues.map { $0 * energyScale } }
  /// U_0k for each eigenvector k.
  public let firstComponents: [Double]
  /// Row-major (M+1) × (M+1): weights[n * size + k] = U_nk U_0k.
  private let weights: [Double]
  public let size: Int

  public enum DynamicsError: Error, CustomStringConvertible {
    case invalidCoefficient(index: Int, value: Double)
    case eigensolverFailed(Int32)
    case tooLong(count: Int, bytes: Int)
    public var description: String {
      switch self {
      case .invalidCoefficient(let i, let v): "b_\(i) = \(v) is not a finite, non-negative number"
      case .eigensolverFailed(let info): "the tridiagonal eigensolver failed (LAPACK info \(info))"
      case .tooLong(let count, let bytes):
        "C(t) and K(t) of \(count) coefficients would need \(formatBytes(bytes)) and O(M³) time (an "
          + "(M+1)² eigenvector matrix); at most \(KrylovChainDynamics.maximumCount) are used: pass fewer"
      }
    }
  }

  /// The longest sequence solved: three 4001² matrices are 384 MB and the solve takes seconds.
  public static let maximumCount = 4000

  /// Bytes the solve of `count` coefficients holds (saturating).
  public static func estimatedBytes(count: Int) -> Int {
    let (m2, overflow) = (count + 1).multipliedReportingOverflow(by: count + 1)
    return overflow || m2 > Int.max / 24 ? Int.max : 24 * m2
  }

  /// Diagonalizes the chain of `b` (b_1, b_2, ...).
  public init(coefficients b: [Double]) throws {
    for (i, v) in b.enumerated() where !(v.isFinite && v >= 0) {
      throw DynamicsError.invalidCoefficient(index: i + 1, value: v)
    }
    guard b.count <= Self.maximumCount else {
      throw DynamicsError.tooLong(count: b.count, bytes: Self.estimatedBytes(count: b.count))
    }
    let scale = PauliSum.rescaling(of: b)
    energyScale = scale
    let m = b.count + 1
    var d = [Double](repeating: 0, count: m)
    var e = (scale == 1 ? b : b.map { $0 / scale }) + [0]
    var z = [Double](repeating: 0, count: m * m)
    // Divide and conquer (dstevd): `krylov observe` on 3000 coefficients (the eigenvectors,
    // then C and K at 1001 times) takes 3.2 s, where the QL iteration (dstev) took over 100 s.
    // Its workspace is one more M² matrix.
    var lwork = Int32(1 + 4 * m + m * m)
    var liwork = Int32(3 + 5 * m)
    var work = [Double](repeating: 0, count: Int(lwork))
    var iwork = [Int32](repeating: 0, count: Int(liwork))
    var info: Int32 = 0
    var n = Int32(m)
    var ldz = Int32(m)
    var job = Int8(UInt8(ascii: "V"))
    dstevd_(&job, &n, &d, &e, &z, &ldz, &work, &lwork, &iwork, &liwork, &info)
    guard info == 0 else { throw DynamicsError.eigensolverFailed(info) }
    // z is column-major: z[k * m + n] = U_nk.
    var first = [Double](repeating: 0, count: m)
    var w = [Double](repeating: 0, count: m * m)
    for k in 0..<m { first[k] = z[k * m] }
    for k in 0..<m {
      for row in 0..<m { w[row * m + k] = z[k * m + row] * first[k] }
    }
    scaledEigenvalues = d
    firstComponents = first
    weights = w
    size = m
  }

  /// C(t) = (O(t)|O)/(O|O).
  public func autocorrelation(at t: Double) -> Double {
    var c = 0.0
    let t = t * energyScale
    for k in 0..<size { c += firstComponents[k] * firstComponents[k] * cosine(scaledEigenvalues[k] * t) }
    return c
  }

  /// K(t) = Σ n |φ_n(t)|².
  public func complexity(at t: Double) -> Double {
    let t = t * energyScale
    var cosines = [Double](repeating: 0, count: size)
    var sines = [Double](repeating: 0, count: size)
    for k in 0..<size {
      cosines[k] = cosine(scaledEigenvalues[k] * t)
      sines[k] = sine(scaledEigenvalues[k] * t)
    }
    var total = 0.0
    weights.withUnsafeBufferPointer { w in
      for n in 1..<size {
        var re = 0.0
        var im = 0.0
        let row = n * size
        for k in 0..<size {
          re += w[row + k] * cosines[k]
          im += w[row + k] * sines[k]
        }
        total += Double(n) * (re * re + im * im)
      }
    }
    return total
  }

  /// |φ_n(t)|² for every n: the spread of the operator over the Krylov chain.
  public func probabilities(at t: Double) -> [Double] {
    let t = t * energyScale
    return (0..<size).map { n in
      var re = 0.0
      var im = 0.0
      for k in 0..<size {
        re += weights[n * size + k] * cosine(scaledEigenvalues[k] * t)
        im += weights[n * size + k] * sine(scaledEigenvalues[k] * t)
      }
      return re * re + im * im
    }
  }
}

@inline(__always) private func cosine(_ x: Double) -> Double { cos(x) }
@inline(__always) private func sine(_ x: Double) -> Double { sin(x) }

extension KrylovChainDynamics {
  /// Where C(t) and K(t) of b_1..b_M stop being fixed by those coefficients.
  public struct Convergence: Equatable, Sendable {
    /// The last grid time up to which C(t) is converged.
    public var autocorrelation: Double
    /// The last grid time up to which K(t) is converged.
    public var complexity: Double
  }

  /// The first grid time at which C(t) from all of `b` and from its first 80% differ by more
  /// than `tolerance`: beyond it the truncated sequence no longer fixes C(t).
  ///
  /// Returns the last grid time when they agree everywhere on the grid.
  public static func convergenceTime(coefficients b: [Double], times: [Double], tolerance: Double) throws -> Double {
    let full = try KrylovChainDynamics(coefficients: b)
    let shorter = try KrylovChainDynamics(coefficients: shorterPrefix(b))
    return lastAgreeing(times) { abs(full.autocorrelation(at: $0) - shorter.autocorrelation(at: $0)) > tolerance }
  }

  /// The convergence of C(t), as `convergenceTime`, and of K(t) by the same comparison, with
  /// |ΔK| measured against max(1, K) since K grows with t.
  ///
  /// K(t) departs first: the truncation shows in K once the operator's spread reaches the
  /// shorter chain's end, in C only once it has come back.
  public static func convergence(coefficients b: [Double], times: [Double], tolerance: Double) throws -> Convergence {
    let full = try KrylovChainDynamics(coefficients: b)
    let shorter = try KrylovChainDynamics(coefficients: shorterPrefix(b))
    let c = lastAgreeing(times) { abs(full.autocorrelation(at: $0) - shorter.autocorrelation(at: $0)) > tolerance }
    let k = lastAgreeing(times) { t in
      let kFull = full.complexity(at: t)
      return abs(kFull - shorter.complexity(at: t)) > tolerance * max(1, kFull)
    }
    return Convergence(autocorrelation: c, complexity: k)
  }

  /// The prefix the full sequence is compared with: its first 80%.
  static func shorterPrefix(_ b: [Double]) -> [Double] { Array(b.prefix(b.count * 4 / 5)) }

  /// The last of `times` before the first at which `differs` holds (the last of all if none).
  private static func lastAgreeing(_ times: [Double], _ differs: (Double) -> Bool) -> Double {
    var last = times.first ?? 0
    for t in times {
      if differs(t) { return last }
      last = t
    }
    return last
  }
}
