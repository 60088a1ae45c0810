/// A run's trusted b_n kept on the coefficients chart while other systems run (the `P` key), so
/// two systems (two sizes, the infinite chain, two models) can be compared on one plot.
public struct PinnedSequence: Equatable, Sendable {
  /// The system, short: model and size ("mfim N=10", "custom N=inf").
  public var label: String
  public var coefficients: [Double]

  public init(label: String, coefficients: [Double]) {
    self.label = label
    self.coefficients = coefficients
  }

  /// The trusted coefficients of `run` with its system's short label; nil before any is trusted.
  public init?(_ run: RunData) {
    guard run.trustedCount > 0, let settings = run.settings else { return nil }
    let model = settings.hamiltonianText != nil ? "custom" : settings.model.rawValue
    let spins = settings.spins == .classical ? "classical " : ""
    self.init(label: "\(spins)\(model) N=\(settings.size)", coefficients: run.trusted)
  }

  /// The legend's name of the pinned line.
  public var legend: String { label + " pinned" }
}
