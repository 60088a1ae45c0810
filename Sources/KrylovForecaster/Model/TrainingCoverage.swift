/// Which systems a checkpoint was trained on, so a forecast outside them can say so.
///
/// A size-aware model interpolates between the sizes it saw and, through the inverse size,
/// towards the infinite chain; a size far beyond the largest finite one it saw (without the
/// infinite chain in training) or an open boundary it never saw is an extrapolation that the
/// user should be told about. Kept in the checkpoint's metadata under `metadataKey`.
public struct TrainingCoverage: Codable, Sendable, Equatable {
  /// Finite sizes trained on, ascending.
  public var sizes: [Int]
  /// Whether infinite-chain sequences were trained on.
  public var infinite: Bool
  /// Whether open-boundary sequences were trained on.
  public var openBoundary: Bool

  public init(sizes: [Int], infinite: Bool, openBoundary: Bool) {
    self.sizes = sizes.sorted()
    self.infinite = infinite
    self.openBoundary = openBoundary
  }

  /// The coverage of the contexts of a training set.
  public init(contexts: [SystemContext]) {
    var sizes = Set<Int>()
    var infinite = false
    var open = false
    for context in contexts {
      switch context.size {
      case .finite(let n):
        sizes.insert(n)
        if context.openBoundary { open = true }
      case .infinite: infinite = true
      case .unknown: break
      }
    }
    self.init(sizes: Array(sizes), infinite: infinite, openBoundary: open)
  }

  /// Why a forecast for `context` lies outside the training systems, or nil when it does not.
  ///
  /// A finite N between the smallest and largest trained size is inside. A larger N is named
  /// even when the infinite chain was trained on: its inverse size lies between trained
  /// values, but no sequence of that size was seen.
  public func outside(_ context: SystemContext) -> String? {
    switch context.size {
    case .unknown:
      return nil
    case .infinite:
      return infinite ? nil : "the model never saw the infinite chain"
    case .finite(let n):
      if context.openBoundary && !openBoundary { return "the model never saw open boundaries" }
      guard let low = sizes.first, let high = sizes.last else { return "the model never saw a finite chain" }
      if n < low { return "N = \(n) is below every trained size (\(low)…\(high))" }
      if n > high {
        return infinite
          ? "N = \(n) lies between the largest trained size (\(high)) and the infinite chain"
          : "N = \(n) is beyond every trained size (\(low)…\(high))"
      }
      return nil
    }
  }

  public static let metadataKey = "trained_on"
}
