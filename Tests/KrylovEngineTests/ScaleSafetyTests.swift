import Foundation
import KrylovEngine
import Testing

/// Inputs far from unit scale: b_n are linear in H and independent of O's normalization, so a
/// run on λH or μO must give λ·b_n or b_n — exact identities, checked where double precision's
/// squares would overflow (1e200) or underflow (1e-200).
@Suite("Scale safety: coefficients and observables of inputs at 1e±200")
struct ScaleSafetyTests {
  let cell = "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0"

  func run(hamiltonian: String, operatorText: String, steps: Int = 12) throws -> LanczosResult {
    let chain = try SpinChain(
      model: nil, hamiltonianText: hamiltonian, size: 7, boundary: .pbc, operator: nil, operatorText: operatorText,
      translateOperator: true)
    let plan = try RunPlan(chain: chain, steps: steps)
    return LanczosDriver(space: try plan.buildSpace(), options: plan.lanczosOptions).run()
  }

  @Test("b_n scale with H, exactly, from 1e-200 to 1e200", arguments: ["1e200", "1e-200", "0x1p900"])
  func hamiltonianScale(factor: String) throws {
    let reference = try run(hamiltonian: cell, operatorText: "Z0")
    let lambda = Double(factor) ?? 0
    let text = "\(1.0 * lambda)*Z0Z1 + \(-1.05 * lambda)*X0 + \(0.5 * lambda)*Z0"
    let scaledRun = try run(hamiltonian: text, operatorText: "Z0")
    #expect(scaledRun.stopReason == reference.stopReason)
    #expect(scaledRun.trustedCount == reference.trustedCount)
    #expect(scaledRun.coefficients.count == reference.coefficients.count)
    for (a, b) in zip(scaledRun.coefficients, reference.coefficients) {
      #expect(a.isFinite)
      #expect(abs(a / lambda - b) <= 1e-13 * b, "\(a) vs \(b)·\(lambda)")
    }
  }

  @Test("b_n do not depend on the operator's scale, even at 1e±200", arguments: ["1e200", "1e-200"])
  func operatorScale(factor: String) throws {
    let reference = try run(hamiltonian: cell, operatorText: "Z0 + 0.5*X0")
    let scaledRun = try run(hamiltonian: cell, operatorText: "\(factor)*Z0 + \(0.5 * Double(factor)!)*X0")
    #expect(scaledRun.stopReason == reference.stopReason)
    #expect(scaledRun.coefficients.count == reference.coefficients.count)
    for (a, b) in zip(scaledRun.coefficients, reference.coefficients) { #expect(abs(a - b) <= 1e-13 * b) }
  }

  @Test("The norm of a Pauli sum is scale safe")
  func pauliNorm() {
    let tiny = PauliSum([(PauliString(x: 0, z: 1), 1e-200), (PauliString(x: 0, z: 2), 1e-200)])
    #expect(abs(tiny.norm / (2.0.squareRoot() * 1e-200) - 1) < 1e-15)
    let huge = PauliSum([(PauliString(x: 0, z: 1), 1e300), (PauliString(x: 0, z: 2), 1e300)])
    #expect(abs(huge.norm / (2.0.squareRoot() * 1e300) - 1) < 1e-15)
  }

  @Test("C(t) and K(t) of λ·b at time t/λ are those of b at t (λ = 1e±300)", arguments: [1e300, 1e-300])
  func observablesScale(lambda: Double) throws {
    let b = [1.0, 1.7, 2.1, 2.9, 3.2, 3.9, 4.1]
    let reference = try KrylovChainDynamics(coefficients: b)
    let scaled = try KrylovChainDynamics(coefficients: b.map { $0 * lambda })
    for t in stride(from: 0.0, through: 3, by: 0.25) {
      #expect(abs(scaled.autocorrelation(at: t / lambda) - reference.autocorrelation(at: t)) < 1e-12)
      #expect(abs(scaled.complexity(at: t / lambda) - reference.complexity(at: t)) < 1e-11)
    }
  }

  @Test("A sequence too long to diagonalize is refused with its cost, not allocated")
  func observablesRefuseHugeSequences() {
    let b = [Double](repeating: 1, count: KrylovChainDynamics.maximumCount + 1)
    #expect(throws: KrylovChainDynamics.DynamicsError.self) { try KrylovChainDynamics(coefficients: b) }
    #expect(KrylovChainDynamics.estimatedBytes(count: Int.max - 1) == Int.max)
  }
}
