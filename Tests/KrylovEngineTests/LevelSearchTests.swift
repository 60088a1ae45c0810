import KrylovEngine
import Testing

/// A toy Liouvillian on the positive integers: k is joined to k ± 1 and to 2k (and k/2).
///
/// Its values are antisymmetric, so the reach is symmetric as it is for a true Liouvillian. Some
/// contributions come twice, and one pair cancels exactly.
struct ToyExpander: LevelExpander {
  let limit: UInt128

  static func value(_ a: UInt128, _ b: UInt128) -> Double {
    // Antisymmetric: value(a, b) = −value(b, a).
    let (lo, hi) = a < b ? (a, b) : (b, a)
    let magnitude = 1 + Double((lo &* 7 &+ hi) % 5)
    return a < b ? magnitude : -magnitude
  }

  func expand(_ key: UInt128, _ emit: (UInt128, Double) -> Void) throws {
    for next in neighbours(key) {
      // Two halves of one contribution, summed by the search.
      emit(next, 0.5 * Self.value(key, next))
      emit(next, 0.5 * Self.value(key, next))
    }
    // A pair that cancels exactly: never an element of the image.
    if key + 100 <= limit {
      emit(key + 100, 0.25)
      emit(key + 100, -0.25)
    }
  }

  /// Distinct neighbours, in a fixed order.
  func neighbours(_ key: UInt128) -> [UInt128] {
    var out: [UInt128] = []
    for k in [key - 1, key + 1, 2 * key, key % 2 == 0 ? key / 2 : 0] where k >= 1 && k <= limit && !out.contains(k) {
      out.append(k)
    }
    return out
  }
}

@Suite("Breadth-first search over reached elements")
struct LevelSearchTests {
  /// The search run with `cores`, with its keys in basis order and its images by level.
  func search(shards: Int, cores: Int, levels: Int = 12)
    throws -> (found: LevelSearch<ToyExpander>.Levels, keys: [UInt128], images: [[SparseColumns]])
  {
    var search = LevelSearch(expander: ToyExpander(limit: 5000), parityBlocks: false)
    search.numberingShards = shards
    search.cores = cores
    search.sliceSize = 7  // many slices per level: the numbering must not depend on them
    var keys: [UInt128] = []
    var images: [[SparseColumns]] = []
    let found = try search.run(
      initial: [(key: 37, value: 1), (key: 400, value: 2), (key: 37, value: 0.5)], levels: levels,
      store: { level, _, chunks in
        while images.count <= level { images.append([]) }
        images[level] += chunks
      },
      afterLevel: { progress in
        keys += progress.newKeys
        return true
      })
    return (found, keys, images)
  }

  @Test("levels are those of a plain breadth-first search, and every image entry is the merged expansion")
  func matchesPlainSearch() throws {
    let (found, keys, images) = try search(shards: 2, cores: 2)
    // Independent: a set-based breadth-first search over the neighbour relation.
    let toy = ToyExpander(limit: 5000)
    var seen: Set<UInt128> = [37, 400]
    var frontier: [UInt128] = [37, 400]
    var sizes = [2]
    var firstReached: [UInt128] = []
    for _ in 0..<12 {
      var next: [UInt128] = []
      for k in frontier { for r in toy.neighbours(k) where seen.insert(r).inserted { next.append(r) } }
      sizes.append(next.count)
      firstReached += next
      frontier = next
    }
    #expect(found.sizes == sizes)
    #expect(found.initialVector == [1.5, 2])
    // In the order of first reach: the plain search's order, level by level.
    #expect(keys == [37, 400] + firstReached)
    // Each element's image: the neighbours with the summed values, nothing for the cancelled pair.
    var element = 0
    for level in images {
      for chunk in level {
        for j in 0..<chunk.columnCount {
          let key = keys[element]
          let entries = (chunk.columnStart[j]..<chunk.columnStart[j + 1]).map { (keys[Int(chunk.rows[$0])], chunk.values[$0]) }
          let expected = toy.neighbours(key).map { ($0, ToyExpander.value(key, $0)) }
          #expect(entries.map(\.0) == expected.map(\.0), "image of \(key)")
          #expect(entries.map(\.1) == expected.map(\.1), "values of \(key)")
          element += 1
        }
      }
    }
    #expect(element == sizes.dropLast().reduce(0, +))
  }

  @Test("the basis order does not depend on the number of cores or of shards")
  func independentOfCores() throws {
    let one = try search(shards: 2, cores: 1)
    let flatten = { (images: [[SparseColumns]]) in images.flatMap { $0.flatMap(\.rows) } }
    for (shards, cores) in [(2, 4), (1, 2), (4, 2), (8, 1)] {
      let other = try search(shards: shards, cores: cores)
      #expect(other.keys == one.keys, "\(shards) shards on \(cores) cores")
      #expect(other.found.nonzeros == one.found.nonzeros)
      #expect(flatten(other.images) == flatten(one.images))
    }
  }

  @Test("a classical infinite-chain basis is the same with one core and with four")
  func spacesIndependentOfCores() throws {
    let plan = try RunPlan(chain: SpinChain.infiniteChain(model: .mfim, operator: .sxTotal), steps: 12)
    let spaces = try [1, 4].map { cores in
      try ClassicalChainSpace(
        hamiltonian: plan.hamiltonian, operator: plan.initialOperator, geometry: .infinite, levels: 12, cores: cores)
    }
    let (one, four) = (spaces[0], spaces[1])
    #expect(one.basis.levelSizes.reduce(0, +) > 20_000)
    #expect(one.basis.levelSizes == four.basis.levelSizes)
    for b in 0..<one.basis.columns.count {
      #expect(one.basis.columns[b].segments.flatMap(\.rows) == four.basis.columns[b].segments.flatMap(\.rows))
      #expect(one.basis.columns[b].segments.flatMap(\.values) == four.basis.columns[b].segments.flatMap(\.values))
    }
  }
}
