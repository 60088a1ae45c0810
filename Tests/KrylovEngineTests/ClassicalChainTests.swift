import KrylovEngine
import Testing

/// Runs the classical chain through the run plan and the one Lanczos driver.
func classicalRun(_ chain: SpinChain, steps: Int, symmetry: SymmetryMode = .auto) throws -> LanczosResult {
  let classical = try chain.with(spins: .classical)
  let plan = try RunPlan(chain: classical, steps: steps, symmetry: symmetry)
  return LanczosDriver(space: try plan.buildSpace(), options: LanczosOptions(steps: steps)).run()
}

func expectClose(
  _ engine: [Double], _ reference: [Double], relative: Double, _ label: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(engine.count == reference.count, "\(label): counts", sourceLocation: sourceLocation)
  for (n, (a, b)) in zip(engine, reference).enumerated() {
    #expect(abs(a - b) <= relative * abs(b), "\(label) b_\(n + 1): \(a) vs \(b)", sourceLocation: sourceLocation)
  }
}

@Suite("Classical spin chains: against exact polynomial algebra")
struct ClassicalExactTests {
  @Test(
    "b_n match exact rational polynomial algebra (no harmonics) to 1e-12",
    arguments: [
      (ModelName.mfim, OperatorName.szTotal, 3, Boundary.pbc, 6),
      (.mfim, .szTotal, 2, .obc, 8),
      (.mfim, .z0, 3, .obc, 6),
      (.mfim, .szTotal, 4, .pbc, 4),
      (.xxz, .sxTotal, 3, .pbc, 5),
      (.xxz, .x0, 2, .obc, 6),
    ])
  func exact(model: ModelName, op: OperatorName, n: Int, bc: Boundary, steps: Int) throws {
    let chain = try SpinChain(model: model, size: n, boundary: bc, operator: op)
    let reference = ExactSpinPolynomials(
      hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), sites: n, steps: steps)
    let engine = try classicalRun(chain, steps: steps)
    #expect(engine.trustedCount == steps)
    expectClose(engine.coefficients, reference.coefficients, relative: 1e-12, "\(model) \(op) N=\(n) \(bc)")
  }
}

@Suite("Classical spin chains: identities and symmetries")
struct ClassicalChainTests {
  func infinite(_ model: ModelName, _ op: OperatorName, parameters: [String: Double] = [:], steps: Int) throws
    -> LanczosResult
  {
    try classicalRun(SpinChain.infiniteChain(model: model, parameters: parameters, operator: op), steps: steps)
  }

  @Test("mfim / sz_total: b_1 = |g| (physics.md §6)", arguments: [-1.05, 0.7, 2.0])
  func firstCoefficient(g: Double) throws {
    let inf = try infinite(.mfim, .szTotal, parameters: ["g": g], steps: 2)
    #expect(abs(inf.coefficients[0] - abs(g)) < 1e-14)
    let ring = try classicalRun(SpinChain(model: .mfim, parameters: ["g": g], size: 5, operator: .szTotal), steps: 2)
    #expect(abs(ring.coefficients[0] - abs(g)) < 1e-14)
  }

  @Test(
    "conserved operators are reported as conserved",
    arguments: [(ModelName.xxz, OperatorName.szTotal), (.j1j2, .szTotal), (.j1j2, .sxTotal)])
  func conserved(model: ModelName, op: OperatorName) throws {
    #expect(try infinite(model, op, steps: 4).conserved)
    #expect(try classicalRun(SpinChain(model: model, size: 6, operator: op), steps: 4).conserved)
    // Not conserved under a model that breaks the symmetry.
    #expect(!(try infinite(.mfim, op, steps: 2).conserved))
  }

  @Test("the infinite chain equals a ring of N sites for n ≤ 2N − 3 (N = 4, 5)", arguments: [4, 5])
  func ringAgreesWithInfiniteChain(n: Int) throws {
    let steps = 2 * n - 1
    let inf = try infinite(.mfim, .szTotal, steps: steps)
    let ring = try classicalRun(SpinChain(model: .mfim, size: n, boundary: .pbc, operator: .szTotal), steps: steps)
    let k = 2 * n - 3
    expectClose(Array(inf.coefficients.prefix(k)), Array(ring.coefficients.prefix(k)), relative: 1e-12, "N=\(n)")
    #expect(abs(inf.coefficients[k] - ring.coefficients[k]) > 1e-6 * inf.coefficients[k], "the ring departs at b_\(k + 1)")
  }

  @Test("symmetry orbits change nothing: the sector and the plain basis agree (N = 4 pbc, N = 4 obc)")
  func symmetryReduction() throws {
    for chain in [
      try SpinChain(model: .mfim, size: 4, boundary: .pbc, operator: .szTotal),
      try SpinChain(model: .j1j2, size: 4, boundary: .obc, operator: .zzTotal),
    ] {
      let reduced = try classicalRun(chain, steps: 6)
      let plain = try classicalRun(chain, steps: 6, symmetry: .none)
      expectClose(reduced.coefficients, plain.coefficients, relative: 1e-12, chain.label)
    }
  }

  @Test("a custom Hamiltonian text reads as spin components (same as mfim)")
  func customText() throws {
    let custom = try SpinChain.infiniteChain(
      model: nil, hamiltonianText: "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0", operator: nil, operatorText: "Z0",
      translateOperator: true)
    let a = try classicalRun(custom, steps: 8)
    let b = try infinite(.mfim, .szTotal, steps: 8)
    expectClose(a.coefficients, b.coefficients, relative: 1e-13, "custom")
  }

  @Test("a mirror-asymmetric Hamiltonian runs without the reflection and still matches a large ring")
  func withoutReflection() throws {
    let text = "1.0*Z0X1 + 0.6*X0 + 0.3*Z0"
    let inf = try SpinChain.infiniteChain(
      model: nil, hamiltonianText: text, operator: nil, operatorText: "Z0", translateOperator: true)
    var plan = try RunPlan(chain: inf.with(spins: .classical), steps: 5)
    let space = try #require(try plan.buildSpace() as? ClassicalChainSpace)
    #expect(!space.reflection)
    let a = LanczosDriver(space: space, options: LanczosOptions(steps: 5)).run()
    let ring = try SpinChain(
      model: nil, hamiltonianText: text, size: 8, boundary: .pbc, operator: nil, operatorText: "Z0", translateOperator: true)
    let b = try classicalRun(ring, steps: 5)
    expectClose(a.coefficients, b.coefficients, relative: 1e-12, "asymmetric")
    plan = try RunPlan(chain: SpinChain.infiniteChain(model: .mfim, operator: .szTotal, spins: .classical), steps: 3)
    #expect((try plan.buildSpace() as? ClassicalChainSpace)?.reflection == true)
  }

  @Test("vector n lives in its prefix: L on prefixes equals L on whole blocks")
  func prefixes() throws {
    let chain = try SpinChain.infiniteChain(model: .mfim, operator: .szTotal, spins: .classical)
    let space = try #require(try RunPlan(chain: chain, steps: 9).buildSpace() as? ClassicalChainSpace)
    var rng = SplitMix64(seed: 3)
    for n in 0..<9 {
      let source = (space.initialBlock + n) % space.blockDimensions.count
      let target = (source + 1) % space.blockDimensions.count
      let inLength = space.vectorLength(step: n)
      let outLength = space.vectorLength(step: n + 1)
      #expect(inLength <= space.blockDimensions[source] && outLength <= space.blockDimensions[target])
      var full = [Double](repeating: 0, count: space.blockDimensions[source])
      for i in 0..<inLength { full[i] = rng.nextSigned() }
      var wholeOut = [Double](repeating: .nan, count: space.blockDimensions[target])
      var prefixOut = [Double](repeating: .nan, count: outLength)
      full.withUnsafeBufferPointer { input in
        wholeOut.withUnsafeMutableBufferPointer {
          space.applyLiouvillian(block: source, input: input, output: $0, perturbation: 0)
        }
        let prefix = UnsafeBufferPointer(rebasing: input[0..<inLength])
        prefixOut.withUnsafeMutableBufferPointer {
          space.applyLiouvillian(block: source, input: prefix, output: $0, perturbation: 0)
        }
      }
      #expect(Array(wholeOut[0..<outLength]) == prefixOut, "step \(n)")
      #expect(wholeOut[outLength...].allSatisfy { $0 == 0 }, "step \(n): nothing beyond the prefix")
    }
  }

  @Test("the memory estimate is available before enumerating, and not below what the run holds")
  func estimate() throws {
    let chain = try SpinChain.infiniteChain(model: .mfim, operator: .szTotal, spins: .classical)
    let plan = try RunPlan(chain: chain, steps: 16)
    let estimate = try #require(plan.classicalEstimate)
    #expect(estimate.measuredLevels < 17, "the pilot stops early")
    let space = try #require(try plan.buildSpace() as? ClassicalChainSpace)
    let actual = space.basis.levelSizes.reduce(0, +)
    let projected = estimate.levelSizes.reduce(0, +)
    #expect(projected >= Double(actual) && projected < 4 * Double(actual), "projected \(projected), actual \(actual)")
    #expect(Double(plan.estimatedBytes) >= Double(space.storageBytes))
  }
}
