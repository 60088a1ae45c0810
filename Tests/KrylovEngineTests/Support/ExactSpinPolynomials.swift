import BigInt
import KrylovEngine

/// Lanczos coefficients of a classical spin chain in exact arithmetic, with no spherical harmonics.
///
/// It uses polynomials in the spin components with integer coefficients, the Poisson bracket
/// by the Leibniz rule from {S^a_j, S^b_k} = δ_jk ε_abc S^c_j, and the inner product from the
/// exact sphere moments ⟨x^a y^b z^c⟩ = (a−1)!!(b−1)!!(c−1)!!/(a+b+c+1)!! (all exponents even,
/// else 0). The monic recursion P_{n+1} = L P_n + b_n² P_{n−1}, b_n² = ⟨P_n P_n⟩/⟨P_{n−1} P_{n−1}⟩
/// (the plus sign because L is antisymmetric, physics.md §2 and §6) is carried as P_n = c_n Q_n
/// with Q_n an integer polynomial and c_n an exact fraction. Polynomials are reduced on the
/// sphere (x² → 1 − y² − z²), which changes neither their values nor their brackets (|S|² is a
/// Casimir), only their size.
struct ExactSpinPolynomials {
  /// b_n² as exact fractions (numerator, denominator).
  var squares: [(BigInt, BigInt)] = []

  var coefficients: [Double] { squares.map { ratioToDouble($0.0, $0.1).squareRoot() } }

  /// Exponents of (x, y, z) on each site, site-major.
  typealias Monomial = [UInt8]
  typealias Polynomial = [Monomial: BigInt]

  let sites: Int

  /// - Parameters:
  ///   - hamiltonian, operator: Pauli sums on `sites` sites, letters read as spin components;
  ///     coefficients must be decimal fractions (scaled to integers exactly).
  init(hamiltonian: PauliSum, operator: PauliSum, sites: Int, steps: Int) {
    self.sites = sites
    let (hInt, scale) = ExactLanczos.integerize(hamiltonian)
    let (oInt, _) = ExactLanczos.integerize(`operator`)
    let h = hInt.map { (Self.monomial(of: $0.key, sites: sites), $0.value) }
    let moments = MomentTable(maxHalfDegree: steps + 2)

    var older: Polynomial = [:]
    var olderC = Fraction(0)
    var current = reduced(Dictionary(uniqueKeysWithValues: oInt.map { (Self.monomial(of: $0.key, sites: sites), $0.value) }))
    var currentC = Fraction(1)
    var previousNorm = currentC * currentC * Fraction(norm(current, moments), 1)
    var beta = Fraction(0)
    for _ in 1...steps {
      // P_{n+1} = (c_n / D) L_int Q_n + β_n c_{n−1} Q_{n−1}, brought to one integer polynomial.
      let image = bracket(current, h)
      let x = currentC * Fraction(1, scale)
      let y = beta * olderC
      let common = x.den * y.den / x.den.greatestCommonDivisor(with: y.den)
      let a = x.num * (common / x.den)
      let b = y.num * (common / y.den)
      var next: Polynomial = [:]
      for (m, c) in image { next[m, default: 0] += a * c }
      if b != 0 { for (m, c) in older { next[m, default: 0] += b * c } }
      next = next.filter { $0.value != 0 }
      var content = BigInt(0)
      for c in next.values { content = content.greatestCommonDivisor(with: c) }
      if content > 1 { next = next.mapValues { $0 / content } } else { content = 1 }
      let nextC = Fraction(content, common)
      let nextNorm = nextC * nextC * Fraction(norm(next, moments), 1)
      beta = nextNorm / previousNorm
      squares.append((beta.num, beta.den))
      older = current
      olderC = currentC
      current = next
      currentC = nextC
      previousNorm = nextNorm
    }
  }

  static func monomial(of s: PauliString, sites: Int) -> Monomial {
    var m = Monomial(repeating: 0, count: 3 * sites)
    for j in 0..<sites {
      let bit = UInt64(1) << UInt64(j)
      let x = s.x & bit != 0
      let z = s.z & bit != 0
      if x && z { m[3 * j + 1] = 1 } else if x { m[3 * j] = 1 } else if z { m[3 * j + 2] = 1 }
    }
    return m
  }

  /// {f, H} = Σ_j Σ_{a,b,c} ε_abc S^c_j ∂f/∂S^a_j ∂H/∂S^b_j, reduced on the sphere.
  func bracket(_ f: Polynomial, _ h: [(Monomial, BigInt)]) -> Polynomial {
    var out: Polynomial = [:]
    let levi: [(Int, Int, Int, BigInt)] = [(0, 1, 2, 1), (1, 2, 0, 1), (2, 0, 1, 1), (1, 0, 2, -1), (2, 1, 0, -1), (0, 2, 1, -1)]
    for (u, cu) in f {
      for (w, cw) in h {
        for j in 0..<sites {
          for (a, b, c, sign) in levi {
            let ea = u[3 * j + a]
            let eb = w[3 * j + b]
            guard ea > 0 && eb > 0 else { continue }
            var m = u
            m[3 * j + a] -= 1
            for t in 0..<(3 * sites) { m[t] += w[t] }
            m[3 * j + b] -= 1
            m[3 * j + c] += 1
            out[m, default: 0] += sign * BigInt(Int(ea)) * BigInt(Int(eb)) * cu * cw
          }
        }
      }
    }
    return reduced(out.filter { $0.value != 0 })
  }

  /// Replaces x_j² by 1 − y_j² − z_j² until every x exponent is 0 or 1.
  func reduced(_ p: Polynomial) -> Polynomial {
    var work = p
    var out: Polynomial = [:]
    while let (m, c) = work.first {
      work[m] = nil
      guard let j = (0..<sites).first(where: { m[3 * $0] >= 2 }) else {
        out[m, default: 0] += c
        continue
      }
      var base = m
      base[3 * j] -= 2
      var y = base
      y[3 * j + 1] += 2
      var z = base
      z[3 * j + 2] += 2
      for (t, s) in [(base, c), (y, -c), (z, -c)] { work[t, default: 0] += s }
    }
    return out.filter { $0.value != 0 }
  }

  /// ⟨Q Q⟩ times the fixed denominator of the moment table: pairs meet only within a parity class.
  func norm(_ q: Polynomial, _ moments: MomentTable) -> BigInt {
    var classes: [[UInt8]: [(Monomial, BigInt)]] = [:]
    for (m, c) in q { classes[m.map { $0 & 1 }, default: []].append((m, c)) }
    var total = BigInt(0)
    for members in classes.values {
      for i in 0..<members.count {
        for k in i..<members.count {
          var value = members[i].1 * members[k].1 * (i == k ? 1 : 2)
          let u = members[i].0
          let v = members[k].0
          for j in 0..<sites {
            value *= moments.scaled(
              Int(u[3 * j]) + Int(v[3 * j]), Int(u[3 * j + 1]) + Int(v[3 * j + 1]), Int(u[3 * j + 2]) + Int(v[3 * j + 2]))
          }
          total += value
        }
      }
    }
    return total
  }
}

/// ⟨x^a y^b z^c⟩ on the unit sphere times (2E + 1)!!, an integer when a + b + c ≤ 2E.
struct MomentTable {
  let maxHalfDegree: Int
  let denominator: BigInt
  /// values[a/2][b/2][c/2] for even a, b, c.
  private var values: [[[BigInt]]] = []

  init(maxHalfDegree: Int) {
    self.maxHalfDegree = maxHalfDegree
    denominator = Self.doubleFactorial(2 * maxHalfDegree + 1)
    let n = maxHalfDegree + 1
    values = (0..<n).map { a in
      (0..<n).map { b in
        (0..<n).map { c in
          a + b + c > maxHalfDegree
            ? 0
            : Self.doubleFactorial(2 * a - 1) * Self.doubleFactorial(2 * b - 1) * Self.doubleFactorial(2 * c - 1)
              * denominator / Self.doubleFactorial(2 * (a + b + c) + 1)
        }
      }
    }
  }

  static func doubleFactorial(_ n: Int) -> BigInt {
    var r = BigInt(1)
    var k = n
    while k > 1 {
      r *= BigInt(k)
      k -= 2
    }
    return r
  }

  func scaled(_ a: Int, _ b: Int, _ c: Int) -> BigInt {
    guard a % 2 == 0, b % 2 == 0, c % 2 == 0 else { return 0 }
    precondition(a + b + c <= 2 * maxHalfDegree, "moment table too small")
    return values[a / 2][b / 2][c / 2]
  }
}

/// An exact fraction, kept in lowest terms with a positive denominator.
struct Fraction {
  var num: BigInt
  var den: BigInt

  init(_ num: BigInt, _ den: BigInt = 1) {
    let g = num.greatestCommonDivisor(with: den)
    let s: BigInt = den < 0 ? -1 : 1
    self.num = g == 0 ? 0 : s * num / g
    self.den = g == 0 ? 1 : s * den / g
  }

  static func * (a: Fraction, b: Fraction) -> Fraction { Fraction(a.num * b.num, a.den * b.den) }
  static func / (a: Fraction, b: Fraction) -> Fraction { Fraction(a.num * b.den, a.den * b.num) }
}
