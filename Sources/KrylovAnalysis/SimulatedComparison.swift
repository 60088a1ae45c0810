import KrylovEngine

/// C(t) of a classical chain by molecular dynamics (physics.md §6): the reference that C(t)
/// from forecast coefficients is scored against, independent of every Lanczos coefficient.
///
/// A finite chain is simulated as it is; an infinite chain on the ring `RingStandIn` sizes for
/// the window (16 sites up to t = 3, longer rings for longer windows, cut past 30 sites).
public struct SimulatedComparison: Sendable {
  public let estimate: ClassicalAutocorrelation.Estimate
  /// Sites of the simulated chain.
  public let sites: Int
  /// The last time simulated: `tmax`, or less when the largest ring cannot stand in that long.
  public let end: Double

  /// Simulates `chain` (classical spins) from 0 to `tmax` in steps of `dt`.
  public init(
    chain: SpinChain, samples: Int, tmax: Double = 3, dt: Double = 0.05, seed: UInt64,
    isCancelled: @Sendable () -> Bool = { false }
  ) throws {
    let setup = try MolecularDynamicsSetup(chain: chain, tmax: tmax, dt: dt)
    estimate = try setup.simulation(samples: samples, seed: seed).run(isCancelled: isCancelled)
    sites = setup.sites
    end = setup.end
  }

  /// max over the simulated times of |C(t) from b − simulated C(t)|.
  public func maxError(coefficients b: [Double]) throws -> Double {
    let dynamics = try KrylovChainDynamics(coefficients: b)
    var worst = 0.0
    for (t, c) in zip(estimate.times, estimate.values) {
      worst = max(worst, abs(dynamics.autocorrelation(at: t) - c))
    }
    return worst
  }

  /// How long C(t) from b agrees with the simulation: the last simulated time before
  /// |ΔC(t)| first exceeds `sigmas` standard errors (the window's end if it never does).
  public func agreementTime(coefficients b: [Double], sigmas: Double = 4) throws -> Double {
    let dynamics = try KrylovChainDynamics(coefficients: b)
    var last = 0.0
    for (i, t) in estimate.times.enumerated() {
      let deviation = abs(dynamics.autocorrelation(at: t) - estimate.values[i])
      if deviation > sigmas * estimate.standardErrors[i] && t > 0 { return last }
      last = t
    }
    return last
  }

  /// The largest standard error of the simulated C(t): differences below about twice this are noise.
  public var largestStandardError: Double { estimate.standardErrors.max() ?? 0 }
}
