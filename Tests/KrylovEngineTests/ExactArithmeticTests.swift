import KrylovEngine
import Testing

/// Runs the engine synchronously on a chain.
func engineRun(_ chain: SpinChain, steps: Int, symmetry: SymmetryMode = .auto) throws -> LanczosResult {
  let plan = try RunPlan(chain: chain, steps: steps, symmetry: symmetry)
  let space = try plan.buildSpace()
  return LanczosDriver(space: space, options: LanczosOptions(steps: steps)).run()
}

/// Every trusted coefficient must match exact arithmetic to 1e-10 relative, and the
/// exhaustion step must be the exact one whenever the run says it is trusted.
func expectHonest(
  _ result: LanczosResult, _ exact: ExactLanczos, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  let reference = exact.coefficients
  #expect(result.trustedCount <= reference.count || exact.exhausted == false, "\(label)", sourceLocation: sourceLocation)
  for n in 0..<min(result.trustedCount, reference.count) {
    let error = abs(result.coefficients[n] - reference[n]) / reference[n]
    #expect(
      error <= 1e-10, "\(label): b_\(n + 1) = \(result.coefficients[n]) vs exact \(reference[n])", sourceLocation: sourceLocation)
  }
  if exact.exhausted && result.trustedCount == reference.count {
    // Every coefficient before the exact exhaustion is trusted: the run must stop exactly there.
    #expect(result.exhausted, "\(label): exact space exhausted after b_\(reference.count)", sourceLocation: sourceLocation)
    #expect(result.coefficients.count == reference.count, "\(label)", sourceLocation: sourceLocation)
    #expect(result.krylovDimension == reference.count + 1, "\(label)", sourceLocation: sourceLocation)
  }
  if result.exhausted && result.exhaustionTrusted {
    #expect(
      exact.exhausted && reference.count == result.coefficients.count, "\(label): trusted exhaustion must be exact",
      sourceLocation: sourceLocation)
  }
}

@Suite("Lanczos against exact rational arithmetic")
struct ExactArithmeticTests {
  static let systems: [(ModelName, OperatorName, Boundary)] = ModelName.allCases.flatMap { m in
    OperatorName.allCases.flatMap { o in Boundary.allCases.map { (m, o, $0) } }
  }

  // 40 steps reach the exhaustion point of most N = 4 systems; exact integers stay under ~10^4 bits.
  @Test("N = 4: every model, operator and boundary, 40 steps", arguments: systems)
  func smallChains(model: ModelName, op: OperatorName, bc: Boundary) throws {
    let chain = try SpinChain(model: model, size: 4, boundary: bc, operator: op)
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: 40)
    let result = try engineRun(chain, steps: 40)
    expectHonest(result, exact, chain.label)
    // Near an exhaustion point b_n falls towards zero and relative accuracy goes with it: most, not all, are trusted.
    #expect(
      Double(result.trustedCount) >= 0.8 * Double(exact.coefficients.count),
      "\(chain.label): trusted \(result.trustedCount) of \(exact.coefficients.count)")
    if exact.exhausted {
      #expect(result.exhausted, "\(chain.label)")
      #expect(result.krylovDimension == exact.coefficients.count + 1, "\(chain.label)")
    }
  }

  static let chargeConserving: [(ModelName, OperatorName, Boundary, Int)] = [ModelName.xxz, .j1j2].flatMap { m in
    OperatorName.allCases.flatMap { o in Boundary.allCases.flatMap { bc in [4, 5, 6].map { (m, o, bc, $0) } } }
  }

  // The exhaustion step of these chains is what floating point alone misses (rounding grows in
  // their hidden conserved charges): the engine must report it exactly, and trusted.
  @Test("U(1) chains, N = 4–6: the Krylov space ends at the exact step", arguments: chargeConserving)
  func chargeConservingExhaustion(model: ModelName, op: OperatorName, bc: Boundary, n: Int) throws {
    let chain = try SpinChain(model: model, size: n, boundary: bc, operator: op)
    let steps = 70
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: steps)
    let result = try engineRun(chain, steps: steps)
    expectHonest(result, exact, chain.label)
    #expect(result.exhausted == exact.exhausted, "\(chain.label): exact \(exact.exhausted)")
    if exact.exhausted {
      #expect(result.krylovDimension == exact.coefficients.count + 1, "\(chain.label)")
      #expect(result.exhaustionTrusted, "\(chain.label)")
    } else {
      #expect(result.coefficients.count == steps, "\(chain.label)")
    }
  }

  @Test(
    "conserved operators stop at b_1 = 0",
    arguments: [
      (ModelName.xxz, OperatorName.szTotal), (.j1j2, .szTotal), (.j1j2, .sxTotal),
    ])
  func conserved(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 6, boundary: .pbc, operator: op)
    let result = try engineRun(chain, steps: 50)
    #expect(result.conserved)
    #expect(result.coefficients.isEmpty)
    #expect(result.krylovDimension == 1)
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: 5)
    #expect(exact.exhausted && exact.coefficients.isEmpty)
  }

  @Test("xxz / sx_total / pbc, N = 5 has exactly 20 coefficients (physics.md §2)")
  func xxzExhaustion() throws {
    let chain = try SpinChain(model: .xxz, size: 5, boundary: .pbc, operator: .sxTotal)
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: 40)
    #expect(exact.exhausted && exact.coefficients.count == 20)
    let result = try engineRun(chain, steps: 40)
    #expect(result.coefficients.count == 20 && result.exhausted && result.exhaustionTrusted)
    #expect(result.trustedCount == 20)
    expectHonest(result, exact, chain.label)
  }

  // Exact integers grow to ~6000 bits by n = 30 at N = 5 (24000 by n = 60): 30 steps keeps this fast.
  @Test(
    "N = 5, pbc: every model and operator, 30 steps",
    arguments: ModelName.allCases.flatMap { m in OperatorName.allCases.map { (m, $0) } })
  func fiveSites(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 5, boundary: .pbc, operator: op)
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: 30)
    let result = try engineRun(chain, steps: 30)
    expectHonest(result, exact, chain.label)
    // Chaotic models have no hidden conserved charges: their sector keeps every step exact.
    if model.isChaotic && op != .z0 && op != .x0 {
      #expect(result.trustedCount == exact.coefficients.count, "\(chain.label): trusted \(result.trustedCount)")
    } else {
      #expect(result.trustedCount >= min(15, exact.coefficients.count), "\(chain.label): trusted \(result.trustedCount)")
    }
  }

  @Test("the trust probe catches the full-basis run going wrong (mfim, N = 5)")
  func fullBasisIsCaught() throws {
    // physics.md §2: in the full basis this run is wrong at order one by n ≈ 52.
    let chain = try SpinChain(model: .mfim, size: 5, boundary: .pbc, operator: .szTotal)
    let steps = 50
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: steps)
    let result = try engineRun(chain, steps: steps, symmetry: .none)
    expectHonest(result, exact, "full basis")
    #expect(result.trustedCount >= 30 && result.trustedCount < 45, "trusted \(result.trustedCount)")
    // And the untrusted tail really goes wrong: the criterion is not merely cautious.
    let worst =
      (result.trustedCount..<steps).map { abs(result.coefficients[$0] - exact.coefficients[$0]) / exact.coefficients[$0] }.max()
      ?? 0
    #expect(worst > 1e-4, "worst untrusted error \(worst)")
    // While the same system in its sector is trusted throughout.
    let sector = try engineRun(chain, steps: steps)
    #expect(sector.trustedCount == steps)
    expectHonest(sector, exact, "sector")
  }

  @Test("full-basis exhaustion is not trusted when it is not exact (xxz / sx_total, N = 5)")
  func fullBasisExhaustion() throws {
    let chain = try SpinChain(model: .xxz, size: 5, boundary: .pbc, operator: .sxTotal)
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: 40)
    let result = try engineRun(chain, steps: 40, symmetry: .none)
    expectHonest(result, exact, "full basis xxz")
    #expect(result.trustedCount <= 20)
  }
}
