/// A sector whose Liouvillian has exact entries in its unnormalized orbit basis
/// (`f_R = Σ_{Q ∈ orbit(R)} χ(Q) Q`): each entry is a double (a dyadic rational, exactly)
/// times a ratio of orbit sizes, so its Krylov dimension can be computed in exact arithmetic.
public protocol ExactlyRepresentedSpace: KrylovOperatorSpace {
  /// Calls `body(column, coefficient, targetOrbit)` for each term of `L f_T`, with T the
  /// representative `index` of `block`: the term is `coefficient · m_T / m_R` on `f_R`, R the
  /// representative `column` of the next block and `targetOrbit` its orbit size m_R.
  func forEachExactImage(block: Int, index: Int, _ body: (_ column: Int, _ coefficient: Double, _ targetOrbit: Int) -> Void)
  /// Orbit size m_T of representative `index` of `block`.
  func orbitSize(block: Int, index: Int) -> Int
  /// The operator's coefficients on the unnormalized basis of the initial block (any nonzero
  /// scale per charge: it does not change the Krylov dimension).
  var exactInitialVector: [Double] { get }
}

/// The dimension of the Krylov space of (L, O), computed exactly: the Krylov vectors modulo
/// the prime p = 2^61 − 1, reduced against the earlier ones of their block.
///
/// Floating-point Lanczos cannot see where an integrable chain's Krylov space ends: rounding
/// grows in the directions of its hidden conserved charges, and the last coefficients are lost
/// in it. The first Krylov vector that depends on the earlier ones gives the dimension D exactly
/// (the run has b_1 … b_{D−1}). Every entry is a dyadic rational times a ratio of orbit sizes,
/// so the vectors are exact over the rationals; modulo p their rank can only drop when p divides
/// one of the minors involved, which for 61-bit p and these sizes has probability below 1e-12.
/// It is tested against exact rational Lanczos.
public enum ExactKrylovDimension {
  static let prime: UInt64 = (1 << 61) - 1

  /// The work allowed, in multiply-adds of the elimination ((steps + 1)² / 4 × block
  /// dimension): about 0.2 s on one core.
  public static let workLimit = 1e8

  /// What the exact computation found within a number of steps.
  public enum Finding: Equatable, Sendable {
    /// The Krylov space has dimension D: the run has b_1 … b_{D−1}, and b_D = 0.
    case exhausted(dimension: Int)
    /// The space has more than steps + 1 dimensions: no coefficient up to b_steps is zero.
    case notExhausted
  }

  /// The Krylov dimension if it is at most `steps + 1`, or that it is larger; nil when the
  /// computation would exceed `workLimit`, or when cancelled.
  public static func compute(
    space: some ExactlyRepresentedSpace, steps: Int, isCancelled: () -> Bool = { false }
  ) -> Finding? {
    let dims = space.blockDimensions
    let largest = Double(dims.max() ?? 0)
    guard steps >= 1, Double(steps + 1) * Double(steps + 1) / 4 * largest <= workLimit else { return nil }
    let blockCount = dims.count
    var block = space.initialBlock
    var vector = space.exactInitialVector.map(Self.residue)
    guard vector.contains(where: { $0 != 0 }) else { return nil }  // O = 0 is refused earlier
    // Reduced basis vectors of each block, with their pivot (normalized to 1) positions.
    var bases: [[(pivot: Int, vector: [UInt64])]] = Array(repeating: [], count: blockCount)
    // L once, modulo p, column by column: the images of each representative, in the next block.
    var inverses: [UInt64] = []
    func inverse(_ m: Int) -> UInt64 {
      while inverses.count <= m { inverses.append(inverses.isEmpty ? 0 : Self.inverse(UInt64(inverses.count))) }
      return inverses[m]
    }
    var columns: [[[(row: Int32, value: UInt64)]]] = []
    for b in 0..<blockCount {
      if isCancelled() { return nil }
      columns.append(
        (0..<dims[b]).map { t in
          var images: [(row: Int32, value: UInt64)] = []
          let weight = UInt64(space.orbitSize(block: b, index: t))
          space.forEachExactImage(block: b, index: t) { row, coefficient, targetOrbit in
            images.append((Int32(row), multiply(multiply(weight, residue(coefficient)), inverse(targetOrbit))))
          }
          return images
        })
    }
    for n in 0...steps {
      if isCancelled() { return nil }
      // Is O_n (block `block`) independent of the earlier vectors of its block?
      var reduced = vector
      reduced.withUnsafeMutableBufferPointer { r in
        for (pivot, basis) in bases[block] where r[pivot] != 0 {
          let factor = Self.prime - r[pivot]
          basis.withUnsafeBufferPointer { b in
            for i in b.indices { r[i] = add(r[i], multiply(factor, b[i])) }
          }
        }
      }
      guard let pivot = reduced.firstIndex(where: { $0 != 0 }) else { return .exhausted(dimension: n) }
      let scale = Self.inverse(reduced[pivot])
      bases[block].append((pivot, reduced.map { multiply($0, scale) }))
      if n == steps { break }
      // O_{n+1} = L O_n, in the next block.
      let next = (block + 1) % blockCount
      var image = [UInt64](repeating: 0, count: dims[next])
      for t in vector.indices where vector[t] != 0 {
        for (row, value) in columns[block][t] { image[Int(row)] = add(image[Int(row)], multiply(vector[t], value)) }
      }
      vector = image
      block = next
    }
    return .notExhausted
  }

  @inline(__always)
  static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let s = a + b
    return s >= prime ? s - prime : s
  }

  @inline(__always)
  static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (high, low) = a.multipliedFullWidth(by: b)
    // 2^64 = 2^3 · 2^61 ≡ 8 (mod p): fold the product's high bits down (both parts stay below p
    // plus 8, as a and b are below p).
    var folded = UInt64(high) << 3 | low >> 61
    if folded >= prime { folded -= prime }
    return add(low & prime, folded)
  }

  static func power(_ base: UInt64, _ exponent: UInt64) -> UInt64 {
    var result: UInt64 = 1
    var b = base % prime
    var e = exponent
    while e > 0 {
      if e & 1 == 1 { result = multiply(result, b) }
      b = multiply(b, b)
      e >>= 1
    }
    return result
  }

  static func inverse(_ a: UInt64) -> UInt64 { power(a, prime - 2) }

  /// A finite double modulo p: it is m · 2^e exactly, and 2^61 ≡ 1.
  static func residue(_ value: Double) -> UInt64 {
    guard value != 0, value.isFinite else { return 0 }
    let magnitude = abs(value)
    let m = UInt64(magnitude.significandBitPattern) | (magnitude.isNormal ? 1 << 52 : 0)
    let e = magnitude.isNormal ? Int(magnitude.exponent) - 52 : -1074
    let r = multiply(m, 1 << UInt64(((e % 61) + 61) % 61))
    return value < 0 && r != 0 ? prime - r : r
  }
}
