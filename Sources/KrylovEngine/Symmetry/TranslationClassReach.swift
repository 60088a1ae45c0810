import Dispatch
import Foundation

/// The infinite chain's translation classes as a breadth-first search (`LevelSearch`): the
/// expansion of one class, the classes of O, and the rows of the Liouvillian over the classes
/// reached (`InfiniteChainSpace`).
///
/// Expanding a class S (every translate of H's unit cell that overlaps it) gives row S of the
/// Liouvillian, (S|L|R) = −(R|L|S), exactly as in the finite sector; its products not yet in
/// the basis start the next level. Products are computed on every core; new classes are
/// numbered in the order they are reached (`LevelSearch`), so the basis order (and every b_n)
/// does not depend on the thread count.
struct TranslationClassReach: Sendable {
  let terms: [(string: PauliString, coefficient: Double)]
  let operatorTerms: [(string: PauliString, coefficient: Double)]
  /// Sites a translate may reach to the left of a class: the unit cell's width − 1.
  let pad: Int
  let reflect: Bool
  let blocks: Int

  init(hamiltonianCell h: PauliSum, operatorCell o: PauliSum) {
    terms = h.sortedTerms
    operatorTerms = o.sortedTerms
    pad = max(InfiniteChainSpace.width(h) - 1, 0)
    let mirrorOf = { (s: PauliString) in InfiniteChainSpace.mirrored(s, width: InfiniteChainSpace.width(s)) }
    let hMirror = PauliSum(h.terms.map { (mirrorOf($0.key), $0.value) })
    let oMirror = PauliSum(o.terms.map { (mirrorOf($0.key), $0.value) })
    reflect =
      hMirror.isApproximatelyEqual(to: h, tolerance: 1e-12 * (h.terms.values.map(abs).max() ?? 1))
      && oMirror.isApproximatelyEqual(to: o, tolerance: 1e-12 * (o.terms.values.map(abs).max() ?? 1))
    blocks = h.isReal && o.yParity != nil ? 2 : 1
  }

  /// The class of a string: shifted to site 0, and the smaller of it and its mirror image.
  @inline(__always)
  func canonical(_ q: PauliString) -> PauliString {
    let r = InfiniteChainSpace.normalized(q)
    guard reflect else { return r }
    let m = InfiniteChainSpace.mirrored(r, width: InfiniteChainSpace.width(r))
    return m < r ? m : r
  }

  /// 2 for a class that differs from its mirror image (its basis vector sums both), else 1.
  @inline(__always)
  func orbitSize(_ r: PauliString) -> Double {
    guard reflect else { return 1 }
    return InfiniteChainSpace.mirrored(r, width: InfiniteChainSpace.width(r)) == r ? 1 : 2
  }

  func block(of r: PauliString) -> Int { blocks == 2 ? r.yCount & 1 : 0 }

  /// A class as a search key: x in the high half, z in the low one (the identity, never a
  /// class, is key 0).
  @inline(__always)
  static func key(_ s: PauliString) -> UInt128 { UInt128(s.x) << 64 | UInt128(s.z) }

  @inline(__always)
  static func string(_ key: UInt128) -> PauliString {
    PauliString(x: UInt64(truncatingIfNeeded: key >> 64), z: UInt64(truncatingIfNeeded: key))
  }

  /// Row S's entries: (class R, (S|L|R)), one per product (repeated classes not yet summed).
  func expand(_ key: UInt128, _ emit: (UInt128, Double) -> Void) throws {
    let s = Self.string(key)
    let w = InfiniteChainSpace.width(s)
    guard w + 2 * pad <= 64 else { throw InfiniteChainSpace.BuildError.tooWide(w + 2 * pad) }
    let sp = PauliString(x: s.x << UInt64(pad), z: s.z << UInt64(pad))
    let ms = orbitSize(s)
    for (term, hc) in terms {
      let hw = InfiniteChainSpace.width(term)
      for shift in max(0, pad - hw + 1)...(pad + w - 1) {
        let t = PauliString(x: term.x << UInt64(shift), z: term.z << UInt64(shift))
        guard t.support & sp.support != 0, let (sign, q) = t.liouvillian(acting: sp) else { continue }
        let r = canonical(q)
        emit(Self.key(r), -hc * sign * (ms / orbitSize(r)).squareRoot())
      }
    }
  }

  /// O's classes and coefficients (normalized basis vectors sum a class and its mirror).
  func initialClasses() -> [(key: UInt128, value: Double)] {
    var merged: [PauliString: Double] = [:]
    var order: [PauliString] = []
    for (s, c) in operatorTerms {
      let r = canonical(s)
      if merged[r] == nil { order.append(r) }
      merged[r, default: 0] += c / orbitSize(r).squareRoot()
    }
    return order.map { (key: Self.key($0), value: merged[$0] ?? 0) }
  }

  /// The search as the infinite chain runs it: exact zeros dropped, and large levels expanded
  /// a slice at a time.
  private var search: LevelSearch<Self> {
    var search = LevelSearch(expander: self, parityBlocks: blocks == 2)
    search.cancellation = 0
    search.sliceSize = 131_072
    return search
  }

  /// Classes per level up to `steps`, measured by a pilot search (to 18 levels, stopped once a
  /// level passes 20,000 classes: milliseconds) and extrapolated with the growth of its last
  /// four levels; and the Liouvillian elements per class.
  func projectedLevels(steps: Int) throws -> (levels: [Double], productsPerClass: Double) {
    let pilot = search
    var perClass = 0.0
    let found = try pilot.run(initial: initialClasses(), levels: min(steps, 18), store: { _, _, _ in }) { progress in
      perClass = progress.expanded > 0 ? Double(progress.nonzeros) / Double(progress.expanded) : perClass
      return progress.newKeys.count <= 20_000
    }
    let measured = found.sizes.map(Double.init)
    let growth = LevelGrowth.factor(measured, over: 4)
    return (LevelGrowth.extended(measured, to: steps + 1, factor: growth), perClass)
  }

  /// Bytes a run over these levels holds: classes, their index while building, the sparse
  /// rows (products merge into fewer elements; counted unmerged), both runs' vectors.
  static func estimatedBytes(
    levels: [Double], productsPerClass: Double, blocks: Int, steps: Int, precision: VectorPrecision
  ) -> Double {
    let classes = levels.reduce(0, +)
    let tables = classes * (16 + 40)
    let rows = classes * (8 + productsPerClass * 6)
    // Vector n occupies the levels ≤ n of its block.
    var prefix = [Double](repeating: 0, count: blocks)
    var lengths = [[Int]](repeating: [], count: blocks)
    for n in 0...max(steps, 0) {
      let b = n % blocks
      prefix[b] += n < levels.count ? levels[n] : 0
      lengths[b].append(Int(min(prefix[b], 0x1p60)))
    }
    let stored = lengths.reduce(0.0) { $0 + KrylovVectorStore.bytes(lengths: $1, precision: precision) }
    let longest = prefix.max() ?? 0
    return tables + rows + 2 * (stored + longest * 3 * 8) + longest * 2 * 8
  }

  struct Built {
    var blockDimensions: [Int]
    var levelEnds: [[Int]]
    var matrices: [SparseRows]
    var initialBlock: Int
    var initialVector: [Double]
    var maxWidth: Int
  }

  /// Enumerates levels 0 to steps and every row over them; stops with `BuildError.memory`
  /// as soon as the run, projected from the levels so far, would exceed `memoryLimit`.
  ///
  /// Levels 0 to steps − 1 are expanded. The last level, the largest (about a third of the
  /// classes), is only reached: step `steps` reads its rows just for their entries in level
  /// steps − 1, and those are the transpose of what expanding level steps − 1 found.
  func build(
    steps: Int, memoryLimit: Int, precision: VectorPrecision = .single,
    isCancelled: @escaping @Sendable () -> Bool = { false }, onLevel: ((Int) -> Void)? = nil
  ) throws -> Built {
    let initial = initialClasses()
    // The search numbers level 0's block 0; the classes' own block is their Y-parity.
    let initialBlock = initial.first.map { block(of: Self.string($0.key)) } ?? 0
    var rows = (0..<blocks).map { _ in SparseRowsAppender() }
    var maxWidth = 1
    var search = self.search
    search.isCancelled = isCancelled
    let found = try search.run(
      initial: initial, levels: steps,
      store: { _, searchBlock, images in
        // Each element's merged entries become a row: sorted, compacted (SparseRows).
        let parts = ChunkResults<SparseRowsAppender>(count: images.count)
        DispatchQueue.concurrentPerform(iterations: images.count) { c in
          let image = images[c]
          var part = SparseRowsAppender()
          var row: [(Int32, Double)] = []
          for j in 0..<image.columnCount {
            row.removeAll(keepingCapacity: true)
            for e in image.columnStart[j]..<image.columnStart[j + 1] {
              row.append((Int32(truncatingIfNeeded: image.rows[e]), image.values[e]))
            }
            part.append(row: &row)
          }
          parts.set(c, part)
        }
        let b = (initialBlock + searchBlock) % blocks
        for c in 0..<images.count {
          if let part = parts.get(c) { rows[b].append(contentsOf: part) }
        }
      },
      afterLevel: { progress in
        onLevel?(progress.levelSizes.reduce(0, +))
        for key in progress.newKeys { maxWidth = max(maxWidth, InfiniteChainSpace.width(Self.string(key))) }
        // Project the whole run from the levels so far (growth over the last four levels; the
        // first levels are too few and too irregular to extrapolate) and stop before it cannot fit.
        let k = progress.levelSizes.count - 1
        guard k >= 1, k >= 8 || k == steps else { return true }
        let measured = progress.levelSizes.map(Double.init)
        let projected = LevelGrowth.extended(
          measured, to: steps + 1, factor: LevelGrowth.factor(measured, over: 4))
        let perClass = progress.expanded > 0 ? Double(progress.nonzeros) / Double(progress.expanded) : 0
        let bytes = Self.estimatedBytes(
          levels: projected, productsPerClass: perClass, blocks: blocks, steps: steps, precision: precision)
        if bytes > Double(memoryLimit) {
          throw InfiniteChainSpace.BuildError.memory(
            estimated: Int(min(bytes, 0x1p61)), limit: memoryLimit, level: k,
            classes: progress.levelSizes.reduce(0, +))
        }
        return true
      })
    // Per block (in the classes' own numbering): classes at levels ≤ k, for k = 0 ... steps.
    var totals = [Int](repeating: 0, count: blocks)
    var levelEnds = [[Int]](repeating: [], count: blocks)
    for k in 0...steps {
      if k < found.sizes.count { totals[(initialBlock + found.blocks[k]) % blocks] += found.sizes[k] }
      for b in 0..<blocks { levelEnds[b].append(totals[b]) }
    }
    // The last level's rows, from the rows of the level before it.
    let last = found.sizes.count - 1
    if last >= 1 && last == found.nonzeros.count && found.sizes[last] > 0 {
      let source = (initialBlock + found.blocks[last - 1]) % blocks
      let target = (initialBlock + found.blocks[last]) % blocks
      let firstColumn = (0..<last).reduce(0) { $0 + (found.blocks[$1] == found.blocks[last] ? found.sizes[$1] : 0) }
      precondition(rows[target].rowCount == firstColumn, "every class before the last level has its row")
      let sourceEnd = rows[source].rowCount
      let parts = SparseRowsAppender.negatedTranspose(
        of: rows[source], rows: sourceEnd - found.sizes[last - 1]..<sourceEnd, firstColumn: firstColumn,
        count: found.sizes[last])
      rows[target].reserveCapacity(
        rows: parts.reduce(0) { $0 + $1.rowCount }, elements: parts.reduce(0) { $0 + $1.elementCount })
      for part in parts { rows[target].append(contentsOf: part) }
    }
    // Classes never expanded (the search closed early) still need their (empty) rows.
    for b in 0..<blocks {
      var empty: [(Int32, Double)] = []
      while rows[b].rowCount < totals[b] { rows[b].append(row: &empty) }
    }
    // rows[b] are the rows of block b: the matrix from the other block into b.
    var matrices = [SparseRows](repeating: SparseRows(rowStart: [0], columns: [], values: []), count: blocks)
    for b in 0..<blocks { matrices[(b + blocks - 1) % blocks] = rows[b].finish() }
    return Built(
      blockDimensions: totals, levelEnds: levelEnds, matrices: matrices, initialBlock: initialBlock,
      initialVector: found.initialVector, maxWidth: maxWidth)
  }
}

extension TranslationClassReach: LevelExpander {}
