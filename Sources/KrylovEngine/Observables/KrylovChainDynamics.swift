import COpenBLAS
import Foundation

/// C(t) and K(t) from Lanczos coefficients (physics.md §4).
///
/// The amplitudes obey dφ/dt = B φ with B tridiagonal and antisymmetric (B_{n+1,n} = b_{n+1}).
/// With D = diag(i^n), D^-1 B D = -i T where T is the real symmetric tridiagonal matrix with
/// off-diagonal b, so φ(t) = D exp(-i T t) e_0. One eigendecomposition T = U Λ Uᵀ (LAPACK dstev,
/// backward stable) then gives every time exactly: C(t) = Σ_k U_0k² cos(λ_k t) and
/// |φ_n(t)|² = (Σ_k U_nk U_0k cos λ_k t)² + (Σ_k U_nk U_0k sin λ_k t)². No time stepping, so no
/// error accumulates with t or with the number of coefficients.
public struct KrylovChainDynamics: Sendable {
  public let eigenvalues: [Double]
  /// U_0k for each eigenvector k.
  public let firstComponents: [Double]
  /// Row-major (M+1) × (M+1): weights[n * size + k] = U_nk U_0k.
  private let weights: [Double]
  public let size: Int

  public enum DynamicsError: Error, CustomStringConvertible {
    case invalidCoefficient(index: Int, value: Double)
    case eigensolverFailed(Int32)
    public var description: String {
      switch self {
      case .invalidCoefficient(let i, let v): "b_\(i) = \(v) is not a finite, non-negative number"
      case .eigensolverFailed(let info): "the tridiagonal eigensolver failed (LAPACK info \(info))"
      }
    }
  }

  /// Diagonalizes the chain of `b` (b_1, b_2, ...).
  public init(coefficients b: [Double]) throws {
    for (i, v) in b.enumerated() where !(v.isFinite && v >= 0) {
      throw DynamicsError.invalidCoefficient(index: i + 1, value: v)
    }
    let m = b.count + 1
    var d = [Double](repeating: 0, count: m)
    var e = b + [0]
    var z = [Double](repeating: 0, count: m * m)
    var work = [Double](repeating: 0, count: max(1, 2 * m - 2))
    var info: Int32 = 0
    var n = Int32(m)
    var ldz = Int32(m)
    var job = Int8(UInt8(ascii: "V"))
    dstev_(&job, &n, &d, &e, &z, &ldz, &work, &info)
    guard info == 0 else { throw DynamicsError.eigensolverFailed(info) }
    // z is column-major: z[k * m + n] = U_nk.
    var first = [Double](repeating: 0, count: m)
    var w = [Double](repeating: 0, count: m * m)
    for k in 0..<m { first[k] = z[k * m] }
    for k in 0..<m {
      for row in 0..<m { w[row * m + k] = z[k * m + row] * first[k] }
    }
    eigenvalues = d
    firstComponents = first
    weights = w
    size = m
  }

  /// C(t) = (O(t)|O)/(O|O).
  public func autocorrelation(at t: Double) -> Double {
    var c = 0.0
    for k in 0..<size { c += firstComponents[k] * firstComponents[k] * cosine(eigenvalues[k] * t) }
    return c
  }

  /// K(t) = Σ n |φ_n(t)|².
  public func complexity(at t: Double) -> Double {
    var cosines = [Double](repeating: 0, count: size)
    var sines = [Double](repeating: 0, count: size)
    for k in 0..<size {
      cosines[k] = cosine(eigenvalues[k] * t)
      sines[k] = sine(eigenvalues[k] * t)
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
    (0..<size).map { n in
      var re = 0.0
      var im = 0.0
      for k in 0..<size {
        re += weights[n * size + k] * cosine(eigenvalues[k] * t)
        im += weights[n * size + k] * sine(eigenvalues[k] * t)
      }
      return re * re + im * im
    }
  }
}

@inline(__always) private func cosine(_ x: Double) -> Double { cos(x) }
@inline(__always) private func sine(_ x: Double) -> Double { sin(x) }

extension KrylovChainDynamics {
  /// The first grid time at which C(t) from all of `b` and from its first 80% differ by more
  /// than `tolerance`: beyond it the truncated sequence no longer fixes C(t).
  ///
  /// Returns the last grid time when they agree everywhere on the grid.
  public static func convergenceTime(coefficients b: [Double], times: [Double], tolerance: Double) throws -> Double {
    let full = try KrylovChainDynamics(coefficients: b)
    let shorter = try KrylovChainDynamics(coefficients: Array(b.prefix(b.count * 4 / 5)))
    var last = times.first ?? 0
    for t in times {
      if abs(full.autocorrelation(at: t) - shorter.autocorrelation(at: t)) > tolerance { return last }
      last = t
    }
    return last
  }
}
