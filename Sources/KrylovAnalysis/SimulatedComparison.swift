import KrylovEngine

/// C(t) of a classical chain by molecular dynamics (physics.md §6): the reference that C(t)
/// from forecast coefficients is scored against, independent of every Lanczos coefficient.
///
/// An infinite chain is simulated on a periodic ring (16 sites by default: for t ≤ 3 a ring of
/// sixteen sites behaves like the infinite chain, physics.md §6).
public struct SimulatedComparison: Sendable {
  public let estimate: ClassicalAutocorrelation.Estimate
  /// Sites of the simulated chain.
  public let sites: Int

  /// Simulates `chain` (classical spins) from 0 to `tmax` in steps of `dt`.
  public init(
    chain: SpinChain, ringSites: Int = 16, samples: Int, tmax: Double = 3, dt: Double = 0.05, seed: UInt64,
    isCancelled: @Sendable () -> Bool = { false }
  ) throws {
    let simulated = chain.infinite ? try chain.ring(sites: ringSites) : chain
    guard simulated.spins == .classical else {
      throw SimulationSetupError(message: "molecular dynamics needs classical spins")
    }
    let steps = Int((tmax / dt * (1 + 1e-12)).rounded(.down))
    let run = try ClassicalAutocorrelation(chain: simulated, samples: samples, dt: dt, steps: steps, seed: seed)
    estimate = run.run(isCancelled: isCancelled)
    sites = simulated.size
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

  /// The largest standard error of the simulated C(t): differences below about twice this are noise.
  public var largestStandardError: Double { estimate.standardErrors.max() ?? 0 }
}

public struct SimulationSetupError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
