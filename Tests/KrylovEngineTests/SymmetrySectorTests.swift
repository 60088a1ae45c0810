import Foundation
import KrylovEngine
import Testing

@Suite("Symmetry sectors")
struct SymmetrySectorTests {
  @Test(
    "the detected group matches the system",
    arguments: [
      (OperatorName.szTotal, Boundary.pbc, 12, true, true),
      (.zzTotal, .pbc, 12, true, true),
      (.z0, .pbc, 2, false, true),  // reflection about site 0
      (.szTotal, .obc, 2, false, true),  // mirror of the open chain
      (.x0, .obc, 1, false, false),
    ])
  func groups(op: OperatorName, bc: Boundary, order: Int, translations: Bool, reflections: Bool) throws {
    let chain = try SpinChain(model: .mfim, size: 6, boundary: bc, operator: op)
    let g = SymmetryGroup.detect(
      hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), size: 6, boundary: bc)
    #expect(g.order == order)
    #expect(g.hasTranslations == translations)
    #expect(g.hasReflections == reflections)
  }

  @Test("a custom Hamiltonian that breaks reflection keeps only translations")
  func chiral() throws {
    let chain = try SpinChain(
      model: nil, hamiltonianText: "Z0Z1 + 0.7*X0Z1 + -1.05*X0", size: 6, boundary: .pbc, operator: .szTotal)
    let g = SymmetryGroup.detect(
      hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), size: 6, boundary: .pbc)
    #expect(g.order == 6 && g.hasTranslations && !g.hasReflections)
  }

  @Test("Burnside's counts equal the enumerated orbits", arguments: [3, 4, 5, 6, 7])
  func burnside(n: Int) throws {
    for bc in Boundary.allCases {
      for op in [OperatorName.szTotal, .z0] {
        let chain = try SpinChain(model: .mfim, size: n, boundary: bc, operator: op)
        let g = SymmetryGroup.detect(
          hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), size: n, boundary: bc)
        let sector = PauliSector(size: n, group: g, parityBlocks: true)
        let counts = g.orbitCounts()
        #expect(sector.blockDimensions == [counts.even, counts.odd], "\(chain.label)")
        // Orbit sizes add up to every non-identity string.
        let total = sector.orbitSizes.flatMap { $0 }.reduce(0) { $0 + Int($1) }
        #expect(total == (1 << (2 * n)) - 1)
      }
    }
  }

  @Test("Burnside's counts with spin-flip signs equal the enumerated orbits", arguments: [3, 4, 5, 6])
  func burnsideWithFlips(n: Int) throws {
    for bc in Boundary.allCases {
      let chain = try SpinChain(model: .xxz, size: n, boundary: bc, operator: .sxTotal)
      let g = SymmetryGroup.detect(
        hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator(), size: n, boundary: bc)
      var byX = [0, 0]
      for x in [nil, 0, 1] as [Int?] {
        for z in [nil, 0, 1] as [Int?] {
          let flips = SpinFlips(x: x, z: z)
          let sector = PauliSector(size: n, group: g, parityBlocks: true, flips: flips)
          let counts = g.orbitCounts(flips: flips)
          #expect(sector.blockDimensions == [counts.even, counts.odd], "\(chain.label) \(flips)")
          for key in sector.keys.flatMap({ $0 }) { #expect(flips.admits(sector.orbits.string(key: key))) }
          if let x, z == nil { byX[x] = counts.even + counts.odd }
        }
      }
      // The two signs under ∏X split the unconstrained sector.
      let all = g.orbitCounts()
      #expect(byX[0] + byX[1] == all.even + all.odd)
    }
  }

  @Test("a string's sign under ∏X and ∏Z is its commutation with X…X and Z…Z")
  func flipSigns() throws {
    let n = 5
    let allX = PauliString(x: (1 << UInt64(n)) - 1, z: 0)
    let allZ = PauliString(x: 0, z: (1 << UInt64(n)) - 1)
    for key in 0..<(UInt64(1) << UInt64(2 * n)) {
      let s = PauliString(x: key & ((1 << UInt64(n)) - 1), z: key >> UInt64(n))
      let signs = SpinFlips.signs(s)
      // P S P = S when S commutes with P, −S when it anticommutes.
      #expect((signs.x == 0) == s.commutes(with: allX))
      #expect((signs.z == 0) == s.commutes(with: allZ))
    }
    // Detection: tfim is even under ∏X only, xxz and j1j2 under both, mfim (h ≠ 0) under neither.
    func detected(_ model: ModelName, _ op: OperatorName) throws -> SpinFlips {
      let chain = try SpinChain(model: model, size: 6, operator: op)
      return SpinFlips.detect(hamiltonian: try chain.hamiltonian(), operator: try chain.initialOperator())
    }
    #expect(try detected(.tfim, .szTotal) == SpinFlips(x: 1, z: nil))
    #expect(try detected(.tfim, .sxTotal) == SpinFlips(x: 0, z: nil))
    #expect(try detected(.xxz, .sxTotal) == SpinFlips(x: 0, z: 1))
    #expect(try detected(.j1j2, .zzTotal) == SpinFlips(x: 0, z: 0))
    #expect(try detected(.mfim, .szTotal) == .none)
  }

  @Test(
    "spin flips halve the sector and leave every trusted b_n unchanged",
    arguments: [
      (ModelName.tfim, OperatorName.szTotal), (.xxz, .sxTotal), (.j1j2, .zzTotal),
    ])
  func flipsKeepCoefficients(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 8, boundary: .pbc, operator: op)
    let plan = try RunPlan(chain: chain, steps: 60, symmetry: .pauli)
    #expect(!plan.flips.isEmpty)
    let group = plan.group
    let unflipped = try PauliSectorSpace(
      hamiltonian: plan.hamiltonian, operator: plan.initialOperator, size: 8, group: group, flips: .none)
    let flipped = try plan.buildSectorSpace()
    let ratio = Double(unflipped.blockDimensions.reduce(0, +)) / Double(flipped.blockDimensions.reduce(0, +))
    #expect(ratio > (plan.flips.z == nil ? 1.8 : 3.5), "dimension ratio \(ratio)")
    let a = LanczosDriver(space: flipped, options: plan.lanczosOptions).run()
    let b = LanczosDriver(space: unflipped, options: plan.lanczosOptions).run()
    let trusted = min(a.trustedCount, b.trustedCount)
    #expect(trusted >= 20)
    for n in 0..<trusted {
      #expect(abs(a.coefficients[n] - b.coefficients[n]) <= 1e-12 * b.coefficients[n], "b_\(n + 1)")
    }
  }

  @Test(
    "the sector Liouvillian equals i[H, ·] on Pauli sums",
    arguments: [
      (ModelName.mfim, OperatorName.szTotal, Boundary.pbc), (.j1j2, .z0, .pbc), (.xxz, .sxTotal, .obc),
      (.tfim, .x0, .obc),
    ])
  func liouvillian(model: ModelName, op: OperatorName, bc: Boundary) throws {
    let chain = try SpinChain(model: model, size: 6, boundary: bc, operator: op)
    let plan = try RunPlan(chain: chain, steps: 4, symmetry: .pauli)
    let space = try #require(try plan.buildSectorSpace() as? PauliSectorSpace)
    // Three applications both ways: sector matrices versus dictionary algebra.
    try expectLiouvillianMatchesAlgebra(space: space, chain: chain, applications: 3) {
      space.sector.pauliSum(block: $0, vector: $1)
    }
  }

  @Test("the sector matrices are antisymmetric between blocks")
  func antisymmetry() throws {
    let chain = try SpinChain(model: .mfim, size: 6, boundary: .pbc, operator: .szTotal)
    let space = try RunPlan(chain: chain, steps: 1).buildSectorSpace()
    #expect(space is PauliSectorSpace)
    let forward = space.matrices[0]  // block 0 -> block 1, rows index block 1
    let backward = space.matrices[1]
    let backwardValues = backward.expandedValues
    let forwardValues = forward.expandedValues
    var entries: [Int: Double] = [:]
    for r in 0..<backward.rowCount {
      for k in backward.rowStart[r]..<backward.rowStart[r + 1] {
        entries[Int(backward.columns[k]) * 1_000_000 + r] = backwardValues[k]
      }
    }
    var checked = 0
    for r in 0..<forward.rowCount {
      for k in forward.rowStart[r]..<forward.rowStart[r + 1] {
        let transposed = entries[r * 1_000_000 + Int(forward.columns[k])] ?? 0
        #expect(abs(forwardValues[k] + transposed) < 1e-13)
        checked += 1
      }
    }
    #expect(checked == forward.nonzeros && forward.nonzeros == backward.nonzeros)
  }
}

@Suite("Running, streaming, cancelling, refusing")
struct RunControlTests {
  @Test("a job streams every coefficient in order, then finishes")
  func streams() async throws {
    let chain = try SpinChain(model: .mfim, size: 6, boundary: .pbc, operator: .szTotal)
    let job = LanczosJob(plan: try RunPlan(chain: chain, steps: 40), options: LanczosOptions(steps: 40))
    var seen: [Int] = []
    var started = false
    var finished: LanczosResult?
    for await event in job.events {
      switch event {
      case .setupProgress: break
      case .started: started = true
      case .step(let s): seen.append(s.n)
      case .finished(let r): finished = r
      case .failed(let m), .refused(let m): Issue.record("failed: \(m)")
      }
    }
    #expect(started)
    #expect(seen == Array(1...40))
    #expect(finished?.coefficients.count == 40)
  }

  @Test("cancel stops a long run between steps")
  func cancels() async throws {
    let chain = try SpinChain(model: .mfim, size: 10, boundary: .pbc, operator: .szTotal)
    let job = LanczosJob(plan: try RunPlan(chain: chain, steps: 5000), options: LanczosOptions(steps: 5000))
    var steps = 0
    var result: LanczosResult?
    for await event in job.events {
      if case .step = event {
        steps += 1
        if steps == 3 { job.cancel() }
      }
      if case .finished(let r) = event { result = r }
    }
    #expect(result?.stopReason == .cancelled)
    // Events queue ahead of a reader that the machine's load may hold back for seconds, so the
    // job's count is bounded only by its length here; the driver below is exact about it.
    #expect((result?.coefficients.count ?? 5000) < 5000)
  }

  @Test("a cancelled driver stops at the next step")
  func driverCancels() throws {
    let chain = try SpinChain(model: .mfim, size: 10, boundary: .pbc, operator: .szTotal)
    let plan = try RunPlan(chain: chain, steps: 5000)
    let flag = CancellationFlag()
    let result = LanczosDriver(space: try plan.buildSpace(), options: LanczosOptions(steps: 5000))
      .run(isCancelled: { flag.isSet }) { step in if step.n == 3 { flag.set() } }
    #expect(result.stopReason == .cancelled)
    #expect(result.coefficients.count == 3)
  }

  @Test("an oversized run is refused before it starts, naming the largest N that fits")
  func memoryGuard() throws {
    let chain = try SpinChain(model: .mfim, size: 16, boundary: .pbc, operator: .szTotal)
    let plan = try RunPlan(chain: chain, steps: 300)
    #expect(plan.estimatedBytes > 1 << 30)
    do {
      try plan.checkMemory(limit: 1 << 30)
      Issue.record("not refused")
    } catch {
      let fits = try #require(error.largestSizeThatFits)
      #expect(fits < 16 && fits >= 8)
      #expect(
        try RunPlan(chain: SpinChain(model: .mfim, size: fits, boundary: .pbc, operator: .szTotal), steps: 300).estimatedBytes
          <= 1 << 30)
      #expect(
        try RunPlan(chain: SpinChain(model: .mfim, size: fits + 1, boundary: .pbc, operator: .szTotal), steps: 300).estimatedBytes
          > 1 << 30)
      #expect(error.description.contains("largest N that fits is \(fits)"))
    }
  }

  @Test(
    "the memory estimate covers what a run really holds",
    arguments: [
      (ModelName.mfim, OperatorName.szTotal), (.xxz, .sxTotal), (.xxz, .zzTotal), (.j1j2, .z0), (.j1j2, .x0),
    ])
  func estimateIsUpperBound(model: ModelName, op: OperatorName) throws {
    let chain = try SpinChain(model: model, size: 8, boundary: .pbc, operator: op)
    let plan = try RunPlan(chain: chain, steps: 200)
    let space = try plan.buildSectorSpace()
    #expect(space.blockDimensions == plan.blockDimensions)
    let held =
      space.storageBytes
      + LanczosDriver.vectorBytes(
        blockDimensions: space.blockDimensions, initialBlock: space.initialBlock, steps: 200)
    #expect(held <= plan.estimatedBytes)
  }
}

@Suite("Set-up progress")
struct SetupProgressTests {
  /// Every fraction a set-up reports, in the order they came.
  final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    func add(_ f: Double) { lock.withLock { values.append(f) } }
    var all: [Double] { lock.withLock { values } }
  }

  @Test(
    "every kind of set-up reports its progress, between 0 and 1, up to its end",
    arguments: [
      ("mfim", 10, "sector"), ("xxz", 10, "charge"), ("mfim", 0, "infinite"), ("mfim", 0, "classical"),
    ])
  func reports(model: String, n: Int, kind: String) throws {
    let name = try #require(ModelName(rawValue: model))
    let chain: SpinChain =
      switch kind {
      case "infinite": try SpinChain.infiniteChain(model: name, operator: .szTotal)
      case "classical":
        try SpinChain(
          spins: .classical, model: .builtIn(name, parameters: [:]), operator: .builtIn(.szTotal), geometry: .infinite)
      default: try SpinChain(model: name, size: n, boundary: .pbc, operator: .sxTotal)
      }
    let plan = try RunPlan(chain: chain, steps: kind == "classical" ? 10 : kind == "infinite" ? 16 : 50)
    let reports = Reports()
    _ = try plan.buildSpace(progress: { reports.add($0) })
    let all = reports.all
    #expect(!all.isEmpty, "\(kind)")
    #expect(all.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(kind)")
    // Workers finish out of order, but the largest report is the end of the set-up (searches
    // stop short of 1: they measure against a projection).
    #expect((all.max() ?? 0) >= (kind == "sector" || kind == "charge" ? 1 : 0.5), "\(kind): \(all.max() ?? 0)")
  }

  @Test("a job turns the reports into at most one event per percent, rising")
  func jobEvents() async throws {
    let chain = try SpinChain(model: .mfim, size: 11, boundary: .pbc, operator: .szTotal)
    let job = LanczosJob(plan: try RunPlan(chain: chain, steps: 2), options: LanczosOptions(steps: 2))
    var fractions: [Double] = []
    for await event in job.events {
      if case .setupProgress(let f) = event { fractions.append(f) }
    }
    #expect(!fractions.isEmpty)
    #expect(fractions == fractions.sorted() && Set(fractions).count == fractions.count)
    #expect(fractions.count <= 100 && (fractions.last ?? 0) == 1)
  }
}
