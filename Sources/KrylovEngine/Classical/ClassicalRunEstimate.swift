import Foundation

/// The size of a classical run, known before the basis is enumerated: for the memory guard.
///
/// The breadth-first levels grow geometrically (about 2.3× per step for mfim / sz_total on the
/// infinite chain, 4.7× for xxz / sx_total), so a pilot enumeration of the first levels, stopped
/// once a level passes `pilotCap` elements (milliseconds), gives the growth factor: the mean
/// ratio over the last two levels (which smooths the alternation between parity blocks), raised
/// by 3% as a margin (measured for mfim / sz_total: 2.21 to 2.26 from level 12 to 19). Later
/// levels and their nonzeros per column (also raised by 3% per projected level: wider elements
/// have more neighbours) are extrapolated from it. Documented in
/// docs/physics.md; an estimate, meant to err on the large side.
public struct ClassicalRunEstimate: Sendable {
  /// Elements per level 0...steps: measured for the pilot's levels, projected beyond.
  public var levelSizes: [Double]
  /// Nonzeros of the Liouvillian's columns (levels 0..<steps).
  public var nonzeros: Double
  public var blockDimensions: [Int]
  /// Measured levels (the rest projected).
  public var measuredLevels: Int
  public var growthFactor: Double
  /// Bytes of the basis build and both recursions' vectors, at their peak.
  public var bytes: Double

  public static let pilotCap = 20_000

  public init(hamiltonian h: PauliSum, operator o: PauliSum, geometry: ClassicalGeometry, steps: Int) throws {
    let pilot = try ClassicalChainSpace(
      hamiltonian: h, operator: o, geometry: geometry, levels: steps, levelCap: Self.pilotCap)
    let basis = pilot.basis
    var sizes = basis.levelSizes.map(Double.init)
    let p = sizes.count - 1
    measuredLevels = p + 1
    // Nonzeros per column of the last expanded level.
    let lastColumns = p >= 1 ? sizes[p - 1] : 1
    let lastNonzeros = p >= 1 ? Double(basis.levelNonzeros[p - 1]) : 0
    var perColumn = lastColumns > 0 ? lastNonzeros / lastColumns : 0
    let g = LevelGrowth.factor(sizes, over: 2, margin: 1.03)
    growthFactor = g
    var nonzeros = Double(basis.nonzeros)
    if p < steps {
      for _ in (p + 1)...steps {
        nonzeros += sizes[sizes.count - 1] * perColumn
        perColumn *= 1.03
        sizes.append(sizes[sizes.count - 1] * g)
      }
    }
    levelSizes = sizes
    self.nonzeros = nonzeros
    let blocks = pilot.parityBlocks ? 2 : 1
    var dims = [Double](repeating: 0, count: blocks)
    for (n, s) in sizes.enumerated() { dims[n % blocks] += s }
    blockDimensions = dims.map { Int(min($0, 0x1p60)) }
    let columns = sizes.dropLast().reduce(0, +)
    let last = sizes.last ?? 0
    let beforeLast = sizes.count >= 2 ? sizes[sizes.count - 2] : 0
    // Columns (8 B per column, 12 per nonzero), with the last level's built in growing arrays
    // (up to twice their size); two levels of hash tables (at most 4 slots of 20 B per key); the pending new keys
    // (36 B each, at most one per nonzero of the last level); the level key lists (16 B, twice).
    let lastLevelNonzeros = beforeLast * perColumn
    let build = columns * 8 + nonzeros * 12 + lastLevelNonzeros * (12 + 36) + (last + beforeLast) * 80 + last * 32
    let vectors = LanczosDriver.estimatedVectorBytes(
      blockDimensions: dims.map { Int(min($0, 0x1p60)) }, initialBlock: 0, steps: steps)
    // After the build only the columns remain, beside the vectors.
    bytes = max(build, columns * 8 + nonzeros * 12 + vectors) + 64 * 1_048_576
  }
}
