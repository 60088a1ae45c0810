import Foundation

/// How the Lanczos recursion is confined to a symmetry sector.
public enum SymmetryMode: String, Sendable, Codable, CaseIterable {
  /// The largest group of site permutations that fixes both H and O, with charge sectors when
  /// H conserves total S^z and spin flips otherwise (the default).
  case auto
  /// The same site permutations and spin flips in the Pauli basis, without charge sectors: kept
  /// to show and test what the charge sector protects against.
  case pauli
  /// The full Pauli basis, kept only to show and test what the sector protects against.
  case none
}

/// A run refused before it started because it would not fit in memory.
public struct MemoryGuardError: Error, Sendable, CustomStringConvertible {
  public var estimatedBytes: Int
  public var limitBytes: Int
  public var chain: SpinChain
  public var steps: Int
  /// The largest chain size (same model, operator and steps) that fits, if any.
  public var largestSizeThatFits: Int?
  /// Growth of the classical basis per step, from the pilot enumeration.
  public var classicalGrowth: Double?

  public var description: String {
    let need = estimatedBytes >= Int.max / 4 ? "more than \(formatBytes(Int.max / 4))" : "about \(formatBytes(estimatedBytes))"
    var text =
      "refusing to start: \(chain.label) with \(steps) steps needs \(need) "
      + "but the memory limit is \(formatBytes(limitBytes))"
    if let g = classicalGrowth, chain.isInfinite {
      text += String(format: "; each step multiplies the classical basis by about %.1f", g)
    } else if chain.isInfinite {
      text += "; the infinite chain's classes grow geometrically with the steps"
    } else if let n = largestSizeThatFits {
      text += "; the largest N that fits is \(n)"
    } else {
      text += "; no size of this system fits"
    }
    return text + " (raise the limit with --memory-limit, or ask for fewer steps)"
  }
}

/// Everything decided before a run: operators, symmetry, sector dimensions, memory.
///
/// The dimensions come from Burnside's lemma, so the memory estimate is known before any
/// basis is enumerated and an oversized run is refused up front.
public struct RunPlan: Sendable {
  public let chain: SpinChain
  public let steps: Int
  public let hamiltonian: PauliSum
  public let initialOperator: PauliSum
  public let group: SymmetryGroup
  /// Global spin flips restricting a finite quantum chain's Pauli sector (none elsewhere).
  public let flips: SpinFlips
  /// The charge sector of a finite quantum chain whose H conserves total S^z (nil elsewhere).
  public let charges: ChargeStructure?
  public let parityBlocks: Bool
  public let blockDimensions: [Int]
  public let initialBlock: Int
  public let estimatedBytes: Int
  /// How the run reorthogonalizes and stores its vectors: chosen from the sector's size unless asked.
  public let reorthogonalization: Reorthogonalization
  public let precision: VectorPrecision
  /// For classical spins: where the chain lives (nil for quantum spins).
  public let classicalGeometry: ClassicalGeometry?
  /// For classical spins: the pilot's projection of the basis (nil for quantum spins).
  public let classicalEstimate: ClassicalRunEstimate?

  /// Blocks above this many entries run with partial reorthogonalization and Float storage.
  ///
  /// Measured (docs/benchmarks.md): for N = 8 to 12 both choices give the same trusted b_n to
  /// within 1e-13 relative and the same trusted counts; from N = 10 (27,000 entries per block)
  /// partial reorthogonalization is 3 to 4 times faster, and Float storage halves the memory.
  public static let partialReorthogonalizationAbove = 20_000

  /// The Lanczos settings this plan was sized for.
  public var lanczosOptions: LanczosOptions {
    var options = LanczosOptions(steps: steps, reorthogonalization: reorthogonalization, precision: precision)
    options.coefficientScale = energyScale
    return options
  }

  /// The power of two divided out of H before the run.
  ///
  /// It is 1 when H's coefficients lie within 2^±20, so ordinary runs are untouched; b_n scale
  /// with H, so the driver multiplies it back. O is rescaled the same way, which leaves b_n
  /// unchanged. Squares of 1e±200 then stay in range, and the result is exact: a power of two
  /// commutes with rounding.
  public let energyScale: Double

  public init(
    chain: SpinChain, steps: Int, symmetry: SymmetryMode = .auto,
    reorthogonalization: Reorthogonalization? = nil, precision: VectorPrecision? = nil
  ) throws(SystemError) {
    self.chain = chain
    self.steps = steps
    var h = try chain.hamiltonian()
    var o = try chain.initialOperator()
    if chain.isInfinite {
      h = InfiniteChainSpace.unitCell(of: h)
      o = InfiniteChainSpace.unitCell(of: o)
    }
    energyScale = PauliSum.rescaling(of: h.terms.values)
    if energyScale != 1 { h = h.scaled(by: 1 / energyScale) }
    let operatorScale = PauliSum.rescaling(of: o.terms.values)
    if operatorScale != 1 { o = o.scaled(by: 1 / operatorScale) }
    self.hamiltonian = h
    self.initialOperator = o
    if chain.spins == .classical {
      // Finite chains keep the site permutations that fix H and O, as quantum sectors do.
      let geometry: ClassicalGeometry
      let group: SymmetryGroup
      switch chain.geometry {
      case .infinite:
        group = .trivial(size: chain.pauliSiteCount)
        geometry = .infinite
      case .finite(let sites, let boundary):
        group =
          symmetry == .none
          ? .trivial(size: sites) : .detect(hamiltonian: h, operator: o, size: sites, boundary: boundary)
        geometry = .finite(size: sites, boundary: boundary, group: group)
      }
      let estimate: ClassicalRunEstimate
      do { estimate = try ClassicalRunEstimate(hamiltonian: h, operator: o, geometry: geometry, steps: steps) } catch {
        throw .classicalChain("\(error)")
      }
      self.group = group
      self.flips = .none
      self.charges = nil
      self.parityBlocks = h.isReal && o.yParity != nil
      self.blockDimensions = estimate.blockDimensions
      self.initialBlock = 0
      self.estimatedBytes = Self.clamp(estimate.bytes)
      self.classicalGeometry = geometry
      self.classicalEstimate = estimate
      // A couple of dozen steps: full reorthogonalization in Double costs little beside the basis.
      self.reorthogonalization = reorthogonalization ?? .full
      self.precision = precision ?? .double
      return
    }
    self.classicalGeometry = nil
    self.classicalEstimate = nil
    guard case .finite(let sites, let boundary) = chain.geometry else {
      // The reached classes, counted by a breadth-first pilot to 18 levels (milliseconds) and
      // extrapolated with the growth of its last levels.
      let reach = TranslationClassReach(hamiltonianCell: h, operatorCell: o)
      let projection: (levels: [Double], productsPerClass: Double)
      do { projection = try reach.projectedLevels(steps: steps) } catch {
        projection = ([Double.infinity], 0)
      }
      self.group = .trivial(size: chain.pauliSiteCount)
      self.flips = .none  // the reach keeps only what the operator reaches: the flips' constraint holds already
      self.charges = nil
      self.parityBlocks = reach.blocks == 2
      var perBlock = [Double](repeating: 0, count: reach.blocks)
      for (k, count) in projection.levels.enumerated() { perBlock[k % reach.blocks] += count }
      let initial = reach.blocks == 2 ? (o.yParity ?? 0) : 0
      // Level k lies in block (initial + k) % blocks.
      self.blockDimensions = (0..<reach.blocks).map {
        Int(min(perBlock[($0 - initial + reach.blocks) % reach.blocks], Double(Int.max / 4)))
      }
      self.initialBlock = initial
      let large = (blockDimensions.max() ?? 0) > Self.partialReorthogonalizationAbove
      self.reorthogonalization = reorthogonalization ?? (large ? .partial : .full)
      self.precision = precision ?? (large ? .single : .double)
      self.estimatedBytes = Self.clamp(
        TranslationClassReach.estimatedBytes(
          levels: projection.levels, productsPerClass: projection.productsPerClass, blocks: reach.blocks,
          steps: steps, precision: self.precision) + 64 * 1_048_576)
      return
    }
    let group: SymmetryGroup =
      switch symmetry {
      case .auto, .pauli: .detect(hamiltonian: h, operator: o, size: sites, boundary: boundary)
      case .none: .trivial(size: sites)
      }
    self.group = group
    let charges = symmetry == .auto ? ChargeStructure.detect(hamiltonian: h, operator: o, size: sites) : nil
    self.charges = charges
    // Rows of the stored matrices, and their expected elements: a string anticommutes with about
    // half of H's Pauli terms (measured 0.497 × terms elements per row for mfim at N = 12); a
    // charge sector's rows hold what its commutator tables give on average.
    let rows: Double
    let elementsPerRow: Double
    if let charges {
      self.flips = .none
      self.parityBlocks = charges.parities != nil
      self.blockDimensions = charges.blockDimensions(group: group)
      self.initialBlock = 0
      rows = Double(charges.orbitCounts(group: group).reduce(0, +))
      elementsPerRow = charges.expectedElementsPerRow * 1.1
    } else {
      self.flips = symmetry == .none ? .none : SpinFlips.detect(hamiltonian: h, operator: o)
      let parity = o.yParity
      self.parityBlocks = h.isReal && parity != nil
      let counts = group.orbitCounts(flips: flips)
      self.blockDimensions = parityBlocks ? [counts.even, counts.odd] : [counts.even + counts.odd]
      self.initialBlock = parityBlocks ? (parity ?? 0) : 0
      rows = Double(counts.even + counts.odd)
      elementsPerRow = Double(max(1, h.count)) * 0.55
    }
    // Sector tables (10 bytes per orbit), the sparse matrices (6 bytes an element, 8 a row; the
    // last block is built in chunks and merged, so half of it is counted again), and both runs'
    // Krylov vectors. In floating point: the estimate of an absurd request must not overflow.
    let tables = rows * 10 * 2
    let matrices = 1.5 * (rows * 8 + rows * elementsPerRow * 6)
    let large = (blockDimensions.max() ?? 0) > Self.partialReorthogonalizationAbove
    self.reorthogonalization = reorthogonalization ?? (large ? .partial : .full)
    self.precision = precision ?? (large ? .single : .double)
    let vectors = LanczosDriver.estimatedVectorBytes(
      blockDimensions: blockDimensions, initialBlock: initialBlock, steps: steps, precision: self.precision)
    self.estimatedBytes = Self.clamp(tables + matrices + vectors + 64 * 1048576)
  }

  /// A byte count as an Int, saturating far below overflow.
  private static func clamp(_ bytes: Double) -> Int { Int(min(bytes, Double(Int.max / 4))) }

  /// A safe share of physical memory: 70%, leaving room for the system and the caller.
  public static var defaultMemoryLimit: Int {
    Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.7)
  }

  /// Throws when the estimate exceeds `limit`, naming the largest size that would fit.
  public func checkMemory(limit: Int, symmetry: SymmetryMode = .auto) throws(MemoryGuardError) {
    let requestedReorthogonalization = reorthogonalization
    let requestedPrecision = precision
    guard estimatedBytes > limit else { return }
    var fits: Int?
    guard case .finite(let sites, let boundary) = chain.geometry else {
      throw MemoryGuardError(
        estimatedBytes: estimatedBytes, limitBytes: limit, chain: chain, steps: steps, largestSizeThatFits: nil,
        classicalGrowth: classicalEstimate?.growthFactor)
    }
    var n = sites - 1
    while n >= (boundary == .pbc ? 3 : 2) {
      // Named operators rescale with N; custom texts may not fit a smaller chain: skip those sizes.
      if let smaller = try? chain.with(geometry: .finite(sites: n, boundary: boundary)),
        let plan = try? RunPlan(
          chain: smaller, steps: steps, symmetry: symmetry, reorthogonalization: requestedReorthogonalization,
          precision: requestedPrecision), plan.estimatedBytes <= limit
      {
        fits = n
        break
      }
      n -= 1
    }
    throw MemoryGuardError(
      estimatedBytes: estimatedBytes, limitBytes: limit, chain: chain, steps: steps, largestSizeThatFits: fits)
  }

  /// Enumerates the sector (or the infinite chain's classes) and builds its Liouvillian.
  ///
  /// The infinite chain's classes are only known as they are reached: its build stops as soon
  /// as the run, projected from the levels so far, would exceed `memoryLimit`.
  ///
  /// `isCancelled` stops the breadth-first searches of the infinite chain and of classical
  /// spins (`LevelSearchError.cancelled`), which can take minutes. `progress` hears the
  /// fraction done: of a sector's enumeration and matrices, or of the elements the plan
  /// projected for a search.
  public func buildSpace(
    memoryLimit: Int = RunPlan.defaultMemoryLimit, isCancelled: @escaping @Sendable () -> Bool = { false },
    progress: SetupProgress? = nil
  ) throws -> any KrylovOperatorSpace {
    let projected = Double(max(1, blockDimensions.reduce(0, +)))
    // A search's share: its elements so far against the projection (which it may pass a little).
    let onLevel: ((Int) -> Void)? = progress.map { report in { report(min(0.99, Double($0) / projected)) } }
    if let geometry = classicalGeometry {
      return try ClassicalChainSpace(
        hamiltonian: hamiltonian, operator: initialOperator, geometry: geometry, levels: steps, isCancelled: isCancelled,
        onLevel: onLevel)
    }
    if chain.isInfinite {
      return try InfiniteChainSpace(
        hamiltonianCell: hamiltonian, operatorCell: initialOperator, steps: steps, memoryLimit: memoryLimit,
        precision: precision, isCancelled: isCancelled, onLevel: onLevel)
    }
    return try buildSectorSpace(progress: progress)
  }

  /// The finite chain's sector space: its charge sector when H conserves total S^z, else its Pauli sector.
  public func buildSectorSpace(progress: SetupProgress? = nil) throws -> any SparseOperatorSpace {
    if let charges {
      return try ChargeSectorSpace(hamiltonian: hamiltonian, structure: charges, group: group, progress: progress)
    }
    return try PauliSectorSpace(
      hamiltonian: hamiltonian, operator: initialOperator, size: chain.pauliSiteCount, group: group, flips: flips,
      progress: progress)
  }
}
