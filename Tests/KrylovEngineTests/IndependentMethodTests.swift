import COpenBLAS
import Foundation
import KrylovEngine
import Testing

@Suite("Lanczos against dense matrices and moments")
struct IndependentMethodTests {
  static let pbcSystems: [(ModelName, OperatorName)] = ModelName.allCases.flatMap { m in
    OperatorName.allCases.map { (m, $0) }
  }

  @Test("dense 2^N Lanczos with HO − OH, N = 6, every model and operator", arguments: pbcSystems)
  func denseLanczosAgrees(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 6, boundary: .pbc, operator: op)
    let h = DenseMatrix.of(try chain.hamiltonian(), sites: 6)
    let o = DenseMatrix.of(try chain.initialOperator(), sites: 6)
    // The dense run has no sector protection: compare where it is still accurate. (By b_25 it
    // is already off by 3e-10 for tfim / x0, where the engine agrees with exact arithmetic to the last bit.)
    let dense = denseLanczos(hamiltonian: h, operator: o, steps: 20)
    let result = try engineRun(chain, steps: 20)
    // Where the exact space ends early, the dense run (no sector) may not notice: compare the common part.
    #expect(result.coefficients.count <= dense.count, "\(chain.label)")
    #expect(result.trustedCount >= min(15, result.coefficients.count), "\(chain.label)")
    for n in 0..<min(dense.count, result.trustedCount) {
      #expect(abs(result.coefficients[n] - dense[n]) <= 1e-10 * dense[n], "\(chain.label) b_\(n + 1)")
    }
  }

  @Test("dense Lanczos on open chains, N = 5", arguments: pbcSystems)
  func denseOpenChains(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 5, boundary: .obc, operator: op)
    let dense = denseLanczos(
      hamiltonian: DenseMatrix.of(try chain.hamiltonian(), sites: 5),
      operator: DenseMatrix.of(try chain.initialOperator(), sites: 5), steps: 20)
    let result = try engineRun(chain, steps: 20)
    #expect(result.coefficients.count <= dense.count, "\(chain.label)")
    for n in 0..<min(dense.count, result.trustedCount) {
      #expect(abs(result.coefficients[n] - dense[n]) <= 1e-10 * dense[n], "\(chain.label) b_\(n + 1)")
    }
  }

  /// The moment-to-Lanczos recursion (Viswanath and Müller): b_n from μ_2k = ‖L^k O‖² / ‖O‖².
  static func coefficientsFromMoments(_ mu: [Double]) -> [Double] {
    // M[n][k] for k ≥ n: M[0][k] = μ_2k, M[n][k] = M[n-1][k]/Δ_{n-1} − M[n-2][k-1]/Δ_{n-2}, Δ_n = M[n][n].
    let count = mu.count - 1
    var m: [[Double]] = [mu]
    var delta: [Double] = [1]
    var previous = [Double](repeating: 0, count: mu.count)
    var previousDelta = 1.0
    for n in 1...count {
      var row = [Double](repeating: 0, count: mu.count)
      for k in n...count {
        row[k] = m[n - 1][k] / delta[n - 1] - (k >= 1 ? previous[k - 1] : 0) / previousDelta
      }
      previous = m[n - 1]
      previousDelta = delta[n - 1]
      m.append(row)
      delta.append(row[n])
    }
    return delta.dropFirst().map { $0.squareRoot() }
  }

  @Test(
    "moments μ_2k from Pauli-sum algebra give b_1..b_6",
    arguments: [
      (ModelName.mfim, OperatorName.szTotal, Boundary.pbc), (.mfim, .x0, .obc), (.tfim, .zzTotal, .pbc),
      (.xxz, .sxTotal, .pbc), (.j1j2, .z0, .pbc), (.mfim, .zzTotal, .obc),
    ])
  func moments(model: ModelName, op: OperatorName, bc: Boundary) throws {
    let chain = try SpinChain(model: model, size: 8, boundary: bc, operator: op)
    let h = try chain.hamiltonian()
    var v = try chain.initialOperator()
    let norm = v.dot(v)
    var mu = [1.0]
    for _ in 1...6 {
      v = v.liouvillian(of: h)
      mu.append(v.dot(v) / norm)
    }
    let expected = Self.coefficientsFromMoments(mu)
    let result = try engineRun(chain, steps: 6)
    for n in 0..<6 {
      // The moment recursion loses digits with n: 1e-8 is its own accuracy here.
      #expect(abs(result.coefficients[n] - expected[n]) <= 1e-8 * expected[n], "\(chain.label) b_\(n + 1)")
    }
    #expect(result.trustedCount == 6)
  }

  @Test("the known closed form b_1 = 2|g| for sz_total under mfim")
  func firstCoefficient() throws {
    for g in [-1.05, 0.3, 2.0] {
      let chain = try SpinChain(model: .mfim, parameters: ["g": g], size: 7, boundary: .pbc, operator: .szTotal)
      let result = try engineRun(chain, steps: 1)
      #expect(abs(result.coefficients[0] - 2 * abs(g)) < 1e-14)
    }
  }

  @Test("XX chain with Σ X_i: b_n = 2 sqrt(2n) until the ring is felt (PauliStrings.jl's sequence, N = 10)")
  func pauliStringsReference() throws {
    // Their XX+ZZ chain with Σ X is our xxz with Δ = 0 and sx_total after a rotation about X
    // (Y ↔ Z), which leaves Σ X_i unchanged.
    let chain = try SpinChain(model: .xxz, parameters: ["Delta": 0], size: 10, boundary: .pbc, operator: .sxTotal)
    // On a ring of 10 sites the closed form holds for n ≤ 8; b_9 = 8.4875 already feels the ring (8.4853 open-ended).
    let result = try engineRun(chain, steps: 10)
    for n in 1...8 {
      #expect(abs(result.coefficients[n - 1] - 2 * (2 * Double(n)).squareRoot()) < 1e-12, "b_\(n)")
    }
    #expect(abs(result.coefficients[8] - 2 * 18.0.squareRoot()) > 1e-3)
  }
}

@Suite("C(t) and K(t)")
struct ObservableTests {
  let times = stride(from: 0.0, through: 5.0, by: 0.25).map { $0 }

  @Test("b_n = α sqrt(n(n−1+η)) gives C(t) = sech(αt)^η", arguments: [(1.0, 1.0), (0.7, 2.0), (1.3, 0.5)])
  func sech(alpha: Double, eta: Double) throws {
    // Up to αt = 2.5 the weight beyond n = 800 is below 1e-9: the truncation cannot show.
    let b = (1...800).map { n in alpha * (Double(n) * (Double(n) - 1 + eta)).squareRoot() }
    let d = try KrylovChainDynamics(coefficients: b)
    for t in stride(from: 0.0, through: 2.5 / alpha, by: 0.125 / alpha) {
      let expected = pow(1 / cosh(alpha * t), eta)
      #expect(abs(d.autocorrelation(at: t) - expected) < 1e-9, "t = \(t)")
      // K(t) = η sinh²(αt) for this family.
      let k = eta * pow(sinh(alpha * t), 2)
      #expect(abs(d.complexity(at: t) - k) < 1e-7 * max(1, k), "K at t = \(t)")
    }
  }

  @Test("b_n = sqrt(n) gives a Gaussian")
  func gaussian() throws {
    let d = try KrylovChainDynamics(coefficients: (1...400).map { Double($0).squareRoot() })
    for t in times { #expect(abs(d.autocorrelation(at: t) - exp(-t * t / 2)) < 1e-10, "t = \(t)") }
  }

  @Test("constant b gives J_1(2bt)/(bt)", arguments: [0.5, 1.0, 2.0])
  func semicircle(b: Double) throws {
    let d = try KrylovChainDynamics(coefficients: Array(repeating: b, count: 400))
    for t in times where t > 0 {
      #expect(abs(d.autocorrelation(at: t) - j1(2 * b * t) / (b * t)) < 1e-10, "t = \(t)")
    }
    #expect(abs(d.autocorrelation(at: 0) - 1) < 1e-14)
  }

  // Systems whose trusted coefficients reach t = 10: long trusted runs, or trusted exhaustion
  // (which fixes C(t) for every t). Integrable systems whose trust ends early (xxz, j1j2 at
  // N = 6: 14 to 68 trusted) cannot fix C(t) out to t = 10; docs/benchmarks.md lists them.
  @Test(
    "C(t) from the engine's b_n equals the dense matrix exponential, N = 6, t ≤ 10",
    arguments: [
      (ModelName.mfim, OperatorName.szTotal), (.mfim, .z0), (.mfim, .zzTotal), (.tfim, .sxTotal), (.tfim, .zzTotal),
    ])
  func denseAutocorrelationAgrees(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 6, boundary: .pbc, operator: op)
    // The trusted prefix (or the whole sequence up to a trusted exhaustion) fixes C(t) for t ≤ 10.
    let result = try engineRun(chain, steps: 400)
    #expect(
      result.trustedCount >= 150 || (result.exhaustionTrusted && result.trustedCount == result.coefficients.count),
      "\(chain.label)")
    let d = try KrylovChainDynamics(coefficients: Array(result.coefficients.prefix(result.trustedCount)))
    let grid = stride(from: 0.0, through: 10.0, by: 0.5).map { $0 }
    let h = DenseMatrix.of(try chain.hamiltonian(), sites: 6).realPart
    let o = DenseMatrix.of(try chain.initialOperator(), sites: 6).realPart
    let dense = denseAutocorrelation(hamiltonian: h, operator: o, dimension: 64, times: grid)
    for (t, c) in zip(grid, dense) {
      #expect(abs(d.autocorrelation(at: t) - c) < 1e-8, "\(chain.label) t = \(t)")
    }
  }

  @Test("probabilities on the Krylov chain sum to one")
  func normalization() throws {
    let d = try KrylovChainDynamics(coefficients: (1...50).map { 0.8 * Double($0) })
    for t in [0.0, 0.5, 2.0] {
      #expect(abs(d.probabilities(at: t).reduce(0, +) - 1) < 1e-12)
    }
  }

  @Test("bad coefficients are refused")
  func refusesBadInput() {
    #expect(throws: KrylovChainDynamics.DynamicsError.self) { try KrylovChainDynamics(coefficients: [1, .nan]) }
    #expect(throws: KrylovChainDynamics.DynamicsError.self) { try KrylovChainDynamics(coefficients: [-1]) }
  }
}
