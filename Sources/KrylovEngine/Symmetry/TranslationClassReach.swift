import Dispatch
import Foundation

/// Breadth-first enumeration of the infinite chain's translation classes and of the
/// Liouvillian's rows over them (`InfiniteChainSpace`).
///
/// Expanding a class S (every translate of H's unit cell that overlaps it) gives row S of the
/// Liouvillian, (S|L|R) = −(R|L|S), exactly as in the finite sector; its products not yet in
/// the basis start the next level. Products are computed on both cores, slice by slice; new
/// classes are numbered on one thread, in the order of the slices, so the basis order (and
/// every b_n) does not depend on the thread count.
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

  /// Row S's entries: (class R, (S|L|R)), one per product (repeated classes not yet summed).
  func expand(_ s: PauliString, into out: inout [(PauliString, Double)]) throws {
    let w = InfiniteChainSpace.width(s)
    guard w + 2 * pad <= 64 else { throw InfiniteChainSpace.BuildError.tooWide(w + pad) }
    let sp = PauliString(x: s.x << UInt64(pad), z: s.z << UInt64(pad))
    let ms = orbitSize(s)
    for (term, hc) in terms {
      let hw = InfiniteChainSpace.width(term)
      for shift in max(0, pad - hw + 1)...(pad + w - 1) {
        let t = PauliString(x: term.x << UInt64(shift), z: term.z << UInt64(shift))
        guard t.support & sp.support != 0, let (sign, q) = t.liouvillian(acting: sp) else { continue }
        let r = canonical(q)
        out.append((r, -hc * sign * (ms / orbitSize(r)).squareRoot()))
      }
    }
  }

  /// O's classes and coefficients (normalized basis vectors sum a class and its mirror).
  func initialClasses() -> [(PauliString, Double)] {
    var merged: [PauliString: Double] = [:]
    var order: [PauliString] = []
    for (s, c) in operatorTerms {
      let r = canonical(s)
      if merged[r] == nil { order.append(r) }
      merged[r, default: 0] += c / orbitSize(r).squareRoot()
    }
    return order.map { ($0, merged[$0]!) }
  }

  /// Classes per level (each level in one block), by breadth-first search to `depth` levels,
  /// and the mean number of products per class: a cheap pilot for the memory estimate.
  func pilot(depth: Int) throws -> (levels: [Int], productsPerClass: Double) {
    var seen = Set(initialClasses().map(\.0))
    var frontier = Array(seen)
    var levels = [frontier.count]
    var products = 0
    var expanded = 0
    var out: [(PauliString, Double)] = []
    for _ in 0..<depth {
      var next: [PauliString] = []
      for s in frontier {
        out.removeAll(keepingCapacity: true)
        try expand(s, into: &out)
        products += out.count
        expanded += 1
        for (r, _) in out where seen.insert(r).inserted { next.append(r) }
      }
      levels.append(next.count)
      frontier = next
      if next.isEmpty { break }
    }
    return (levels, expanded > 0 ? Double(products) / Double(expanded) : 0)
  }

  /// Classes per level up to `steps`, measured to a pilot depth and extrapolated beyond it
  /// with the growth of the last levels measured.
  func projectedLevels(steps: Int) throws -> (levels: [Double], productsPerClass: Double) {
    let (measured, products) = try pilot(depth: min(steps, 18))
    var levels = measured.map(Double.init)
    if levels.count < steps + 1, let last = levels.last, last > 0 {
      let k = levels.count - 1
      let back = min(4, k)
      let growth = back > 0 && levels[k - back] > 0 ? max(1, pow(last / levels[k - back], 1 / Double(back))) : 1
      while levels.count < steps + 1 { levels.append(levels.last! * growth) }
    }
    return (levels, products)
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
    var classes: [[PauliString]]
    var levelEnds: [[Int]]
    var matrices: [SparseRows]
    var initialBlock: Int
    var initialVector: [Double]
  }

  /// Enumerates levels 0 ... steps and every row over them; stops with `BuildError.memory`
  /// as soon as the run, projected from the levels so far, would exceed `memoryLimit`.
  func build(steps: Int, memoryLimit: Int, precision: VectorPrecision = .single) throws -> Built {
    let index = TranslationClassIndex()
    var classes = [[PauliString]](repeating: [], count: blocks)
    var levelEnds = [[Int]](repeating: [], count: blocks)
    var rows = (0..<blocks).map { _ in SparseRowsAppender() }
    var levels: [Int] = []

    let initial = initialClasses()
    let initialBlock = block(of: initial[0].0)
    var initialVector: [Double] = []
    for (r, c) in initial {
      index.insert(r, Int32(classes[initialBlock].count))
      classes[initialBlock].append(r)
      initialVector.append(c)
    }
    levels.append(initial.count)
    for b in 0..<blocks { levelEnds[b].append(classes[b].count) }
    var productsSeen = 0
    var expandedSoFar = 0

    // Level k − 1 is expanded at pass k; its new products form level k (none after the last).
    for k in 1...(steps + 1) {
      let source = (initialBlock + k - 1) % blocks
      // Level k − 1 of the source block (fixed before the pass appends level k).
      let start = k >= 2 ? levelEnds[source][k - 2] : 0
      let end = levelEnds[source][k - 1]
      let grows = k <= steps
      var from = start
      while from < end {
        let to = min(end, from + 131_072)
        let slice = Array(classes[source][from..<to])
        let chunks = max(1, min(16, slice.count / 1024))
        // 1. On every core: each product's (row in slice, column or −1 if new, class, value), in row order.
        let products = ChunkBoxes<(Int32, Int32, PauliString, Double)>(count: chunks)
        let failure = ChunkResults<Error>(count: 1)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
          let lo = slice.count * c / chunks
          let hi = slice.count * (c + 1) / chunks
          var list: [(Int32, Int32, PauliString, Double)] = []
          list.reserveCapacity((hi - lo) * 24)
          var out: [(PauliString, Double)] = []
          do {
            for i in lo..<hi {
              out.removeAll(keepingCapacity: true)
              try expand(slice[i], into: &out)
              for (r, v) in out { list.append((Int32(i), index.find(r) ?? -1, r, v)) }
            }
          } catch { failure.set(0, error) }
          products.items[c] = list
        }
        if let error = failure.get(0) { throw error }
        // 2. On one thread, in slice order (so the numbering does not depend on the cores):
        // number the new classes. A product that would start level steps + 1 is dropped (−2):
        // it is only ever multiplied by zero.
        for c in 0..<chunks {
          products.items[c].withUnsafeMutableBufferPointer { list in
            for j in list.indices where list[j].1 < 0 {
              let r = list[j].2
              if let col = index.find(r) {
                list[j].1 = col
              } else if grows {
                let b = block(of: r)
                let col = Int32(classes[b].count)
                index.insert(r, col)
                classes[b].append(r)
                list[j].1 = col
              } else {
                list[j].1 = -2
              }
            }
          }
        }
        // 3. On every core: the rows (columns summed and sorted, values compacted).
        let parts = ChunkResults<SparseRowsAppender>(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
          var part = SparseRowsAppender()
          var row: [(Int32, Double)] = []
          let lo = slice.count * c / chunks
          let hi = slice.count * (c + 1) / chunks
          var j = 0
          let list = products.items[c]
          for i in lo..<hi {
            row.removeAll(keepingCapacity: true)
            while j < list.count && Int(list[j].0) == i {
              if list[j].1 >= 0 { row.append((list[j].1, list[j].3)) }
              j += 1
            }
            part.append(row: &row)
          }
          parts.set(c, part)
        }
        for c in 0..<chunks {
          productsSeen += parts.get(c)!.elementCount
          rows[source].append(contentsOf: parts.get(c)!)
        }
        expandedSoFar += slice.count
        from = to
      }
      guard grows else { break }
      let target = (initialBlock + k) % blocks
      levels.append(classes[target].count - levelEnds[target][k - 1])
      for b in 0..<blocks { levelEnds[b].append(classes[b].count) }
      // Project the whole run from the levels so far (growth over the last four levels; the
      // first levels are too few and too irregular to extrapolate) and stop before it cannot fit.
      if k >= 8 || k == steps {
        let back = min(4, k)
        let ratio = levels[k - back] > 0 ? Double(levels[k]) / Double(levels[k - back]) : 1
        let growth = max(1, pow(ratio, 1 / Double(back)))
        var projected = levels.map(Double.init)
        while projected.count < steps + 1 { projected.append(projected.last! * growth) }
        let perClass = expandedSoFar > 0 ? Double(productsSeen) / Double(expandedSoFar) : 0
        let bytes = Self.estimatedBytes(
          levels: projected, productsPerClass: perClass, blocks: blocks, steps: steps, precision: precision)
        if bytes > Double(memoryLimit) {
          throw InfiniteChainSpace.BuildError.memory(
            estimated: Int(min(bytes, 0x1p61)), limit: memoryLimit, level: k, classes: levels.reduce(0, +))
        }
      }
      if levels[k] == 0 { break }  // nothing new: the Krylov space closes (the driver sees exhaustion)
    }
    // Levels beyond the last one reached add nothing.
    for b in 0..<blocks where levelEnds[b].count < steps + 1 {
      levelEnds[b] += Array(repeating: classes[b].count, count: steps + 1 - levelEnds[b].count)
    }
    // Classes never expanded (the search closed early) still need their (empty) rows.
    for b in 0..<blocks {
      var empty: [(Int32, Double)] = []
      while rows[b].rowCount < classes[b].count { rows[b].append(row: &empty) }
    }
    // rows[b] are the rows of block b: the matrix from the other block into b.
    var matrices = [SparseRows](repeating: SparseRows(rowStart: [0], columns: [], values: []), count: blocks)
    for b in 0..<blocks { matrices[(b + blocks - 1) % blocks] = rows[b].finish() }
    return Built(
      classes: classes, levelEnds: levelEnds, matrices: matrices, initialBlock: initialBlock,
      initialVector: initialVector)
  }
}

/// Per-chunk arrays the workers fill in place.
final class ChunkBoxes<T>: @unchecked Sendable {
  var items: [[T]]
  init(count: Int) { items = Array(repeating: [], count: count) }
}
