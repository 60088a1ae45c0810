import Foundation

/// The visible part of a chart's x range: a fraction `width` of it, starting `offset` of the
/// way in (zoom with + and −, pan with ← and →, 0 resets).
public struct ChartZoom: Equatable, Sendable {
  public var width = 1.0
  public var offset = 0.0

  public init() {}

  public var isZoomed: Bool { width < 1 }

  public mutating func zoomIn() { width = max(0.05, width / 1.5) }

  public mutating func zoomOut() {
    width = min(1, width * 1.5)
    offset = min(offset, 1 - width)
  }

  /// Moves the window by a quarter of its width, left (−1) or right (+1), within the range.
  public mutating func pan(_ direction: Int) {
    offset = min(1 - width, max(0, offset + Double(direction) * width / 4))
  }

  public mutating func reset() { self = ChartZoom() }

  /// The visible part of `range`, at least `minimumSpan` wide; on a log axis (`log`, a
  /// positive range) the fractions are of its decades, so the window moves as the axis reads.
  public func window(of range: ClosedRange<Double>, log: Bool = false, minimumSpan: Double = 0) -> ClosedRange<Double> {
    if log, range.lowerBound > 0 {
      let low = log10(range.lowerBound)
      let span = log10(range.upperBound) - low
      let start = low + offset * span
      return pow(10, start)...pow(10, start + width * span)
    }
    let span = range.upperBound - range.lowerBound
    let start = range.lowerBound + offset * span
    return start...(start + max(minimumSpan, width * span))
  }
}
