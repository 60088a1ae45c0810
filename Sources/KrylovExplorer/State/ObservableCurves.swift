import KrylovEngine

/// C(t) and K(t) sampled on one time grid for each sequence shown (computed, and prefix + each
/// forecast): computed in the background, since the Krylov-chain eigendecomposition and K(t)
/// cost far more than a frame may.
public struct ObservableCurves: Sendable {
  public enum Source: String, Sendable { case computed, transformer, fit }

  public struct Curve: Sendable {
    public var source: Source
    public var c: [Double]
    public var k: [Double]
  }

  public var times: [Double]
  public var curves: [Curve]
  /// C(t) from the forecast's band edges.
  ///
  /// The pointwise range of C(t) over the transformer's sequence and the two sequences at its
  /// band's lower and upper edges. It shows how much C(t) depends on where in the band the
  /// coefficients lie; unlike the b_n band it is not calibrated on its own.
  public var forecastBand: (low: [Double], high: [Double])?
  /// Where C(t) and K(t) of the computed b_1..b_M stop being fixed by them.
  ///
  /// Beyond it truncating the chain at n = M shows: by `KrylovChainDynamics.convergence`, C(t)
  /// or K(t) from all M and from the first 80% differ by more than `convergenceTolerance`. Nil
  /// for an exhausted chain (nothing is truncated); a time at the end of the grid means
  /// converged throughout.
  public var convergence: KrylovChainDynamics.Convergence?
  /// M: how many computed coefficients the curves come from.
  public var computedCount: Int

  /// The tolerance of the convergence test, on C(t) and relative on K(t).
  public static let convergenceTolerance = 1e-3

  /// The time range [0, 1.5·count/max b] of the computed sequence b_1, b_2, ….
  public static func timeRange(computed: [Double]) -> Double {
    let top = computed.max() ?? 1
    return max(1e-6, 1.5 * Double(computed.count) / max(top, 1e-300))
  }

  /// Samples every sequence on `timeRange(computed:)`, 121 points.
  ///
  /// `bandEdges` are the prefix followed by the band's lower edge, and by its upper edge;
  /// `exhausted` says the computed sequence is the whole chain, which then converges everywhere.
  public init(computed: [Double], others: [(Source, [Double])], bandEdges: [[Double]] = [], exhausted: Bool = false) {
    let tmax = Self.timeRange(computed: computed)
    let times = (0...120).map { tmax * Double($0) / 120 }
    self.times = times
    computedCount = computed.count
    if !exhausted {
      convergence = try? KrylovChainDynamics.convergence(
        coefficients: computed, times: times, tolerance: Self.convergenceTolerance)
    }
    curves = []
    for (source, b) in [(Source.computed, computed)] + others {
      guard let d = try? KrylovChainDynamics(coefficients: b) else { continue }
      curves.append(Curve(source: source, c: times.map(d.autocorrelation(at:)), k: times.map(d.complexity(at:))))
    }
    let edges = bandEdges.compactMap { try? KrylovChainDynamics(coefficients: $0) }.map { d in times.map(d.autocorrelation(at:)) }
    if let center = curves.first(where: { $0.source == .transformer })?.c, edges.count == bandEdges.count, !edges.isEmpty {
      let all = [center] + edges
      forecastBand = (
        times.indices.map { i in all.map { $0[i] }.min() ?? 0 }, times.indices.map { i in all.map { $0[i] }.max() ?? 0 }
      )
    }
  }
}
