/// What the forecaster is told about the chain a sequence comes from.
///
/// A prefix of 15–30 coefficients cannot tell a ring of 12 sites from the infinite chain: their
/// b_n agree up to the light cone (n ≈ 2N) and differ only after it, where the finite chain
/// bends towards its plateau. The user knows N, so the model is told. When nothing is known (a
/// file from another tool) the context is `unknown`, which training exercises by withholding
/// the system part of the time: the model then forecasts from the sequence alone, as in the
/// paper's pure time-series setting.
public struct SystemContext: Sendable, Hashable, CustomStringConvertible {
  public enum Size: Sendable, Hashable {
    case unknown
    case finite(Int)
    case infinite
  }

  public var size: Size
  /// Open boundaries (only meaningful for a finite chain).
  public var openBoundary: Bool

  public init(size: Size, openBoundary: Bool = false) {
    self.size = size
    self.openBoundary = openBoundary
  }

  public static let unknown = SystemContext(size: .unknown)
  public static let infinite = SystemContext(size: .infinite)
  public static func finite(_ sites: Int, openBoundary: Bool = false) -> SystemContext {
    SystemContext(size: .finite(sites), openBoundary: openBoundary)
  }

  public var isKnown: Bool { size != .unknown }

  /// The regime a calibration table is kept for: "finite", "infinite" or "unknown".
  public var regime: String {
    switch size {
    case .unknown: "unknown"
    case .finite: "finite"
    case .infinite: "infinite"
    }
  }

  public var description: String {
    switch size {
    case .unknown: "size not given"
    case .finite(let n): "N = \(n) \(openBoundary ? "obc" : "pbc")"
    case .infinite: "N = ∞"
    }
  }

  /// F_sys: the system features appended to each position's sequence features.
  public static let featureCount = 4

  /// The system features at the position holding b_n (n from 1).
  ///
  /// (given, 8/N, open, n/(2N) capped at 4): whether anything is known; the inverse size, 0 for
  /// the infinite chain; the boundary; and the position relative to the light cone 2N, where a
  /// finite chain leaves the infinite chain's sequence. All are of order one, and all are zero
  /// when the size is unknown. The infinite chain is the limit N → ∞ of the finite features.
  @inline(__always)
  public func features(n: Int) -> (Double, Double, Double, Double) {
    switch size {
    case .unknown: return (0, 0, 0, 0)
    case .infinite: return (1, 0, 0, 0)
    case .finite(let sites):
      let N = Double(max(sites, 1))
      return (1, 8 / N, openBoundary ? 1 : 0, min(Double(n) / (2 * N), 4))
    }
  }
}
