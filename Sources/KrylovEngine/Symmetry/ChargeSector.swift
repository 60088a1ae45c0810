/// How a run whose Hamiltonian conserves total S^z is confined to the operator's charges
/// (physics.md §7), detected from H and O, never declared.
///
/// In the ladder basis ([Ladder]) a U(1)-symmetric H has only charge-0 terms, and when its
/// coefficients there are real the Liouvillian is `i M`, with M the real symmetric matrix of
/// [H, ·] in the normalized ladder strings. The Krylov space of O then lies in the charges O
/// carries; a Hermitian O's −q part is the conjugate of its q part and has the same Krylov
/// coefficients, so only q ≥ 0 is kept, the q > 0 parts weighed by √2 (‖A + A†‖ = √2‖A‖).
/// With O's part of each charge real (up to a phase, which the U(1) rotation removes), the
/// Krylov vectors are i^n times real vectors: block 0 holds the real parts, block 1 the
/// imaginary ones, and L maps block 0 to block 1 by M and back by −M. When M flips the parity
/// of the Z count (xxz and j1j2: every term does), the two blocks hold the strings of opposite
/// parities and the sector is halved; otherwise each block holds every string of the charges.
/// On charge 0 a Hermitian operator's coefficients are equal on S and on its conjugate S̄
/// (σ⁺ ↔ σ⁻), and [H, ·] maps such sums to differences: block 0's vectors are even under
/// S ↔ S̄ and block 1's odd (or the reverse, for an operator that is imaginary in this basis),
/// which halves the charge-0 sector again. Rounding can no longer leak into charges the Krylov
/// space never reaches, nor into anti-Hermitian directions.
public struct ChargeStructure: Sendable, CustomStringConvertible {
  public let size: Int
  /// The operator's charges q ≥ 0 (q > 0 stands for ±q).
  public let charges: [Int]
  /// Per charge, the Z-count parity of its strings in block 0, when M flips that parity; nil
  /// when both blocks hold every string of the charges.
  public let parities: [Int]?
  /// The character of block 0 under S ↔ S̄ on charge 0 (block 1 has the opposite one).
  public let conjugationSign: Double
  /// The operator's real coefficients on normalized ladder strings (weights included), and on
  /// the strings themselves (`raw`, phase removed, no weight).
  let operatorTerms: [(string: PauliString, coefficient: Double, raw: Double)]
  /// H's commutator tables, one per support.
  let tables: [LadderSupportTable]

  /// Supports wider than this are not tabulated (a table has 4^k patterns): such a Hamiltonian
  /// runs in the Pauli sector.
  static let maxSupport = 6

  /// The charge structure of a run, or nil when H does not conserve total S^z, is not real in
  /// the ladder basis, or O's part of some charge is not real up to one phase: the run then
  /// keeps the Pauli sector.
  public static func detect(hamiltonian h: PauliSum, operator o: PauliSum, size n: Int) -> ChargeStructure? {
    guard let hl = Ladder.expand(h), !hl.isEmpty, let ol = Ladder.expand(o), !ol.isEmpty else { return nil }
    let scale = hl.values.reduce(0) { max($0, $1.magnitude) }
    var bySupport: [UInt64: [(PauliString, Double)]] = [:]
    for (s, c) in hl {
      guard Ladder.charge(s) == 0, abs(c.im) <= 1e-12 * scale else { return nil }
      bySupport[s.x | s.z, default: []].append((s, c.re))
    }
    guard bySupport.keys.allSatisfy({ $0.nonzeroBitCount <= maxSupport }) else { return nil }
    let tables = bySupport.keys.sorted().map { LadderSupportTable(mask: $0, terms: bySupport[$0] ?? []) }
    let flipsParity = tables.allSatisfy { table in
      table.entries.enumerated().allSatisfy { pattern, images in
        let zIn = (0..<table.sites.count).filter { (pattern >> (2 * $0)) & 3 == Ladder.zLetter }.count
        return images.allSatisfy { (zIn + ($0.z & ~$0.x).nonzeroBitCount) & 1 == 1 }
      }
    }
    var charges: [Int] = []
    var conjugationSign = 1.0
    var parities: [Int]? = flipsParity ? [] : nil
    var terms: [(string: PauliString, coefficient: Double, raw: Double)] = []
    let byCharge = Dictionary(grouping: ol, by: { Ladder.charge($0.key) })
    for q in byCharge.keys.sorted() where q >= 0 {
      let part = byCharge[q] ?? []
      guard let largest = part.max(by: { $0.value.magnitude < $1.value.magnitude })?.value else { continue }
      let phase = (1 / largest.magnitude) * largest.conjugate
      let weight = q > 0 ? 2.0.squareRoot() : 1
      for (s, c) in part {
        let rotated = phase * c
        guard abs(rotated.im) <= 1e-12 * largest.magnitude else { return nil }
        // A = Σ a_S S = Σ a_S 2^{−k/2} e_S.
        let normalization = 1 / Double(1 << Ladder.ladderCount(s)).squareRoot()
        terms.append((s, weight * rotated.re * normalization, rotated.re))
        // Hermiticity makes the rotated charge-0 part even or odd under S ↔ S̄, one sign for all.
        if q == 0, s.x != 0, let partner = ol[Ladder.conjugate(s)] {
          conjugationSign = (phase * partner).re * rotated.re < 0 ? -1 : 1
        }
      }
      charges.append(q)
      if flipsParity {
        let found = Set(part.map { Ladder.zCount($0.key) & 1 })
        if found.count == 1, let p = found.first { parities?.append(p) } else { parities = nil }
      }
    }
    guard !charges.isEmpty else { return nil }
    if !flipsParity || parities?.count != charges.count { parities = nil }
    return ChargeStructure(
      size: n, charges: charges, parities: parities, conjugationSign: conjugationSign, operatorTerms: terms,
      tables: tables)
  }

  /// Whether charge-0 orbits are joined with their conjugates.
  public var conjugates: Bool { charges.contains(0) }

  /// Blocks of the orbit basis: two when they hold different strings or different characters,
  /// else one (used twice).
  public var orbitBlockCount: Int { parities != nil || conjugates ? 2 : 1 }

  /// The conjugation S ↔ S̄ on charge-0 strings, with each block's character.
  public var conjugation: OrbitConjugation? {
    guard conjugates else { return nil }
    return OrbitConjugation(characters: [conjugationSign, -conjugationSign]) { s in
      Ladder.charge(s) == 0 ? Ladder.conjugate(s) : nil
    }
  }

  /// The orbit-basis blocks of a string, as a bit mask (0 when its charge is not the operator's).
  func blocks(of s: PauliString) -> UInt8 {
    let q = Ladder.charge(s)
    guard let j = charges.firstIndex(of: q) else { return 0 }
    guard let parities else { return orbitBlockCount == 2 ? 0b11 : 0b01 }
    return 1 << ((Ladder.zCount(s) + parities[j]) & 1)
  }

  /// Exact orbit counts of each orbit-basis block under `group` (Burnside's lemma), from which
  /// the run's block dimensions and memory follow before anything is enumerated.
  ///
  /// A string fixed by a permutation is constant on its cycles: a cycle of length l adds l to
  /// the charge for σ⁺, −l for σ⁻, and l to the Z count for Z. The fixed strings are counted
  /// by (charge, Z parity) as a product over cycles. A string fixed by a permutation followed by
  /// S ↔ S̄ alternates σ⁺ and σ⁻ along each cycle: an even cycle takes I, Z or either
  /// alternation (charge 0, even Z count), an odd one only I or Z. With the conjugation the
  /// group has twice the elements, and those with it count with the block's character.
  public func orbitCounts(group: SymmetryGroup) -> [Int] {
    let n = size
    let width = 2 * n + 1
    func fixedCounts(conjugated: Bool) -> [Double] {
      var totals = [Double](repeating: 0, count: 2 * width)
      for g in group.elements {
        var fixed = [Double](repeating: 0, count: 2 * width)
        fixed[2 * n] = 1  // charge 0, parity 0
        for l in g.cycleLengths(size: n) {
          var next = [Double](repeating: 0, count: 2 * width)
          for state in 0..<(2 * width) where fixed[state] != 0 {
            let (c, p) = (state / 2, state % 2)
            next[state] += fixed[state]  // I
            next[2 * c + (p ^ (l & 1))] += fixed[state]  // Z
            if conjugated {
              if l & 1 == 0 { next[state] += 2 * fixed[state] }  // σ⁺σ⁻… or σ⁻σ⁺…
            } else {
              if c + l < width { next[2 * (c + l) + p] += fixed[state] }  // σ⁺
              if c - l >= 0 { next[2 * (c - l) + p] += fixed[state] }  // σ⁻
            }
          }
          fixed = next
        }
        for state in 0..<(2 * width) { totals[state] += fixed[state] }
      }
      return totals
    }
    let plain = fixedCounts(conjugated: false)
    let conjugated = conjugates ? fixedCounts(conjugated: true) : []
    let characters = conjugation?.characters ?? [1, 1]
    var counts = [Int](repeating: 0, count: orbitBlockCount)
    for (j, q) in charges.enumerated() {
      for p in 0...1 {
        let state = 2 * (q + n) + p
        for b in 0..<orbitBlockCount {
          if let parities, (p + parities[j]) & 1 != b { continue }
          var orbits: Int
          if q == 0 && conjugates {
            orbits = Int(((plain[state] + characters[b] * conjugated[state]) / Double(2 * group.order)).rounded())
            if p == 0 && characters[b] > 0 { orbits -= 1 }  // less the identity string
          } else {
            orbits = Int((plain[state] / Double(group.order)).rounded())
            if q == 0 && p == 0 { orbits -= 1 }
          }
          counts[b] += orbits
        }
      }
    }
    return counts
  }

  /// The run's block dimensions: the orbit blocks, or the one block twice (real and imaginary parts).
  public func blockDimensions(group: SymmetryGroup) -> [Int] {
    let counts = orbitCounts(group: group)
    return orbitBlockCount == 1 ? [counts[0], counts[0]] : counts
  }

  /// Expected Liouvillian elements per row: the images a string gains from each support,
  /// averaged over its local patterns (for the memory estimate).
  public var expectedElementsPerRow: Double { tables.reduce(0) { $0 + $1.meanImages } }

  public var description: String {
    let names = charges.map { $0 == 0 ? "0" : "±\($0)" }.joined(separator: ", ")
    return (charges.count == 1 ? "charge q = " : "charges q = ") + names
      + (parities == nil ? ", real and imaginary blocks" : ", Z-parity blocks")
      + (conjugates ? ", σ⁺ ↔ σ⁻ \(conjugationSign > 0 ? "even" : "odd")" : "")
  }
}

/// The Liouvillian of a U(1)-symmetric chain in its charge sector: orbit sums of ladder strings
/// under the site symmetries, in the blocks `ChargeStructure` lays out.
public struct ChargeSectorSpace: SparseOperatorSpace {
  public let structure: ChargeStructure
  public let orbits: OrbitBasis
  /// `matrices[0]` maps block 0 to block 1 (M), `matrices[1]` block 1 to block 0 (−M).
  public let matrices: [SparseRows]
  public let initialBlock = 0
  public let initialVector: [Double]
  public let liouvillianScale: Double

  public enum BuildError: Error, CustomStringConvertible {
    case operatorNotInSector
    public var description: String {
      "the operator is not invariant under the detected symmetry group (internal error)"
    }
  }

  public init(
    hamiltonian h: PauliSum, structure: ChargeStructure, group: SymmetryGroup, progress: SetupProgress? = nil
  ) throws {
    self.structure = structure
    let phases = sectorPhases(progress, matrices: structure.orbitBlockCount)
    let orbits = OrbitBasis(
      size: structure.size, group: group, blockCount: structure.orbitBlockCount, conjugation: structure.conjugation,
      progress: phases.enumeration, classify: { structure.blocks(of: $0) })
    self.orbits = orbits
    var v = [Double](repeating: 0, count: orbits.keys[0].count)
    let sign = structure.conjugation?.characters[0] ?? 1
    for (s, c, _) in structure.operatorTerms {
      let (r, conjugated) = orbits.canonical(s)
      guard structure.blocks(of: s) & 1 != 0, let i = orbits.index(ofRepresentative: r, block: 0) else {
        throw BuildError.operatorNotInSector
      }
      v[i] += (conjugated ? sign : 1) * c / Double(orbits.orbitSizes[0][i]).squareRoot()
    }
    self.initialVector = v
    self.liouvillianScale = 2 * h.terms.values.reduce(0) { $0 + abs($1) }
    let other = structure.orbitBlockCount - 1
    let forward = Self.buildRows(
      orbits: orbits, tables: structure.tables, target: other, source: 0, sign: 1, progress: phases.matrix(0))
    let backward =
      other == 0
      ? forward.negated()
      : Self.buildRows(
        orbits: orbits, tables: structure.tables, target: 0, source: 1, sign: -1, progress: phases.matrix(1))
    self.matrices = [forward, backward]
  }

  /// Rows of the target block, from each representative's image under the support tables.
  ///
  /// Row T holds `sign · (T|M|R) = sign · sqrt(m_T / m_R) Σ_{S ∈ orbit(R)} χ(S) (e_S|M|e_T)`
  /// (M is symmetric, commutes with the site permutations and anticommutes with S ↔ S̄; χ(S) is
  /// the source block's character when S is a conjugated image), from T's image under each
  /// support's table.
  private static func buildRows(
    orbits: OrbitBasis, tables: [LadderSupportTable], target: Int, source: Int, sign: Double, progress: SetupProgress?
  ) -> SparseRows {
    SparseRows.build(rows: orbits.keys[target].count, progress: progress) { row, add in
      let t = orbits.string(key: orbits.keys[target][row])
      let mt = Double(orbits.orbitSizes[target][row])
      forEachImage(of: t, in: source, orbits: orbits, tables: tables) { col, image, character in
        let value = image.value * (mt / Double(orbits.orbitSizes[source][col])).squareRoot()
        add(Int32(col), character * sign * value)
      }
    }
  }

  /// The terms of [H, S] for one ladder string S, from which both the rows and the exact Krylov
  /// dimension are made.
  ///
  /// Each term comes as the index of its representative in block `block`, the table entry that
  /// made it, and the character it carries there (the block's sign when the term is a
  /// conjugated image of its representative, else 1). A term whose orbit has no vector in the
  /// block (it maps to itself with the sign −1) sums to zero over the orbit, and is passed over.
  private static func forEachImage(
    of t: PauliString, in block: Int, orbits: OrbitBasis, tables: [LadderSupportTable],
    _ body: (Int, (x: UInt64, z: UInt64, value: Double, raw: Double), Double) -> Void
  ) {
    let character = orbits.conjugation?.characters[block] ?? 1
    orbits.keys[block].withUnsafeBufferPointer { keys in
      for table in tables {
        for image in table.entries[table.pattern(of: t)] {
          let s = PauliString(x: (t.x & ~table.mask) | image.x, z: (t.z & ~table.mask) | image.z)
          let (r, conjugated) = orbits.canonical(s)
          guard let col = OrbitBasis.search(keys, orbits.key(r)) else {
            precondition(
              character < 0 && orbits.isSelfConjugate(r), "Liouvillian left the charge sector: \(s) from \(t)")
            continue
          }
          body(col, image, conjugated ? character : 1)
        }
      }
    }
  }

  public var blockDimensions: [Int] {
    structure.orbitBlockCount == 1 ? [orbits.keys[0].count, orbits.keys[0].count] : orbits.blockDimensions
  }

  /// The negated copy shares its rows and columns with the matrix it negates.
  public var storageBytes: Int {
    let shared = structure.orbitBlockCount == 1
    let second = shared ? matrices[1].table.count * 8 + matrices[1].values.count * 8 : matrices[1].storageBytes
    return orbits.storageBytes + matrices[0].storageBytes + second
  }

  public var sectorDescription: String {
    let elements = structure.orbitBlockCount == 1 ? matrices[0].nonzeros : matrices.reduce(0) { $0 + $1.nonzeros }
    return
      "symmetry \(orbits.group), \(structure); dimensions \(blockDimensions.map(String.init).joined(separator: " + ")); "
      + "\(elements) Liouvillian elements (\(formatBytes(storageBytes)))"
  }
}

extension ChargeSectorSpace: ExactlyRepresentedSpace {
  private func orbitBlock(_ b: Int) -> Int { structure.orbitBlockCount == 1 ? 0 : b }

  public func forEachExactImage(block: Int, index: Int, _ body: (Int, Double, Int) -> Void) {
    let target = orbitBlock((block + 1) % 2)
    let sign: Double = block == 0 ? 1 : -1
    let t = orbits.string(key: orbits.keys[orbitBlock(block)][index])
    Self.forEachImage(of: t, in: target, orbits: orbits, tables: structure.tables) { column, image, character in
      body(column, character * sign * image.raw, Int(orbits.orbitSizes[target][column]))
    }
  }

  public func orbitSize(block: Int, index: Int) -> Int { Int(orbits.orbitSizes[orbitBlock(block)][index]) }

  public var exactInitialVector: [Double] {
    var v = [Double](repeating: 0, count: orbits.keys[0].count)
    for (s, _, raw) in structure.operatorTerms {
      if let i = orbits.index(ofRepresentative: s, block: 0) { v[i] = raw }
    }
    return v
  }

  /// The Hermitian operator a vector of block `b` stands for, in Pauli strings.
  ///
  /// Block 0 holds the real part of each charge's A, block 1 the imaginary part, and
  /// O = A + A† (A for q = 0), the q > 0 parts unweighted again. For tests against the
  /// Pauli-sum algebra.
  public func pauliSum(block b: Int, vector: [Double]) -> PauliSum {
    let orbitBlock = structure.orbitBlockCount == 1 ? 0 : b
    let character = orbits.conjugation?.characters[orbitBlock] ?? 1
    let n = orbits.size
    var coefficients: [PauliString: Double] = [:]
    for (i, c) in vector.enumerated() where c != 0 {
      let r = orbits.string(key: orbits.keys[orbitBlock][i])
      var images = Set(orbits.group.elements.map { $0.apply(r, size: n) })
      var conjugatedImages: Set<PauliString> = []
      if let partner = orbits.conjugation?.image(r) {
        conjugatedImages = Set(orbits.group.elements.map { $0.apply(partner, size: n) })
        images.subtract(conjugatedImages)
      }
      let each = c / Double(orbits.orbitSizes[orbitBlock][i]).squareRoot()
      for (s, sign) in images.map({ ($0, 1.0) }) + conjugatedImages.map({ ($0, character) }) {
        // e_S = 2^{k/2} S; the q > 0 parts were weighed by √2, and A + A† doubles the real part.
        let k = Ladder.ladderCount(s)
        let q = Ladder.charge(s)
        let scale = sign * each * Double(1 << k).squareRoot() * (q > 0 ? 2 / 2.0.squareRoot() : 1)
        let phase = b == 0 ? Complex.one : Complex.i
        // σ⁺ = (X + iY)/2, σ⁻ = (X − iY)/2: expand site by site.
        var terms: [(PauliString, Complex)] = [(PauliString(x: 0, z: s.z & ~s.x), scale * phase)]
        var sites = s.x
        while sites != 0 {
          let bit = sites & (~sites &+ 1)
          sites &= sites - 1
          let lowering = s.z & bit != 0
          terms = terms.flatMap { p, w in
            [
              (PauliString(x: p.x | bit, z: p.z), 0.5 * w),
              (PauliString(x: p.x | bit, z: p.z | bit), 0.5 * (w * Complex(0, lowering ? -1 : 1))),
            ]
          }
        }
        for (p, w) in terms { coefficients[p, default: 0] += w.re }
      }
    }
    return PauliSum(coefficients.filter { $0.value != 0 }.map { ($0.key, $0.value) })
  }
}
