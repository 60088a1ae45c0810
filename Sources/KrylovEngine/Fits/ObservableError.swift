/// How far a forecast's autocorrelation C(t) strays from the true one, over the time window
/// where the true sequence itself fixes C(t) (physics.md §5).
public struct ObservableComparison: Sendable {
  /// The grid the window was chosen on, [0, tmax].
  public let times: [Double]
  /// The end of the window: the true C(t) is converged up to here.
  public let windowEnd: Double
  let truth: KrylovChainDynamics

  /// Prepares the comparison against `truth` = b_1..b_M.
  ///
  /// The grid reaches 2M / max b (far enough for the M coefficients to matter); the window ends
  /// where C(t) from all of `truth` and from its first 80% part by more than 1e-3.
  public init(truth b: [Double]) throws {
    let top = b.max() ?? 1
    let tmax = 2 * Double(b.count) / max(top, 1e-300)
    times = (0...400).map { tmax * Double($0) / 400 }
    windowEnd = try KrylovChainDynamics.convergenceTime(coefficients: b, times: times, tolerance: 1e-3)
    truth = try KrylovChainDynamics(coefficients: b)
  }

  /// max |C_pred(t) − C_true(t)| over the grid times within the window.
  public func maxError(predicted b: [Double]) throws -> Double {
    let p = try KrylovChainDynamics(coefficients: b)
    var worst = 0.0
    for t in times where t <= windowEnd {
      worst = max(worst, abs(p.autocorrelation(at: t) - truth.autocorrelation(at: t)))
    }
    return worst
  }
}
