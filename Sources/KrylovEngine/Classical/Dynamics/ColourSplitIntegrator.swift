import Foundation

/// A time stepper for classical spin chains that keeps every |S_j| = 1 and H exactly.
///
/// The sites are coloured so that no term of H holds two sites of one colour
/// (`SpinMonomialSum.colouring`). Moving only the spins of one colour, the others frozen,
/// each moving spin sees a fixed local field F_j (its own colour does not enter it), so that
/// partial flow is solved exactly: S_j turns about F_j by the angle |F_j| τ (Rodrigues'
/// formula). A rotation keeps |S_j|, and S_j · F_j with it, so each partial flow keeps H too.
/// The full vector field is the sum of the colours' parts, so composing the partial flows
/// integrates it: symmetrically (Strang) for order 2, and as Yoshida's triple jump of that
/// symmetric step for order 4. Each partial flow is undone by running it backwards, so both
/// compositions are time-reversible, and each preserves the uniform measure of the spins it
/// moves. Quantities other than H that the exact flow conserves (total S^z under xxz, say)
/// are kept only to the order of the method.
public struct ColourSplitIntegrator: Sendable {
  public enum Order: Int, Sendable, CaseIterable {
    case second = 2
    case fourth = 4
  }

  public let hamiltonian: SpinMonomialSum
  /// Sites of each colour.
  public let colours: [[Int]]
  public let order: Order
  /// Composition steps per `advance` call.
  public let substeps: Int
  /// Partial flows of one `advance` call: colour and fraction of the interval, adjacent flows
  /// of one colour merged.
  public let schedule: [(colour: Int, fraction: Double)]
  private let colourSites: [Int32]
  private let colourStarts: [Int]

  public init(hamiltonian: SpinMonomialSum, order: Order = .fourth, substeps: Int = 1) {
    precondition(substeps >= 1, "substeps must be at least 1")
    self.hamiltonian = hamiltonian
    self.order = order
    self.substeps = substeps
    let colours = hamiltonian.colouring
    self.colours = colours
    colourSites = colours.flatMap { $0.map(Int32.init) }
    var starts = [0]
    var end = 0
    for c in colours {
      end += c.count
      starts.append(end)
    }
    colourStarts = starts

    let m = colours.count
    func strang(_ w: Double) -> [(Int, Double)] {
      if m == 1 { return [(0, w)] }
      let down = (0..<(m - 1)).map { ($0, w / 2) }
      return down + [(m - 1, w)] + down.reversed()
    }
    let one: [(Int, Double)]
    switch order {
    case .second: one = strang(1)
    case .fourth:
      let cube = pow(2.0, 1.0 / 3.0)
      let w1 = 1 / (2 - cube)
      let w0 = -cube / (2 - cube)
      one = strang(w1) + strang(w0) + strang(w1)
    }
    var merged: [(colour: Int, fraction: Double)] = []
    for _ in 0..<substeps {
      for (c, w) in one {
        let f = w / Double(substeps)
        if let last = merged.last, last.colour == c {
          merged[merged.count - 1].fraction += f
        } else {
          merged.append((c, f))
        }
      }
    }
    schedule = merged
  }

  /// Advances the state (flat `[x0, y0, z0, x1, …]`) by `dt`.
  public func advance(_ state: inout [Double], by dt: Double) {
    precondition(state.count == 3 * hamiltonian.siteCount)
    hamiltonian.withKernel { kernel in
      state.withUnsafeMutableBufferPointer { buffer in
        // 3 · siteCount ≥ 3 entries (a sum has at least one site).
        guard let base = buffer.baseAddress else { preconditionFailure("the state of a chain with sites has a base address") }
        advance(base, by: dt, kernel: kernel)
      }
    }
  }

  /// Advances a raw state by `dt`, with the Hamiltonian's kernel already opened.
  public func advance(_ state: UnsafeMutablePointer<Double>, by dt: Double, kernel: SpinMonomialKernel) {
    colourSites.withUnsafeBufferPointer { sites in
      for (colour, fraction) in schedule {
        let tau = fraction * dt
        for i in colourStarts[colour]..<colourStarts[colour + 1] {
          rotate(site: Int(sites[i]), tau: tau, state: state, kernel: kernel)
        }
      }
    }
  }

  /// Advances four states at once, one per SIMD lane (`state[slot]` holds slot 3·site + a of
  /// each), with the same operations per lane as the scalar `advance`.
  public func advance(_ state: UnsafeMutablePointer<SIMD4<Double>>, by dt: Double, kernel: SpinMonomialKernel) {
    colourSites.withUnsafeBufferPointer { sites in
      for (colour, fraction) in schedule {
        let tau = fraction * dt
        for i in colourStarts[colour]..<colourStarts[colour + 1] {
          rotate(site: Int(sites[i]), tau: tau, state: state, kernel: kernel)
        }
      }
    }
  }

  /// 1/(2k+1)! and 1/(2k+2)!, k = 0…8: sin θ/θ and (1 − cos θ)/θ² as series in −θ².
  static let sincCoefficients: [Double] = (0...8).map { k in 1 / (1...(2 * k + 1)).reduce(1.0) { $0 * Double($1) } }
  static let versineCoefficients: [Double] = (0...8).map { k in 1 / (1...(2 * k + 2)).reduce(1.0) { $0 * Double($1) } }

  /// Σ a_k x^k by Horner's rule.
  @inline(__always)
  static func series(_ a: [Double], _ x: Double) -> Double {
    var p = a[8]
    for k in stride(from: 7, through: 0, by: -1) { p = a[k] + x * p }
    return p
  }

  @inline(__always)
  static func series(_ a: [Double], _ x: SIMD4<Double>) -> SIMD4<Double> {
    var p = SIMD4<Double>(repeating: a[8])
    for k in stride(from: 7, through: 0, by: -1) { p = a[k] + x * p }
    return p
  }

  /// The exact partial flow of one spin: a turn about its frozen field F by the angle θ = |F| τ.
  ///
  /// The turn is
  ///
  ///   S' = cos θ · S + τ (sin θ / θ) · F × S + τ² ((1 − cos θ) / θ²) · F (F · S),
  ///
  /// with both ratios as power series in θ² when θ² ≤ 1/4 (truncated below 10^{−19}, so exact to
  /// rounding, with no square root or division), and from sin and cos otherwise.
  @inline(__always)
  private func rotate(site j: Int, tau: Double, state: UnsafeMutablePointer<Double>, kernel: SpinMonomialKernel) {
    let (fx, fy, fz) = kernel.field(of: j, in: state)
    let f2 = fx * fx + fy * fy + fz * fz
    let theta2 = f2 * tau * tau
    let sinc: Double
    let versine: Double
    let c: Double
    if theta2 <= 0.25 {
      // sin θ/θ = Σ (−θ²)^k/(2k+1)!, (1 − cos θ)/θ² = Σ (−θ²)^k/(2k+2)!, k = 0…7.
      sinc = Self.series(Self.sincCoefficients, -theta2)
      versine = Self.series(Self.versineCoefficients, -theta2)
      c = 1 - theta2 * versine
    } else {
      let theta = theta2.squareRoot()
      c = cos(theta)
      sinc = sin(theta) / theta
      versine = (1 - c) / theta2
    }
    let p = state + 3 * j
    let sx = p[0]
    let sy = p[1]
    let sz = p[2]
    let a = tau * sinc
    let b = tau * tau * versine * (fx * sx + fy * sy + fz * sz)
    p[0] = c * sx + a * (fy * sz - fz * sy) + b * fx
    p[1] = c * sy + a * (fz * sx - fx * sz) + b * fy
    p[2] = c * sz + a * (fx * sy - fy * sx) + b * fz
  }

  /// `rotate` for four states in SIMD lanes.
  @inline(__always)
  private func rotate(site j: Int, tau: Double, state: UnsafeMutablePointer<SIMD4<Double>>, kernel: SpinMonomialKernel) {
    let (fx, fy, fz) = kernel.field(of: j, in: state)
    let f2 = fx * fx + fy * fy + fz * fz
    let theta2 = f2 * tau * tau
    var sinc: SIMD4<Double>
    var versine: SIMD4<Double>
    var c: SIMD4<Double>
    sinc = Self.series(Self.sincCoefficients, -theta2)
    versine = Self.series(Self.versineCoefficients, -theta2)
    c = 1 - theta2 * versine
    let large = theta2 .> 0.25
    if any(large) {
      for lane in 0..<4 where large[lane] {
        let theta = theta2[lane].squareRoot()
        c[lane] = cos(theta)
        sinc[lane] = sin(theta) / theta
        versine[lane] = (1 - c[lane]) / theta2[lane]
      }
    }
    let p = state + 3 * j
    let sx = p[0]
    let sy = p[1]
    let sz = p[2]
    let a = tau * sinc
    let b = tau * tau * versine * (fx * sx + fy * sy + fz * sz)
    p[0] = c * sx + a * (fy * sz - fz * sy) + b * fx
    p[1] = c * sy + a * (fz * sx - fx * sz) + b * fy
    p[2] = c * sz + a * (fx * sy - fy * sx) + b * fz
  }
}
