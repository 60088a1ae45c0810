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
    for c in colours { starts.append(starts.last! + c.count) }
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
      state.withUnsafeMutableBufferPointer { advance($0.baseAddress!, by: dt, kernel: kernel) }
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

  /// The exact partial flow of one spin: a turn about its frozen field by |F| τ.
  @inline(__always)
  private func rotate(site j: Int, tau: Double, state: UnsafeMutablePointer<Double>, kernel: SpinMonomialKernel) {
    let (fx, fy, fz) = kernel.field(of: j, in: state)
    let f2 = fx * fx + fy * fy + fz * fz
    if f2 == 0 { return }
    let f = f2.squareRoot()
    let angle = f * tau
    let c = cos(angle)
    let s = sin(angle)
    let kx = fx / f
    let ky = fy / f
    let kz = fz / f
    let p = state + 3 * j
    let sx = p[0]
    let sy = p[1]
    let sz = p[2]
    let along = (kx * sx + ky * sy + kz * sz) * (1 - c)
    p[0] = sx * c + (ky * sz - kz * sy) * s + kx * along
    p[1] = sy * c + (kz * sx - kx * sz) * s + ky * along
    p[2] = sz * c + (kx * sy - ky * sx) * s + kz * along
  }
}
