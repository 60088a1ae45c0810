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

  /// The time range [0, 1.5·count/max b] of the computed sequence b_1, b_2, ….
  public static func timeRange(computed: [Double]) -> Double {
    let top = computed.max() ?? 1
    return max(1e-6, 1.5 * Double(computed.count) / max(top, 1e-300))
  }

  /// Samples every sequence on `timeRange(computed:)`, 121 points.
  public init(computed: [Double], others: [(Source, [Double])]) {
    let tmax = Self.timeRange(computed: computed)
    times = (0...120).map { tmax * Double($0) / 120 }
    curves = []
    for (source, b) in [(Source.computed, computed)] + others {
      guard let d = try? KrylovChainDynamics(coefficients: b) else { continue }
      curves.append(Curve(source: source, c: times.map(d.autocorrelation(at:)), k: times.map(d.complexity(at:))))
    }
  }
}
