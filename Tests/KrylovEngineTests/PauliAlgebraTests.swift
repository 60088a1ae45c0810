import KrylovEngine
import Testing

@Suite("Pauli algebra against dense matrices")
struct PauliAlgebraTests {
  @Test("single letters are the Pauli matrices", arguments: ["X", "Y", "Z"])
  func letters(letter: String) {
    let s = PauliString(letter: Character(letter), site: 0)
    #expect(DenseMatrix.of(s, sites: 1) == DenseMatrix.pauli(Character(letter)))
  }

  @Test("products carry the exact phase", arguments: [1, 2, 3, 5])
  func products(sites n: Int) {
    var rng = SplitMix64(seed: UInt64(n))
    for _ in 0..<60 {
      let a = randomString(sites: n, using: &rng)
      let b = randomString(sites: n, using: &rng)
      let (phase, c) = a.multiplied(by: b)
      let dense = DenseMatrix.of(a, sites: n) * DenseMatrix.of(b, sites: n)
      let phases: [(Double, Double)] = [(1, 0), (0, 1), (-1, 0), (0, -1)]
      var expected = DenseMatrix(dimension: 1 << n)
      expected.add(DenseMatrix.of(c, sites: n), scale: phases[phase])
      #expect(dense.maxDifference(expected) < 1e-14, "\(a) · \(b)")
    }
  }

  @Test("commutation and i[A, B] agree with AB − BA", arguments: [2, 4])
  func commutators(sites n: Int) {
    var rng = SplitMix64(seed: 77 + UInt64(n))
    for _ in 0..<60 {
      let a = randomString(sites: n, using: &rng)
      let b = randomString(sites: n, using: &rng)
      let da = DenseMatrix.of(a, sites: n)
      let db = DenseMatrix.of(b, sites: n)
      var commutator = da * db
      commutator.add(db * da, scale: (-1, 0))
      // i[A, B]
      var expected = DenseMatrix(dimension: 1 << n)
      expected.add(commutator, scale: (0, 1))
      #expect(a.commutes(with: b) == (commutator.norm < 1e-14))
      var got = DenseMatrix(dimension: 1 << n)
      if let (sign, c) = a.liouvillian(acting: b) { got.add(DenseMatrix.of(c, sites: n), scale: (sign, 0)) }
      #expect(got.maxDifference(expected) < 1e-14)
    }
  }

  @Test("the fused update C = βC + α i[H, A] on sums")
  func fusedUpdate() {
    let n = 4
    var rng = SplitMix64(seed: 5)
    func randomSum(_ terms: Int) -> PauliSum {
      PauliSum((0..<terms).map { _ in (randomString(sites: n, using: &rng), Double(rng.next() % 1000) / 100 - 5) })
    }
    let h = randomSum(6)
    let a = randomSum(5)
    var c = randomSum(4)
    let c0 = c
    c.update(beta: 0.5, alpha: -1.5, liouvillianOf: h, acting: a)
    let dh = DenseMatrix.of(h, sites: n)
    let da = DenseMatrix.of(a, sites: n)
    var comm = dh * da
    comm.add(da * dh, scale: (-1, 0))
    var expected = DenseMatrix(dimension: 1 << n)
    expected.add(DenseMatrix.of(c0, sites: n), scale: (0.5, 0))
    expected.add(comm, scale: (0, -1.5))  // -1.5 · i · [H, A]
    #expect(DenseMatrix.of(c, sites: n).maxDifference(expected) < 1e-12)
  }

  @Test("inner product and norm follow Tr(A†B)/2^N")
  func innerProduct() {
    let n = 3
    var rng = SplitMix64(seed: 9)
    let a = PauliSum((0..<5).map { _ in (randomString(sites: n, using: &rng), Double(rng.next() % 100) / 10) })
    let b = PauliSum((0..<5).map { _ in (randomString(sites: n, using: &rng), Double(rng.next() % 100) / 10) })
    let dense = DenseMatrix.of(a, sites: n).dot(DenseMatrix.of(b, sites: n))
    #expect(abs(a.dot(b) - dense.re) < 1e-12)
    #expect(abs(dense.im) < 1e-12)
    #expect(abs(a.norm - DenseMatrix.of(a, sites: n).norm) < 1e-12)
  }
}

@Suite("Models and the operator text form")
struct ModelTests {
  @Test("built-in Hamiltonians have the terms of physics.md §3")
  func builtInTerms() throws {
    let mfim = try SpinChain(model: .mfim, size: 4, boundary: .pbc, operator: .szTotal).hamiltonian()
    #expect(mfim.count == 12)
    #expect(mfim[PauliString(x: 0, z: 0b1001)] == 1)  // Z3 Z0 bond closes the ring
    #expect(mfim[PauliString(x: 0b0100, z: 0)] == -1.05)
    #expect(mfim[PauliString(x: 0, z: 0b0010)] == 0.5)
    let open = try SpinChain(model: .mfim, size: 4, boundary: .obc, operator: .szTotal).hamiltonian()
    #expect(open.count == 11)
    let xxz = try SpinChain(model: .xxz, parameters: ["Delta": 0.25], size: 5, boundary: .pbc, operator: .sxTotal)
      .hamiltonian()
    #expect(xxz[PauliString(x: 0b11, z: 0b11)] == 1)  // Y0 Y1
    #expect(xxz[PauliString(x: 0, z: 0b11)] == 0.25)
    let j1j2 = try SpinChain(model: .j1j2, size: 6, boundary: .pbc, operator: .z0).hamiltonian()
    #expect(j1j2.count == 36)
    #expect(j1j2[PauliString(x: 0b101, z: 0)] == 0.5)
  }

  @Test("operators are normalized as physics.md says")
  func operators() throws {
    for op in OperatorName.allCases {
      for bc in Boundary.allCases {
        let o = try SpinChain(model: .mfim, size: 6, boundary: bc, operator: op).initialOperator()
        #expect(abs(o.norm - 1) < 1e-14, "\(op) \(bc)")
      }
    }
  }

  @Test("a custom unit cell equals the built-in model", arguments: Boundary.allCases)
  func customHamiltonian(bc: Boundary) throws {
    let custom = try SpinChain(
      model: nil, hamiltonianText: "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0", size: 7, boundary: bc, operator: .szTotal)
    let builtIn = try SpinChain(model: .mfim, size: 7, boundary: bc, operator: .szTotal)
    #expect(try custom.hamiltonian().isApproximatelyEqual(to: builtIn.hamiltonian(), tolerance: 0))
  }

  @Test("a translated custom operator equals sz_total up to normalization")
  func customOperator() throws {
    let chain = try SpinChain(
      model: .mfim, size: 5, boundary: .pbc, operator: nil, operatorText: "Z0", translateOperator: true)
    let o = try chain.initialOperator()
    let expected = try SpinChain(model: .mfim, size: 5, boundary: .pbc, operator: .szTotal).initialOperator()
    #expect(o.scaled(by: 1 / o.norm).isApproximatelyEqual(to: expected, tolerance: 1e-15))
  }

  @Test(
    "parse errors point at the offending character",
    arguments: [
      ("1.0*Z0Q1", 6, "expected"),
      ("Z0 + ", 4, "expected a term"),
      ("2*X", 3, "site number"),
      ("Z0Z0", 2, "appears twice"),
      ("1.0.0*X0", 0, "not a number"),
      ("", 0, "empty"),
      ("Z0 X1 *", 6, "'*'"),
      ("3.5", 0, "constant"),
    ])
  func parseErrors(text: String, offset: Int, fragment: String) {
    do {
      _ = try PauliTextParser.parse(text)
      Issue.record("'\(text)' parsed")
    } catch {
      #expect(error.offset == min(offset, max(text.count - 1, 0)), "\(error)")
      #expect(error.message.contains(fragment), "\(error.message)")
      #expect(error.description.contains("^"))
    }
  }

  @Test("the text form reads signs, exponents and spacing")
  func parseForms() throws {
    let terms = try PauliTextParser.parse(" 1e-1 * x0 y2 - Z1 + -2.5*Z0Z1")
    #expect(terms.count == 3)
    #expect(terms[0].coefficient == 0.1)
    #expect(terms[0].factors.map(\.letter) == ["X", "Y"])
    #expect(terms[1].coefficient == -1)
    #expect(terms[2].coefficient == -2.5)
  }

  @Test("bad systems are refused with a reason")
  func badSystems() {
    #expect(throws: SystemError.sizeOutOfRange(2, minimum: 3, maximum: SpinChain.maximumSize)) {
      try SpinChain(model: .mfim, size: 2, boundary: .pbc, operator: .szTotal)
    }
    #expect(throws: SystemError.self) { try SpinChain(model: .mfim, parameters: ["q": 1], size: 5, operator: .z0) }
    #expect(throws: SystemError.siteOutOfRange(what: "operator", site: 9, size: 5)) {
      try SpinChain(model: .mfim, size: 5, boundary: .pbc, operator: nil, operatorText: "Z9")
    }
    #expect(throws: SystemError.self) {
      try SpinChain(model: nil, hamiltonianText: "Z0Z1 - Z0Z1", size: 5, boundary: .pbc, operator: .z0)
    }
  }
}
