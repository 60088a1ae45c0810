import KrylovEngine
import Testing

/// The two classical engines against each other: C(t) from exact Lanczos coefficients of the
/// infinite chain (spherical harmonics, breadth-first basis, the Lanczos driver) and C(t) from
/// molecular dynamics on a ring (random unit spins, the colour-split integrator): no code shared
/// beyond reading the model.
@Suite("Classical chains: exact coefficients against molecular dynamics")
struct ClassicalCrossCheckTests {
  @Test("mfim / sz_total: C(t) from 16 exact b_n agrees with 40,000 simulated samples within 3 standard errors")
  func autocorrelation() throws {
    let chain = try SpinChain.infiniteChain(model: .mfim, operator: .szTotal, spins: .classical)
    let plan = try RunPlan(chain: chain, steps: 16)
    let exact = LanczosDriver(space: try plan.buildSpace(), options: plan.lanczosOptions).run()
    #expect(exact.trustedCount == 16)
    #expect(abs(exact.coefficients[0] - 1.05) < 1e-12)  // b_1 = |g| (physics.md §6)

    // A 16-site ring is the infinite chain to within the statistical error for t ≤ 3 (physics.md §6).
    let ring = try SpinChain(model: .mfim, size: 16, boundary: .pbc, operator: .szTotal, spins: .classical)
    let simulation = ClassicalAutocorrelation(
      hamiltonian: try SpinMonomialSum.hamiltonian(of: ring), observable: try SpinMonomialSum.observable(of: ring),
      samples: 40_000, dt: 0.1, steps: 30, seed: 7)
    let estimate = simulation.run()

    // The window where the coefficients determine C(t): 14 and 16 coefficients agree there.
    let full = try KrylovChainDynamics(coefficients: exact.coefficients)
    let shorter = try KrylovChainDynamics(coefficients: Array(exact.coefficients.prefix(14)))
    var compared = 0
    for (k, t) in estimate.times.enumerated() where k > 0 {
      let c = full.autocorrelation(at: t)
      let truncation = abs(c - shorter.autocorrelation(at: t))
      guard truncation < 1e-3 else { continue }
      let sigma = estimate.standardErrors[k]
      #expect(
        abs(c - estimate.values[k]) <= 3 * sigma + truncation, "t = \(t): exact \(c), simulated \(estimate.values[k]) ± \(sigma)")
      compared += 1
    }
    // The comparison covers most of t ≤ 3, and C(t) there is far from trivial (it changes sign).
    #expect(compared >= 20)
    #expect(estimate.values.min()! < -0.1)
  }
}
