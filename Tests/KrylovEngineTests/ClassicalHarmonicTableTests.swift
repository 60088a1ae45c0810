import Foundation
import KrylovEngine
import Testing

/// Real harmonics evaluated directly (associated Legendre recurrence, no tables, no ladders),
/// and a quadrature on the sphere: the independent reference for the tables.
enum SphereQuadrature {
  /// Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n).
  static func gaussLegendre(_ n: Int) -> [(x: Double, w: Double)] {
    (0..<n).map { i in
      var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
      var dp = 0.0
      for _ in 0..<100 {
        var p0 = 1.0
        var p1 = x
        for k in 2...n {
          let p2 = ((2 * Double(k) - 1) * x * p1 - (Double(k) - 1) * p0) / Double(k)
          p0 = p1
          p1 = p2
        }
        dp = Double(n) * (x * p1 - p0) / (x * x - 1)
        let dx = p1 / dp
        x -= dx
        if abs(dx) < 1e-16 { break }
      }
      return (x, 2 / ((1 - x * x) * dp * dp))
    }
  }

  /// Real harmonic k = l² + l + m at (cos θ = x, φ), normalized so that ⟨R R⟩ = 1.
  static func harmonic(_ k: Int, x: Double, phi: Double) -> Double {
    var l = 0
    while (l + 1) * (l + 1) <= k { l += 1 }
    let m = k - l * l - l
    let am = abs(m)
    // P_l^|m| without the Condon–Shortley phase.
    var pmm = 1.0
    let s = (1 - x * x).squareRoot()
    for i in 0..<am { pmm *= Double(2 * i + 1) * s }
    var p = pmm
    if l > am {
      var older = pmm
      var current = x * Double(2 * am + 1) * pmm
      if l > am + 1 {
        for ll in (am + 2)...l {
          let next = (Double(2 * ll - 1) * x * current - Double(ll + am - 1) * older) / Double(ll - am)
          older = current
          current = next
        }
      }
      p = current
    }
    var ratio = 1.0  // (l − |m|)! / (l + |m|)!
    if am > 0 { for i in (l - am + 1)...(l + am) { ratio /= Double(i) } }
    let norm = (Double(2 * l + 1) * ratio).squareRoot()
    let angular = m == 0 ? 1.0 : (m > 0 ? 2.0.squareRoot() * cos(Double(m) * phi) : 2.0.squareRoot() * sin(Double(am) * phi))
    return norm * p * angular
  }

  /// ⟨f⟩ over the uniform measure: 32 Gauss–Legendre nodes in cos θ times 64 angles in φ.
  static func average(_ f: (_ x: Double, _ phi: Double) -> Double) -> Double {
    let nodes = gaussLegendre(32)
    let angles = 64
    var total = 0.0
    for (x, w) in nodes {
      var ring = 0.0
      for j in 0..<angles { ring += f(x, 2 * Double.pi * Double(j) / Double(angles)) }
      total += w * ring / Double(angles)
    }
    return total / 2
  }
}

@Suite("Classical spin chains: spherical harmonic tables")
struct ClassicalHarmonicTableTests {
  let tables = SphericalHarmonicTables(maxDegree: 25)
  let epsilon: [[[Double]]] = (0..<3).map { a in
    (0..<3).map { b in
      (0..<3).map { c in
        if (a, b, c) == (0, 1, 2) || (a, b, c) == (1, 2, 0) || (a, b, c) == (2, 0, 1) { return 1 }
        if (a, b, c) == (0, 2, 1) || (a, b, c) == (2, 1, 0) || (a, b, c) == (1, 0, 2) { return -1 }
        return 0
      }
    }
  }

  /// (A B v)_t for the basis vector v = e_k, as a dictionary.
  func apply(_ a: SphericalHarmonicTables.Operator, _ b: SphericalHarmonicTables.Operator, to k: Int) -> [Int: Double] {
    var out: [Int: Double] = [:]
    for i in b.column(k) {
      let mid = Int(b.targets[i])
      for j in a.column(mid) { out[Int(a.targets[j]), default: 0] += a.values[j] * b.values[i] }
    }
    return out
  }

  func single(_ a: SphericalHarmonicTables.Operator, _ k: Int, scale: Double) -> [Int: Double] {
    var out: [Int: Double] = [:]
    for i in a.column(k) { out[Int(a.targets[i]), default: 0] += scale * a.values[i] }
    return out
  }

  /// Largest |(X − Y − Z)_t| over targets.
  func difference(_ x: [Int: Double], _ y: [Int: Double], _ z: [Int: Double]) -> Double {
    Set(x.keys).union(y.keys).union(z.keys).map { abs(x[$0, default: 0] - y[$0, default: 0] - z[$0, default: 0]) }.max() ?? 0
  }

  @Test("[D_a, M_b] = ε_abc M_c on every degree up to 25")
  func derivationOfMultiplication() {
    var worst = 0.0
    for k in 0..<SphericalHarmonicTables.count(upToDegree: 25) {
      for a in 0..<3 {
        for b in 0..<3 {
          let c = 3 - a - b
          let expected = a == b ? [:] : single(tables.multiply[c], k, scale: epsilon[a][b][c])
          let dm = apply(tables.derive[a], tables.multiply[b], to: k)
          let md = apply(tables.multiply[b], tables.derive[a], to: k)
          worst = max(worst, difference(dm, md, expected))
        }
      }
    }
    #expect(worst < 1e-12, "largest deviation \(worst)")
  }

  @Test("[D_a, D_b] = ε_abc D_c on every degree up to 26")
  func derivationsCloseAlgebra() {
    var worst = 0.0
    for k in 0..<SphericalHarmonicTables.count(upToDegree: 26) {
      for a in 0..<3 {
        for b in 0..<3 where a != b {
          let c = 3 - a - b
          let ab = apply(tables.derive[a], tables.derive[b], to: k)
          let ba = apply(tables.derive[b], tables.derive[a], to: k)
          worst = max(worst, difference(ab, ba, single(tables.derive[c], k, scale: epsilon[a][b][c])))
        }
      }
    }
    #expect(worst < 1e-12, "largest deviation \(worst)")
  }

  @Test("M_a is symmetric and D_a antisymmetric")
  func symmetries() {
    let n = SphericalHarmonicTables.count(upToDegree: 25)
    var worstM = 0.0
    var worstD = 0.0
    for a in 0..<3 {
      for s in 0..<n {
        for i in tables.multiply[a].column(s) where Int(tables.multiply[a].targets[i]) < n {
          let t = Int(tables.multiply[a].targets[i])
          worstM = max(worstM, abs(tables.multiply[a].values[i] - tables.multiply[a].element(s, t)))
        }
        for i in tables.derive[a].column(s) {
          let t = Int(tables.derive[a].targets[i])
          worstD = max(worstD, abs(tables.derive[a].values[i] + tables.derive[a].element(s, t)))
        }
      }
    }
    #expect(worstM < 1e-14)
    #expect(worstD < 1e-14)
  }

  @Test("the directly evaluated harmonics are orthonormal under the quadrature (degrees ≤ 6)")
  func orthonormality() {
    let n = SphericalHarmonicTables.count(upToDegree: 6)
    var worst = 0.0
    for i in 0..<n {
      for j in i..<n {
        let v = SphereQuadrature.average { x, phi in
          SphereQuadrature.harmonic(i, x: x, phi: phi) * SphereQuadrature.harmonic(j, x: x, phi: phi)
        }
        worst = max(worst, abs(v - (i == j ? 1 : 0)))
      }
    }
    #expect(worst < 1e-12)
  }

  @Test("multiplication tables match ⟨R_t S^a R_s⟩ by quadrature (degrees ≤ 6)")
  func multiplicationByQuadrature() {
    let n = SphericalHarmonicTables.count(upToDegree: 6)
    var worst = 0.0
    for a in 0..<3 {
      for s in 0..<SphericalHarmonicTables.count(upToDegree: 5) {
        for t in 0..<n {
          let v = SphereQuadrature.average { x, phi in
            let r = (1 - x * x).squareRoot()
            let component = [r * cos(phi), r * sin(phi), x][a]
            return SphereQuadrature.harmonic(t, x: x, phi: phi) * component * SphereQuadrature.harmonic(s, x: x, phi: phi)
          }
          worst = max(worst, abs(v - tables.multiply[a].element(t, s)))
        }
      }
    }
    #expect(worst < 1e-12)
  }

  @Test("D_z = {S^z, ·} = −∂/∂φ matches the quadrature of the φ-derivative (degrees ≤ 6)")
  func derivationZByQuadrature() {
    let n = SphericalHarmonicTables.count(upToDegree: 6)
    var worst = 0.0
    let h = 1e-4
    for s in 0..<n {
      for t in 0..<n {
        // Central difference of order 4 in φ: exact enough for trigonometric degree ≤ 6.
        let v = SphereQuadrature.average { x, phi in
          let d =
            (-SphereQuadrature.harmonic(s, x: x, phi: phi + 2 * h) + 8 * SphereQuadrature.harmonic(s, x: x, phi: phi + h)
              - 8 * SphereQuadrature.harmonic(s, x: x, phi: phi - h) + SphereQuadrature.harmonic(s, x: x, phi: phi - 2 * h))
            / (12 * h)
          return -SphereQuadrature.harmonic(t, x: x, phi: phi) * d
        }
        worst = max(worst, abs(v - tables.derive[2].element(t, s)))
      }
    }
    #expect(worst < 1e-9)
  }

  @Test("spin components are √3 times the degree-1 harmonics")
  func components() {
    #expect(abs(tables.multiply[0].element(3, 0) - 1 / 3.0.squareRoot()) < 1e-15)
    #expect(abs(tables.multiply[1].element(1, 0) - 1 / 3.0.squareRoot()) < 1e-15)
    #expect(abs(tables.multiply[2].element(2, 0) - 1 / 3.0.squareRoot()) < 1e-15)
  }

  @Test("keys: decode inverts encode, and leading constant sites are the key's leading zeros")
  func keys() throws {
    var rng = SplitMix64(seed: 7)
    for _ in 0..<500 {
      let sites = Int(rng.next() % 8) + 1
      var ks = (0..<sites).map { _ in UInt16(rng.next() % 50) }
      ks[sites - 1] = max(ks[sites - 1], 1)
      let key = try #require(HarmonicKey.encode(ks))
      #expect(HarmonicKey.decode(key) == ks)
      let shifted = try #require(HarmonicKey.encode([0, 0] + ks))
      #expect(shifted << 2 == key)
    }
  }
}
