/// How the coefficients chart shows b_n: itself, b_n/n, or on log-log axes.
///
/// In b_n/n a linear growth b_n ≈ αn reads as the plateau α; on log-log axes a power law n^δ
/// reads as a line of slope δ. The `v` key cycles them; every series of the chart (computed, forecast and its band, fit, AR, untrusted
/// values, a pinned sequence) is drawn in the same view.
public enum CoefficientView: String, CaseIterable, Codable, Sendable {
  case plain = "b_n"
  case overN = "b_n/n"
  case logLog = "log-log"

  /// The view after this one (the last wraps round to the first).
  public var next: CoefficientView {
    let all = Self.allCases
    return all[((all.firstIndex(of: self) ?? 0) + 1) % all.count]
  }

  /// The legend's name for the computed coefficients in this view.
  public var seriesName: String {
    switch self {
    case .plain: "b_n"
    case .overN: "b_n/n"
    case .logLog: "b_n log-log"
    }
  }

  /// What the chart draws for b at n: b/n in the b_n/n view, else b itself (log-log takes
  /// the logarithms on its axes).
  public func value(_ b: Double, at n: Double) -> Double { self == .overN ? b / n : b }

  /// Whether both axes are logarithmic.
  public var logAxes: Bool { self == .logLog }
}
