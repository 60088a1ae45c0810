import KrylovEngine
import Testing

/// A chain from texts: a custom Hamiltonian unit cell translated over a ring, and an operator.
private func customChain(_ h: String, size: Int, boundary: Boundary = .pbc, op: OperatorName? = nil, operatorText: String? = nil)
  throws -> SpinChain
{
  try SpinChain(
    model: nil, hamiltonianText: h, size: size, boundary: boundary, operator: op, operatorText: operatorText)
}

/// xxz with a longitudinal field: U(1) and real, but the field keeps the Z-count parity.
private let xxzInField = "1.0*X0X1 + 1.0*Y0Y1 + 0.5*Z0Z1 + 0.3*Z0"

@Suite("Charge sectors of U(1)-symmetric chains")
struct ChargeSectorTests {
  @Test("U(1) is detected from H, not declared")
  func detection() throws {
    for model in ModelName.allCases {
      for op in OperatorName.allCases {
        let chain = try SpinChain(model: model, size: 6, boundary: .pbc, operator: op)
        let found = ChargeStructure.detect(
          hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), size: 6)
        #expect((found != nil) == (model == .xxz || model == .j1j2), "\(chain.label)")
        if let found {
          // σ^x operators carry ±1, σ^z ones 0; xxz and j1j2 flip the Z parity.
          #expect(found.charges == (op == .sxTotal || op == .x0 ? [1] : [0]), "\(chain.label)")
          #expect(found.parities != nil)
        }
      }
    }
    // A Dzyaloshinskii–Moriya term conserves S^z but is imaginary in the ladder basis: Pauli sector.
    let dm = try customChain("1.0*X0Y1 + -1.0*Y0X1 + 1.0*Z0Z1", size: 6, op: .zzTotal)
    #expect(ChargeStructure.detect(hamiltonian: try dm.hamiltonian(), operator: try dm.initialOperator(), size: 6) == nil)
    let field = try customChain(xxzInField, size: 6, op: .x0)
    let structure = try #require(
      ChargeStructure.detect(hamiltonian: try field.hamiltonian(), operator: try field.initialOperator(), size: 6))
    #expect(structure.parities == nil)
    // X0 X1 carries charges 0 and ±2.
    let pair = try customChain(xxzInField, size: 6, operatorText: "1.0*X0X1")
    let mixed = try #require(
      ChargeStructure.detect(hamiltonian: try pair.hamiltonian(), operator: try pair.initialOperator(), size: 6))
    #expect(mixed.charges == [0, 2])
  }

  @Test("Burnside's counts equal the enumerated charge orbits", arguments: [3, 4, 5, 6, 7])
  func burnside(n: Int) throws {
    var chains: [SpinChain] = []
    for bc in Boundary.allCases {
      for op in OperatorName.allCases where op != .szTotal {
        chains.append(try SpinChain(model: .xxz, size: n, boundary: bc, operator: op))
      }
      chains.append(try customChain(xxzInField, size: n, boundary: bc, op: .x0))
      chains.append(try customChain(xxzInField, size: n, boundary: bc, operatorText: "1.0*X0X1"))
    }
    for chain in chains {
      let plan = try RunPlan(chain: chain, steps: 4)
      let structure = try #require(plan.charges, "\(chain.label)")
      let space = try #require(try plan.buildSectorSpace() as? ChargeSectorSpace)
      #expect(space.blockDimensions == plan.blockDimensions, "\(chain.label)")
      #expect(space.orbits.blockDimensions == structure.orbitCounts(group: plan.group), "\(chain.label)")
      // Every enumerated string has one of the operator's charges.
      for key in space.orbits.keys.flatMap({ $0 }) {
        #expect(structure.charges.contains(abs(Ladder.charge(space.orbits.string(key: key)))))
      }
    }
  }

  @Test(
    "the charge sector's Liouvillian equals i[H, ·] on Pauli sums",
    arguments: [
      ("xxz sx_total obc", Boundary.obc), ("j1j2 z0 pbc", .pbc), ("xxz zz_total pbc", .pbc),
      ("field x0", .pbc), ("field X0X1", .obc),
    ])
  func liouvillian(name: String, bc: Boundary) throws {
    let chain: SpinChain =
      switch name {
      case "xxz sx_total obc": try SpinChain(model: .xxz, size: 6, boundary: bc, operator: .sxTotal)
      case "j1j2 z0 pbc": try SpinChain(model: .j1j2, size: 6, boundary: bc, operator: .z0)
      case "xxz zz_total pbc": try SpinChain(model: .xxz, size: 6, boundary: bc, operator: .zzTotal)
      case "field x0": try customChain(xxzInField, size: 6, boundary: bc, op: .x0)
      default: try customChain(xxzInField, size: 6, boundary: bc, operatorText: "1.0*X0X1")
      }
    let plan = try RunPlan(chain: chain, steps: 4)
    let space = try #require(try plan.buildSectorSpace() as? ChargeSectorSpace, "\(chain.label)")
    // Four applications both ways: sector matrices versus dictionary algebra.
    try expectLiouvillianMatchesAlgebra(space: space, chain: chain, applications: 4) {
      space.pauliSum(block: $0, vector: $1)
    }
  }

  @Test("charge sectors against exact arithmetic: a field, mixed charges, open and closed chains")
  func exactCustom() throws {
    for bc in Boundary.allCases {
      for chain in [
        try customChain(xxzInField, size: 5, boundary: bc, op: .x0),
        try customChain(xxzInField, size: 5, boundary: bc, operatorText: "1.0*X0X1"),
        try customChain(xxzInField, size: 5, boundary: bc, operatorText: "1.0*X0 + 0.5*Z1"),
      ] {
        let plan = try RunPlan(chain: chain, steps: 30)
        #expect(plan.charges != nil, "\(chain.label)")
        let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: 30)
        let result = try engineRun(chain, steps: 30)
        expectHonest(result, exact, chain.label)
        #expect(result.trustedCount >= min(15, exact.coefficients.count), "\(chain.label): trusted \(result.trustedCount)")
      }
    }
  }

  @Test("the charge sector keeps rounding out of charges the operator never reaches (xxz, σ^x operators, N = 8)")
  func trustGain() throws {
    for op in [OperatorName.sxTotal, .x0] {
      let steps = 300
      let chain = try SpinChain(model: .xxz, size: 8, boundary: .pbc, operator: op)
      let charge = try engineRun(chain, steps: steps)
      let pauli = try engineRun(chain, steps: steps, symmetry: .pauli)
      #expect(
        charge.trustedCount >= min(steps, 2 * pauli.trustedCount),
        "\(op): \(charge.trustedCount) against \(pauli.trustedCount)")
      for n in 0..<min(charge.trustedCount, pauli.trustedCount) {
        #expect(abs(charge.coefficients[n] - pauli.coefficients[n]) <= 1e-10 * pauli.coefficients[n], "b_\(n + 1)")
      }
    }
  }
}

@Suite("Exact Krylov dimension (modular arithmetic) against exact rational Lanczos")
struct ExactKrylovDimensionTests {
  /// The dimension the rational reference finds, or nil when it is not exhausted within `steps`.
  private func reference(_ chain: SpinChain, steps: Int) throws -> Int? {
    let exact = ExactLanczos(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), steps: steps)
    return exact.exhausted ? exact.coefficients.count + 1 : nil
  }

  private func modular(_ chain: SpinChain, steps: Int, symmetry: SymmetryMode) throws -> ExactKrylovDimension.Finding? {
    let space = try RunPlan(chain: chain, steps: steps, symmetry: symmetry).buildSectorSpace()
    let exact = try #require(space as? any ExactlyRepresentedSpace)
    return ExactKrylovDimension.compute(space: exact, steps: steps)
  }

  @Test("in every kind of sector: full basis, Pauli sector with flips, charge sector; non-dyadic couplings")
  func agreesWithRationalLanczos() throws {
    let chains: [SpinChain] = [
      try SpinChain(model: .xxz, size: 5, boundary: .pbc, operator: .sxTotal),
      try SpinChain(model: .tfim, size: 5, boundary: .obc, operator: .zzTotal),
      try SpinChain(model: .mfim, size: 4, boundary: .pbc, operator: .x0),
      try SpinChain(model: .j1j2, size: 5, boundary: .obc, operator: .z0),
      try SpinChain(model: .xxz, parameters: ["Delta": 1.05], size: 5, boundary: .pbc, operator: .zzTotal),
      try customChain("1.3*X0X1 + 1.3*Y0Y1 + 0.7*Z0Z1 + 0.3*Z0", size: 5, op: .x0),
    ]
    let steps = 45
    for chain in chains {
      let expected = try reference(chain, steps: steps)
      for symmetry in [SymmetryMode.auto, .pauli, .none] {
        let found = try modular(chain, steps: steps, symmetry: symmetry)
        #expect(found == (expected.map { .exhausted(dimension: $0) } ?? .notExhausted), "\(chain.label) \(symmetry)")
      }
    }
  }

  @Test("a space larger than the steps is reported as not exhausted, and an oversized computation is not attempted")
  func limits() throws {
    // Dimension 64: b_1 … b_63 are nonzero and b_64 = 0.
    let chain = try SpinChain(model: .xxz, size: 6, boundary: .pbc, operator: .sxTotal)
    #expect(try modular(chain, steps: 63, symmetry: .auto) == .notExhausted)
    #expect(try modular(chain, steps: 64, symmetry: .auto) == .exhausted(dimension: 64))
    let large = try SpinChain(model: .mfim, size: 10, boundary: .pbc, operator: .szTotal)
    #expect(try modular(large, steps: 300, symmetry: .auto) == nil)
  }
}
