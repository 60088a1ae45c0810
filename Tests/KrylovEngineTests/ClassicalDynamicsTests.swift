import Foundation
import KrylovEngine
import Synchronization
import Testing

// MARK: - Independent references, written here without the engine's dynamics code

/// The mixed-field Ising ring's local field written out by hand: ∇_j H for
/// H = Σ J S^z_j S^z_{j+1} + g S^x_j + h S^z_j.
private func mfimField(_ s: [Double], site j: Int, n: Int, J: Double, g: Double, h: Double) -> (Double, Double, Double) {
  let left = s[3 * ((j + n - 1) % n) + 2]
  let right = s[3 * ((j + 1) % n) + 2]
  return (g, 0, h + J * (left + right))
}

private func mfimEnergy(_ s: [Double], n: Int, J: Double, g: Double, h: Double) -> Double {
  var e = 0.0
  for j in 0..<n { e += J * s[3 * j + 2] * s[3 * ((j + 1) % n) + 2] + g * s[3 * j] + h * s[3 * j + 2] }
  return e
}

/// Plain RK4 on dS_j/dt = F_j × S_j for the mfim ring (no renormalization).
private func rk4(_ start: [Double], n: Int, J: Double, g: Double, h: Double, dt: Double, steps: Int) -> [Double] {
  func rate(_ s: [Double]) -> [Double] {
    var d = [Double](repeating: 0, count: 3 * n)
    for j in 0..<n {
      let (fx, fy, fz) = mfimField(s, site: j, n: n, J: J, g: g, h: h)
      let (x, y, z) = (s[3 * j], s[3 * j + 1], s[3 * j + 2])
      d[3 * j] = fy * z - fz * y
      d[3 * j + 1] = fz * x - fx * z
      d[3 * j + 2] = fx * y - fy * x
    }
    return d
  }
  func axpy(_ a: [Double], _ b: [Double], _ c: Double) -> [Double] { zip(a, b).map { $0 + c * $1 } }
  var s = start
  for _ in 0..<steps {
    let k1 = rate(s)
    let k2 = rate(axpy(s, k1, dt / 2))
    let k3 = rate(axpy(s, k2, dt / 2))
    let k4 = rate(axpy(s, k3, dt))
    for i in s.indices { s[i] += dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
  }
  return s
}

/// Polynomials in the spin components of a ring, with exact sphere averages: the independent
/// route to the moments μ_2k = ⟨(L^k O)²⟩ / ⟨O²⟩.
private struct SpinPolynomial {
  /// Exponents of (x0, y0, z0, x1, …) → coefficient.
  var terms: [[UInt8]: Double] = [:]
  let n: Int

  init(sites n: Int) { self.n = n }

  static func variable(_ index: Int, sites n: Int, coefficient: Double = 1) -> SpinPolynomial {
    var p = SpinPolynomial(sites: n)
    var e = [UInt8](repeating: 0, count: 3 * n)
    e[index] = 1
    p.terms[e] = coefficient
    return p
  }

  mutating func add(_ other: SpinPolynomial, scale: Double = 1) {
    for (e, c) in other.terms {
      let v = (terms[e] ?? 0) + scale * c
      terms[e] = v == 0 ? nil : v
    }
  }

  static func * (a: SpinPolynomial, b: SpinPolynomial) -> SpinPolynomial {
    var p = SpinPolynomial(sites: a.n)
    for (ea, ca) in a.terms {
      for (eb, cb) in b.terms {
        let e = zip(ea, eb).map { $0 + $1 }
        let v = (p.terms[e] ?? 0) + ca * cb
        p.terms[e] = v == 0 ? nil : v
      }
    }
    return p
  }

  func derivative(_ index: Int) -> SpinPolynomial {
    var p = SpinPolynomial(sites: n)
    for (e, c) in terms where e[index] > 0 {
      var d = e
      d[index] -= 1
      p.terms[d, default: 0] += c * Double(e[index])
    }
    return p
  }

  /// {self, H} = Σ_j S_j · (∇_j self × ∇_j H), from {S^a, S^b} = ε_abc S^c.
  func bracket(_ h: SpinPolynomial) -> SpinPolynomial {
    var out = SpinPolynomial(sites: n)
    for j in 0..<n {
      let df = (0..<3).map { derivative(3 * j + $0) }
      let dh = (0..<3).map { h.derivative(3 * j + $0) }
      for (a, b, c, sign) in [(0, 1, 2, 1.0), (1, 2, 0, 1), (2, 0, 1, 1), (0, 2, 1, -1), (1, 0, 2, -1), (2, 1, 0, -1)] {
        if df[b].terms.isEmpty || dh[c].terms.isEmpty { continue }
        out.add(SpinPolynomial.variable(3 * j + a, sites: n) * df[b] * dh[c], scale: sign)
      }
    }
    return out
  }

  /// ⟨self⟩ over independent uniform unit vectors: ⟨x^a y^b z^c⟩ = (a−1)!!(b−1)!!(c−1)!!/(a+b+c+1)!!
  /// for even exponents, zero otherwise.
  var average: Double {
    func doubleFactorial(_ k: Int) -> Double { k <= 0 ? 1 : Double(k) * doubleFactorial(k - 2) }
    var total = 0.0
    for (e, c) in terms {
      var v = c
      for j in 0..<n {
        let (a, b, d) = (Int(e[3 * j]), Int(e[3 * j + 1]), Int(e[3 * j + 2]))
        if a % 2 == 1 || b % 2 == 1 || d % 2 == 1 {
          v = 0
          break
        }
        v *= doubleFactorial(a - 1) * doubleFactorial(b - 1) * doubleFactorial(d - 1) / doubleFactorial(a + b + d + 1)
      }
      total += v
    }
    return total
  }
}

private func mfimPolynomial(sites n: Int, J: Double, g: Double, h: Double) -> SpinPolynomial {
  var p = SpinPolynomial(sites: n)
  for j in 0..<n {
    p.add(SpinPolynomial.variable(3 * j + 2, sites: n) * SpinPolynomial.variable(3 * ((j + 1) % n) + 2, sites: n), scale: J)
    p.add(SpinPolynomial.variable(3 * j, sites: n), scale: g)
    p.add(SpinPolynomial.variable(3 * j + 2, sites: n), scale: h)
  }
  return p
}

private func randomState(sites n: Int, seed: UInt64) -> [Double] {
  var generator = SplitMix64(seed: seed)
  return SphereSampler.sample(count: n, generator: &generator)
}

private func distance(_ a: [Double], _ b: [Double]) -> Double {
  zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

// MARK: - Tests

@Suite("Classical spin dynamics")
struct ClassicalDynamicsTests {
  static let (J, g, h) = (1.0, -1.05, 0.5)

  @Test("the compiled Hamiltonian and its local fields match the mfim ring written by hand")
  func compiledFields() throws {
    let chain = try SpinChain(model: .mfim, size: 7, operator: .szTotal)
    let hamiltonian = try SpinMonomialSum.hamiltonian(of: chain)
    let s = randomState(sites: 7, seed: 11)
    #expect(abs(hamiltonian.value(s) - mfimEnergy(s, n: 7, J: Self.J, g: Self.g, h: Self.h)) < 1e-13)
    for j in 0..<7 {
      let a = hamiltonian.field(of: j, in: s)
      let b = mfimField(s, site: j, n: 7, J: Self.J, g: Self.g, h: Self.h)
      #expect(abs(a.0 - b.0) + abs(a.1 - b.1) + abs(a.2 - b.2) < 1e-14)
    }
  }

  @Test(
    "colourings are proper: no term holds two sites of one colour",
    arguments: [(ModelName.mfim, 16, 2), (.mfim, 15, 3), (.xxz, 8, 2), (.j1j2, 12, 3), (.j1j2, 10, 4)])
  func colouring(model: ModelName, size: Int, expected: Int) throws {
    let chain = try SpinChain(model: model, size: size, operator: .szTotal)
    let hamiltonian = try SpinMonomialSum.hamiltonian(of: chain)
    let colours = hamiltonian.colouring
    #expect(colours.count == expected)
    #expect(colours.flatMap { $0 }.sorted() == Array(0..<size))
    for (site, neighbours) in hamiltonian.interactions.enumerated() {
      let own = colours.firstIndex { $0.contains(site) }
      for other in neighbours { #expect(colours.firstIndex { $0.contains(other) } != own) }
    }
  }

  @Test("|S_j| stays 1 to 1e-12 and H is kept to rounding over 5000 steps")
  func unitSpinsAndEnergy() throws {
    for model in [ModelName.mfim, .j1j2] {
      let chain = try SpinChain(model: model, size: 11, operator: .szTotal)
      let hamiltonian = try SpinMonomialSum.hamiltonian(of: chain)
      let integrator = ColourSplitIntegrator(hamiltonian: hamiltonian, order: .fourth, substeps: 1)
      var s = randomState(sites: 11, seed: 5)
      let e0 = hamiltonian.value(s)
      for _ in 0..<5000 { integrator.advance(&s, by: 0.1) }
      for j in 0..<11 {
        let norm = (s[3 * j] * s[3 * j] + s[3 * j + 1] * s[3 * j + 1] + s[3 * j + 2] * s[3 * j + 2]).squareRoot()
        #expect(abs(norm - 1) < 1e-12, "\(model) site \(j)")
      }
      #expect(abs(hamiltonian.value(s) - e0) < 1e-11, "\(model)")
    }
  }

  @Test("one trajectory agrees with plain RK4 at a tiny step")
  func againstRK4() throws {
    let n = 8
    let chain = try SpinChain(model: .mfim, size: n, operator: .szTotal)
    let integrator = ColourSplitIntegrator(hamiltonian: try SpinMonomialSum.hamiltonian(of: chain), order: .fourth, substeps: 2)
    let start = randomState(sites: n, seed: 3)
    let reference = rk4(start, n: n, J: Self.J, g: Self.g, h: Self.h, dt: 0.0005, steps: 6000)
    var s = start
    for _ in 0..<60 { integrator.advance(&s, by: 0.05) }
    #expect(distance(s, reference) < 1e-6)
    // And it moved: the test compares trajectories, not two copies of the start.
    #expect(distance(s, start) > 0.1)
  }

  @Test("four trajectories in SIMD lanes are the four scalar trajectories, bit for bit")
  func lanesMatchScalar() throws {
    let n = 9
    let chain = try SpinChain(model: .j1j2, size: n, operator: .szTotal)
    let hamiltonian = try SpinMonomialSum.hamiltonian(of: chain)
    // A large step, so some turns take the sin/cos branch and some the series.
    let integrator = ColourSplitIntegrator(hamiltonian: hamiltonian, order: .fourth)
    var scalar = (0..<4).map { randomState(sites: n, seed: 40 + UInt64($0)) }
    var lanes = (0..<(3 * n)).map { slot in SIMD4<Double>((0..<4).map { scalar[$0][slot] }) }
    for step in 0..<50 {
      let dt = step % 2 == 0 ? 0.02 : 0.4
      for i in 0..<4 { integrator.advance(&scalar[i], by: dt) }
      hamiltonian.withKernel { h in
        lanes.withUnsafeMutableBufferPointer { integrator.advance($0.baseAddress!, by: dt, kernel: h) }
      }
    }
    for i in 0..<4 { #expect((0..<(3 * n)).map { lanes[$0][i] } == scalar[i]) }
  }

  /// Largest error at times 1, 2, 3 against RK4 at a tiny step.
  private func trajectoryError(order: ColourSplitIntegrator.Order, dt: Double, start: [Double], reference: [[Double]]) throws
    -> Double
  {
    let chain = try SpinChain(model: .mfim, size: 6, operator: .szTotal)
    let integrator = ColourSplitIntegrator(hamiltonian: try SpinMonomialSum.hamiltonian(of: chain), order: order)
    var s = start
    var worst = 0.0
    let perUnit = Int((1 / dt).rounded())
    for r in reference {
      for _ in 0..<perUnit { integrator.advance(&s, by: dt) }
      worst = max(worst, distance(s, r))
    }
    return worst
  }

  @Test("halving the step divides the trajectory error by about 2^order", arguments: ColourSplitIntegrator.Order.allCases)
  func convergenceOrder(order: ColourSplitIntegrator.Order) throws {
    let start = randomState(sites: 6, seed: 21)
    var reference: [[Double]] = []
    var s = start
    for _ in 0..<3 {
      s = rk4(s, n: 6, J: Self.J, g: Self.g, h: Self.h, dt: 0.0005, steps: 2000)
      reference.append(s)
    }
    let coarse = try trajectoryError(order: order, dt: 0.1, start: start, reference: reference)
    let fine = try trajectoryError(order: order, dt: 0.05, start: start, reference: reference)
    let expected = pow(2.0, Double(order.rawValue))
    #expect(fine > 1e-9, "the fine error must stay above the reference's own error")
    #expect(coarse / fine > 0.7 * expected && coarse / fine < 1.4 * expected, "ratio \(coarse / fine), expected \(expected)")
  }

  @Test(
    "the drift of a conserved quantity other than H (total S^z under xxz) shrinks at the method's order",
    arguments: ColourSplitIntegrator.Order.allCases)
  func conservedDriftOrder(order: ColourSplitIntegrator.Order) throws {
    let chain = try SpinChain(model: .xxz, size: 8, operator: .szTotal)
    let hamiltonian = try SpinMonomialSum.hamiltonian(of: chain)
    let magnetization = try SpinMonomialSum.observable(of: chain)
    let start = randomState(sites: 8, seed: 8)
    func drift(_ dt: Double) -> Double {
      let integrator = ColourSplitIntegrator(hamiltonian: hamiltonian, order: order)
      var s = start
      let m0 = magnetization.value(s)
      var worst = 0.0
      for _ in 0..<Int((2 / dt).rounded()) {
        integrator.advance(&s, by: dt)
        worst = max(worst, abs(magnetization.value(s) - m0))
      }
      return worst
    }
    let ratio = drift(0.1) / drift(0.05)
    let expected = pow(2.0, Double(order.rawValue))
    #expect(drift(0.05) > 1e-10, "the split flow does not conserve S^z exactly, so there is a drift to measure")
    #expect(ratio > 0.7 * expected && ratio < 1.4 * expected, "ratio \(ratio), expected \(expected)")
  }

  @Test("exact ⟨O²⟩ of the inner product matches sphere-moment algebra", arguments: OperatorName.allCases)
  func exactMeanSquare(op: OperatorName) throws {
    let n = 5
    let chain = try SpinChain(model: .mfim, size: n, operator: op)
    let observable = try SpinMonomialSum.observable(of: chain)
    var polynomial = SpinPolynomial(sites: n)
    for (string, c) in try chain.initialOperator().sortedTerms {
      var term = SpinPolynomial(sites: n)
      term.terms[[UInt8](repeating: 0, count: 3 * n)] = c
      for site in 0..<n where string.support & (1 << UInt64(site)) != 0 {
        let bit: UInt64 = 1 << UInt64(site)
        let component = string.x & bit != 0 ? (string.z & bit != 0 ? 1 : 0) : 2
        term = term * SpinPolynomial.variable(3 * site + component, sites: n)
      }
      polynomial.add(term)
    }
    #expect(abs(observable.meanSquare - (polynomial * polynomial).average) < 1e-15)
  }

  @Test("short-time C(t) of mfim / sz_total agrees with the exact moment expansion (4-site ring)")
  func shortTimeMoments() throws {
    let n = 4
    let h = mfimPolynomial(sites: n, J: Self.J, g: Self.g, h: Self.h)
    var o = SpinPolynomial(sites: n)
    for j in 0..<n { o.add(.variable(3 * j + 2, sites: n), scale: 1 / Double(n).squareRoot()) }
    let norm = (o * o).average
    var moments: [Double] = []  // μ2, μ4, μ6, μ8
    var power = o
    for _ in 0..<4 {
      power = power.bracket(h)
      moments.append((power * power).average / norm)
    }
    // b_1² = g² (physics.md §6), from independent algebra.
    #expect(abs(moments[0] - Self.g * Self.g) < 1e-12)

    let chain = try SpinChain(model: .mfim, size: n, operator: .szTotal)
    let run = ClassicalAutocorrelation(
      hamiltonian: try SpinMonomialSum.hamiltonian(of: chain), observable: try SpinMonomialSum.observable(of: chain),
      samples: 12000, dt: 0.125, steps: 8, seed: 2024, substeps: 1)
    let estimate = run.run()
    #expect(estimate.samples == 12000 && !estimate.cancelled)
    #expect(estimate.values[0] == 1)
    for k in 1...8 {
      let t = estimate.times[k]
      let series = 1 - moments[0] * pow(t, 2) / 2 + moments[1] * pow(t, 4) / 24 - moments[2] * pow(t, 6) / 720
      // |cos x − its Taylor polynomial to x⁶| ≤ x⁸/8!, so the remainder is at most μ8 t⁸/8!.
      let remainder = moments[3] * pow(t, 8) / 40320
      let tolerance = 4 * estimate.standardErrors[k] + remainder
      #expect(abs(estimate.values[k] - series) <= tolerance, "t = \(t): C = \(estimate.values[k]), series \(series)")
      if k == 8 {
        // The check has teeth: at t = 1 the t⁴ term alone is well beyond the tolerance.
        #expect(moments[1] * pow(t, 4) / 24 > 2 * tolerance)
      }
    }
  }

  @Test("seeded runs are reproducible, independent of the thread count, and cancel to a prefix")
  func reproducible() throws {
    let chain = try SpinChain(model: .mfim, size: 6, operator: .szTotal)
    let hamiltonian = try SpinMonomialSum.hamiltonian(of: chain)
    let observable = try SpinMonomialSum.observable(of: chain)
    func run(samples: Int, seed: UInt64) -> ClassicalAutocorrelation {
      ClassicalAutocorrelation(hamiltonian: hamiltonian, observable: observable, samples: samples, dt: 0.1, steps: 5, seed: seed)
    }
    let one = run(samples: 2000, seed: 7).run(threads: 1)
    let two = run(samples: 2000, seed: 7).run(threads: 2)
    #expect(one.values == two.values && one.standardErrors == two.standardErrors)
    let other = run(samples: 2000, seed: 8).run(threads: 2)
    #expect(other.values != one.values)

    // Stopping after three chunks gives exactly the estimate of a run of three chunks.
    let polls = Atomic<Int>(0)
    let stopped = run(samples: 2000, seed: 7).run(
      threads: 1, isCancelled: { polls.wrappingAdd(1, ordering: .relaxed).oldValue >= 3 })
    let short = run(samples: 3 * ClassicalAutocorrelation.chunkSize, seed: 7).run(threads: 2)
    #expect(stopped.cancelled && stopped.samples == 3 * ClassicalAutocorrelation.chunkSize)
    #expect(stopped.values == short.values && stopped.standardErrors == short.standardErrors)
  }
}
