import Foundation

/// The one way a chain is set up for molecular dynamics over a window [0, tmax]: what the
/// `simulate` command, the evaluation's comparison and the explorer's overlay all use.
///
/// The spins are read as classical; an infinite chain is simulated on the ring `RingStandIn`
/// sizes for the window (and the window is cut to what that ring represents). The output grid
/// is 0, dt, …, steps·dt with steps·dt ≤ the window's end.
public struct MolecularDynamicsSetup: Sendable, Hashable {
  /// The chain asked about, classical, finite or infinite.
  public let requested: SpinChain
  /// The finite classical chain that is simulated.
  public let simulated: SpinChain
  public let dt: Double
  /// Output intervals: times 0, dt, …, steps·dt.
  public let steps: Int

  public init(chain: SpinChain, tmax: Double, dt: Double) throws(SystemError) {
    guard dt.isFinite, dt > 0 else { throw .classicalChain("the time step must be a positive number (got \(dt))") }
    guard tmax.isFinite, tmax >= 0 else { throw .classicalChain("the window must end at a time t ≥ 0 (got \(tmax))") }
    requested = try chain.with(spins: .classical)
    var end = tmax
    if requested.isInfinite {
      let ring = RingStandIn.ring(for: tmax)
      simulated = try requested.ring(sites: ring.sites)
      end = ring.end
    } else {
      simulated = requested
    }
    self.dt = dt
    let count = (end / dt * (1 + 1e-12)).rounded(.down)
    guard count >= 1 else { throw .classicalChain("the window [0, \(end)] is shorter than one step dt = \(dt)") }
    guard count <= 1_000_000 else { throw .classicalChain("the window [0, \(end)] asks for more than 10^6 steps of dt = \(dt)") }
    steps = Int(count)
  }

  /// Whether a ring stands in for the infinite chain.
  public var standsInForInfinite: Bool { requested.isInfinite }
  /// The sites simulated.
  public var sites: Int { simulated.pauliSiteCount }
  /// The last time of the grid.
  public var end: Double { Double(steps) * dt }

  /// The simulation of `samples` trajectories from `seed`.
  public func simulation(samples: Int, seed: UInt64, substeps: Int = 1) throws(SystemError) -> ClassicalAutocorrelation {
    try ClassicalAutocorrelation(chain: simulated, samples: samples, dt: dt, steps: steps, seed: seed, substeps: substeps)
  }
}
