import Foundation
import KrylovEngine

/// What the molecular-dynamics check of a classical run simulates: a finite chain, a time
/// window and a sample count, fixed on the UI thread before the job starts.
///
/// The chain and the grid come from `MolecularDynamicsSetup`, as for `krylov simulate`: the
/// chosen finite chain as it is, the infinite chain on the ring sized for the window (cut
/// where that ring stops representing it, and the legend says where).
public struct SimulationPlan: Equatable, Sendable {
  public var setup: MolecularDynamicsSetup
  /// The observables pane's time range, [0, range].
  public var range: Double
  public var samples: Int
  public var seed: UInt64

  /// Output interval of the simulation (the integrator takes one fourth-order step per interval).
  public static let dt = 0.05
  /// About a second for the 16-site ring to t = 3 on two cores, a few for the longest ring and
  /// window; the band (2σ) is then about 0.015 at late times.
  public static let defaultSamples = 20_000
  /// At most this many intervals, whatever the range.
  public static let largestStepCount = 2000

  public init(chain: SpinChain, range: Double, samples: Int, seed: UInt64) throws(SystemError) {
    // The grid stops at or before its tmax: ask for the first grid time at or past the range.
    let window = min(range, Self.dt * Double(Self.largestStepCount))
    let tmax = (window / Self.dt * (1 - 1e-12)).rounded(.up) * Self.dt
    setup = try MolecularDynamicsSetup(chain: chain, tmax: tmax, dt: Self.dt)
    self.range = range
    self.samples = samples
    self.seed = seed
  }

  public init(settings: SystemSettings, range: Double, samples: Int, seed: UInt64) throws(SystemError) {
    try self.init(chain: settings.chain(), range: range, samples: samples, seed: seed)
  }

  public var standsInForInfinite: Bool { setup.standsInForInfinite }
  public var sites: Int { setup.sites }
  /// The last time simulated: the range, or less when the ring cannot represent all of it.
  public var end: Double { setup.end }
  /// Intervals of `dt` simulated: times 0, dt, …, steps·dt.
  public var steps: Int { setup.steps }

  /// The legend entry: the chain, the samples and the band's width; the window's end when it
  /// stops short of the pane's range.
  public func legend(samples done: Int) -> String {
    var text = "MD N=\(sites) " + (standsInForInfinite ? "ring" : (setup.simulated.boundary ?? .pbc).rawValue)
    text += ", \(compactCount(done)) ±2σ"
    if end < range * (1 - 1e-9) { text += ", t≤" + formatNumber((end * 100).rounded() / 100) }
    return text
  }
}

/// C(t) of a classical chain by molecular dynamics, with its standard error: the independent
/// check of the C(t) the computed coefficients give (physics.md §6), overlaid in the
/// observables pane.
public struct SimulatedCorrelation: Sendable {
  public var plan: SimulationPlan
  public var times: [Double]
  public var values: [Double]
  public var standardErrors: [Double]
  /// Samples averaged (fewer than planned when the run was stopped).
  public var samples: Int
  /// How far it is from the computed C(t), where that one is converged.
  public var agreement: Agreement?

  /// The largest deviation from the computed C(t) over the window where the computed C(t) is
  /// converged (to 1e-3, `KrylovChainDynamics.convergenceTime`) and simulated.
  public struct Agreement: Equatable, Sendable {
    public var windowEnd: Double
    /// max |C_MD(t) − C_computed(t)| over the window.
    public var maxDeviation: Double
    /// max |C_MD(t) − C_computed(t)| / standard error over the window's t > 0.
    public var maxSigmas: Double
  }

  public init(
    plan: SimulationPlan, times: [Double], values: [Double], standardErrors: [Double], samples: Int, agreement: Agreement? = nil
  ) {
    self.plan = plan
    self.times = times
    self.values = values
    self.standardErrors = standardErrors
    self.samples = samples
    self.agreement = agreement
  }

  /// The largest 2σ over the samples, for the pane's footer.
  public var largestBand: Double { standardErrors.filter(\.isFinite).map { 2 * $0 }.max() ?? 0 }

  /// Runs the plan on every core and compares with C(t) from `computed` = b_1, b_2, ….
  ///
  /// Returns nil when the run was stopped before two samples finished (no estimate, no error).
  /// - Parameters:
  ///   - isCancelled: polled before each chunk of samples.
  ///   - progress: samples done so far, after each chunk, from worker threads.
  public static func run(
    plan: SimulationPlan, computed: [Double], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
    isCancelled: @Sendable () -> Bool = { false }, progress: @Sendable (Int) -> Void = { _ in }
  ) throws -> SimulatedCorrelation? {
    let simulation = try plan.setup.simulation(samples: plan.samples, seed: plan.seed)
    let estimate = simulation.run(threads: threads, isCancelled: isCancelled, progress: progress)
    guard estimate.samples >= 2 else { return nil }
    var result = SimulatedCorrelation(
      plan: plan, times: estimate.times, values: estimate.values, standardErrors: estimate.standardErrors,
      samples: estimate.samples)
    result.agreement = try? agreement(of: result, computed: computed)
    return result
  }

  static func agreement(of md: SimulatedCorrelation, computed: [Double]) throws -> Agreement? {
    guard computed.count >= 2 else { return nil }
    let windowEnd = try KrylovChainDynamics.convergenceTime(coefficients: computed, times: md.times, tolerance: 1e-3)
    guard windowEnd > 0 else { return nil }
    let exact = try KrylovChainDynamics(coefficients: computed)
    var worst = 0.0
    var sigmas = 0.0
    for (i, t) in md.times.enumerated() where t <= windowEnd {
      let d = abs(md.values[i] - exact.autocorrelation(at: t))
      worst = max(worst, d)
      if t > 0 && md.standardErrors[i] > 0 { sigmas = max(sigmas, d / md.standardErrors[i]) }
    }
    return Agreement(windowEnd: windowEnd, maxDeviation: worst, maxSigmas: sigmas)
  }
}

/// The molecular-dynamics check of the current classical run, as the observables pane shows it.
public struct SimulationData: Sendable {
  public var plan: SimulationPlan
  /// Samples done so far (for the progress in the pane's title).
  public var done = 0
  /// The time still needed, from the rate so far (nil before the first chunk reports).
  public var secondsLeft: Double?
  public var result: SimulatedCorrelation?
  public var failure: String?

  public init(plan: SimulationPlan) { self.plan = plan }

  public var isRunning: Bool { result == nil && failure == nil }
}

/// 20000 → `20k`, 8448 → `8.4k`, 512 → `512`.
func compactCount(_ n: Int) -> String {
  if n < 1000 { return "\(n)" }
  let k = Double(n) / 1000
  return (k >= 10 ? "\(Int(k.rounded()))" : formatNumber((k * 10).rounded() / 10)) + "k"
}
