import KrylovEngine
import Testing

@Suite("The infinite chain")
struct InfiniteChainTests {
  /// Runs the infinite chain for `steps` coefficients.
  func infinite(_ model: ModelName, _ op: OperatorName, steps: Int) throws -> LanczosResult {
    let chain = try SpinChain.infiniteChain(model: model, operator: op)
    let plan = try RunPlan(chain: chain, steps: steps)
    return LanczosDriver(space: try plan.buildSpace(), options: plan.lanczosOptions).run()
  }

  // Light cone: with nearest-neighbour terms O_n spans at most n + w sites (w the operator's
  // width), so a ring of N sites cannot tell itself from the infinite chain while n ≤ N − w − 1
  // (n ≤ 9 on 12 sites even for zz_total; a ring of 10 departs at b_8 for xxz / zz_total).
  @Test(
    "agrees with a ring of 12 sites over 8 steps (inside the light cone)",
    arguments: [
      (ModelName.mfim, OperatorName.szTotal), (.mfim, .sxTotal), (.mfim, .zzTotal), (.tfim, .szTotal),
      (.xxz, .sxTotal), (.xxz, .zzTotal),
    ])
  func agreesWithRing(model: ModelName, op: OperatorName) throws {
    let inf = try infinite(model, op, steps: 8)
    #expect(inf.trustedCount == inf.coefficients.count)
    let ring = try engineRun(SpinChain(model: model, size: 12, boundary: .pbc, operator: op), steps: 8)
    #expect(ring.coefficients.count == inf.coefficients.count)
    for k in 0..<min(ring.trustedCount, inf.coefficients.count) {
      #expect(abs(inf.coefficients[k] - ring.coefficients[k]) <= 1e-12 * ring.coefficients[k], "\(model) \(op) b_\(k + 1)")
    }
  }

  // For mfim / sz_total the ring holds out longer, to n = 2N − 3 (measured, as physics.md says),
  // and departs right after; xxz departs earlier (the N = 6 ring already at b_5).
  @Test("mfim / sz_total agrees with rings of 5 and 6 sites up to b_{2N-3}")
  func mfimTwoNMinusThree() throws {
    let inf = try infinite(.mfim, .szTotal, steps: 10)
    for n in [5, 6] {
      let ring = try engineRun(SpinChain(model: .mfim, size: n, boundary: .pbc, operator: .szTotal), steps: 10)
      for k in 0..<(2 * n - 3) {
        #expect(abs(inf.coefficients[k] - ring.coefficients[k]) <= 1e-12 * ring.coefficients[k], "N=\(n) b_\(k + 1)")
      }
      #expect(abs(inf.coefficients[2 * n - 3] - ring.coefficients[2 * n - 3]) > 1e-6, "N=\(n) departs at b_\(2 * n - 2)")
    }
  }

  @Test("next-nearest-neighbour j1j2 agrees with a large ring over its first steps")
  func j1j2() throws {
    let inf = try infinite(.j1j2, .zzTotal, steps: 4)
    let ring = try engineRun(SpinChain(model: .j1j2, size: 12, boundary: .pbc, operator: .zzTotal), steps: 4)
    for k in 0..<4 { #expect(abs(inf.coefficients[k] - ring.coefficients[k]) <= 1e-12 * ring.coefficients[k]) }
  }

  @Test("conserved operators are conserved on the infinite chain too")
  func conserved() throws {
    #expect(try infinite(.xxz, .szTotal, steps: 3).conserved)
  }

  @Test("single-site operators are refused, with the reason")
  func refusesLocalOperators() {
    #expect(throws: SystemError.notTranslationInvariant("z0")) { try SpinChain.infiniteChain(model: .mfim, operator: .z0) }
  }

  @Test("too many steps are refused by the memory guard, up front and while the classes are reached")
  func memoryGuard() throws {
    let plan = try RunPlan(chain: SpinChain.infiniteChain(model: .mfim, operator: .szTotal), steps: 70)
    #expect(throws: MemoryGuardError.self) { try plan.checkMemory(limit: 16 << 30) }
    // 24 steps pass the up-front estimate for 64 MB but not the build's own projection at 8 MB.
    let small = try RunPlan(chain: SpinChain.infiniteChain(model: .mfim, operator: .szTotal), steps: 24)
    #expect(small.estimatedBytes < 1 << 30)
    #expect(throws: InfiniteChainSpace.BuildError.self) { _ = try small.buildSpace(memoryLimit: 8 << 20) }
  }

  /// The reached-class space against the plain dictionary algebra of the truncated mode with
  /// nothing truncated: no sparse matrices, no reorthogonalization, no class ordering.
  @Test("24 exact coefficients agree with dictionary algebra", arguments: [OperatorName.szTotal, .sxTotal, .zzTotal])
  func agreesWithDictionaryAlgebra(op: OperatorName) throws {
    let exact = try infinite(.mfim, op, steps: 24)
    #expect(exact.trustedCount == 24)
    let plan = try RunPlan(chain: SpinChain.infiniteChain(model: .mfim, operator: op), steps: 24)
    let reference = try TruncatedInfiniteLanczos(plan: plan, keep: Int.max).run(steps: 24)
    #expect(reference.exactUntil == 24)
    for k in 0..<24 {
      let (x, y) = (exact.coefficients[k], reference.coefficients[k])
      #expect(abs(x - y) <= 1e-12 * y, "b_\(k + 1)")
    }
  }

  /// A Hamiltonian with imaginary terms (no Y-parity blocks: the last level shares its block
  /// with every other), without the mirror symmetry.
  static let complexCell = "1.0*X0Y1 + -0.7*Y0X1 + 0.5*Z0 + 0.3*X0"

  @Test("a chain without Y-parity blocks agrees with dictionary algebra")
  func oneBlockAgreesWithDictionaryAlgebra() throws {
    let chain = try SpinChain.infiniteChain(
      model: nil, hamiltonianText: Self.complexCell, operator: nil, operatorText: "Z0", translateOperator: true)
    let plan = try RunPlan(chain: chain, steps: 12)
    let space = try plan.buildSpace()
    #expect(space.blockDimensions.count == 1)
    let exact = LanczosDriver(space: space, options: plan.lanczosOptions).run()
    let reference = try TruncatedInfiniteLanczos(plan: plan, keep: Int.max).run(steps: 12)
    #expect(exact.trustedCount == 12 && reference.exactUntil == 12)
    for k in 0..<12 {
      #expect(abs(exact.coefficients[k] - reference.coefficients[k]) <= 1e-12 * reference.coefficients[k], "b_\(k + 1)")
    }
  }

  /// Every entry a product can read, (r|L|c) with c below r's level or beside it, is minus
  /// (c|L|r): the rows of the last level, made by transposing, against the rows the expansion
  /// of the level before it gave, and every other row against its own transpose.
  @Test(
    "the stored rows are antisymmetric, the last level's included",
    arguments: [(complexCell, "Z0", 9), ("1.0*Z0Z1 + -1.05*X0 + 0.5*Z0", "Z0", 14)])
  func antisymmetricRows(cell: String, op: String, steps: Int) throws {
    let chain = try SpinChain.infiniteChain(
      model: nil, hamiltonianText: cell, operator: nil, operatorText: op, translateOperator: true)
    let space = try #require(try RunPlan(chain: chain, steps: steps).buildSpace() as? InfiniteChainSpace)
    let blocks = space.blockCount
    // matrices[b] maps block b to block b + 1: its rows are the classes of block b + 1.
    func entries(_ b: Int) -> [Int: [Int: Double]] {
      let m = space.matrices[b]
      let values = m.expandedValues
      var rows: [Int: [Int: Double]] = [:]
      for r in 0..<m.rowCount {
        for k in m.rowStart[r]..<m.rowStart[r + 1] { rows[r, default: [:]][Int(m.columns[k])] = values[k] }
      }
      return rows
    }
    let all = (0..<blocks).map(entries)
    let lastBlock = (space.initialBlock + steps) % blocks
    let lastLevelStart = space.levelEnds[lastBlock][steps - 1]
    var checked = 0
    var lastLevelEntries = 0
    for b in 0..<blocks {
      let rowBlock = (b + 1) % blocks
      for (r, row) in all[b] {
        for (c, v) in row {
          // A row of the last level only ever meets the level before it; other rows' entries
          // into the last level multiply zeros, so their transposes are not kept.
          let columnInLastLevel = b == lastBlock && c >= lastLevelStart
          guard !columnInLastLevel else { continue }
          // Row c is a class of block b: a row of the matrix into block b.
          let transposed = try #require(all[(b + blocks - 1) % blocks][c]?[r], "entry (\(c), \(r))")
          #expect(abs(v + transposed) <= 1e-14 * abs(v), "(\(r)|L|\(c)) = −(\(c)|L|\(r))")
          checked += 1
          if rowBlock == lastBlock && r >= lastLevelStart { lastLevelEntries += 1 }
        }
      }
    }
    #expect(lastLevelEntries > 0)
    #expect(checked > lastLevelEntries)
  }

  @Test("Krylov vectors occupy growing prefixes: the levels reached so far")
  func prefixes() throws {
    let plan = try RunPlan(chain: SpinChain.infiniteChain(model: .mfim, operator: .szTotal), steps: 16)
    let space = try plan.buildSpace()
    let lengths = (0...16).map { space.vectorLength(step: $0) }
    #expect(lengths[0] == 1)
    for n in 2...16 { #expect(lengths[n] > lengths[n - 2], "level \(n) adds classes") }
    #expect(lengths[16] == space.blockDimensions[(space.initialBlock + 16) % 2])
  }
}
