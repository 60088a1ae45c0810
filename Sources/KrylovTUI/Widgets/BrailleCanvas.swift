/// How a series' line is drawn, so that series can be told apart without colour.
public enum LinePattern: Sendable, Equatable, CaseIterable {
  /// Every dot.
  case solid
  /// Three dot columns on, one off.
  case dashed
  /// Every other dot column.
  case dotted
  /// One dot column in four.
  case sparse
  /// Two dot columns on, two off.
  case paired

  /// Whether the dots of dot column `x` are drawn.
  public func keeps(column x: Int) -> Bool {
    switch self {
    case .solid: true
    case .dashed: x % 4 != 3
    case .dotted: x % 2 == 0
    case .sparse: x % 4 == 0
    case .paired: x % 4 < 2
    }
  }

  /// Two cells of a horizontal line in this pattern, for legends.
  public var sample: String {
    let columns = (0..<4).map { keeps(column: $0) }
    var cells = ""
    for c in 0..<2 {
      var mask: UInt8 = 0
      if columns[2 * c] { mask |= BrailleCanvas.bit(dx: 0, dy: 1) }
      if columns[2 * c + 1] { mask |= BrailleCanvas.bit(dx: 1, dy: 1) }
      cells.append(BrailleCanvas.glyph(mask))
    }
    return cells
  }
}

/// A dot grid of 2×4 braille dots per cell, drawn in layers, each layer in one colour.
///
/// Dots are addressed from the bottom-left (x to the right, y upwards), the way plots are.
/// A cell's dots are one byte: the left column top to bottom is bits 0, 1, 2, 6 and the right
/// column bits 3, 4, 5, 7 (Unicode's dot numbering 1, 2, 3, 7 and 4, 5, 6, 8), and the glyph is
/// U+2800 plus that byte. Later layers draw over earlier ones cell by cell; empty cells of a
/// layer leave what is below visible.
public struct BrailleCanvas: Sendable {
  public let width: Int
  public let height: Int
  /// Draw with quadrant blocks (2×2 per cell) instead of braille, for fonts without braille.
  public var blockGlyphs = false
  private var layers: [(masks: [UInt8], style: Style)] = []

  /// A canvas of `width` × `height` cells (2·width × 4·height dots).
  public init(width: Int, height: Int) {
    self.width = max(0, width)
    self.height = max(0, height)
  }

  public var dotWidth: Int { 2 * width }
  public var dotHeight: Int { 4 * height }

  /// The bit of dot (dx, dy) within a cell, dy counted from the top of the cell.
  public static func bit(dx: Int, dy: Int) -> UInt8 {
    let left: [UInt8] = [0x01, 0x02, 0x04, 0x40]
    let right: [UInt8] = [0x08, 0x10, 0x20, 0x80]
    return dx == 0 ? left[dy] : right[dy]
  }

  /// The glyph for a dot pattern.
  public static func glyph(_ mask: UInt8) -> Character {
    guard let scalar = Unicode.Scalar(0x2800 + UInt32(mask)) else {
      preconditionFailure("U+2800 + a byte lies in the Braille Patterns block, always a valid scalar")
    }
    return Character(scalar)
  }

  /// Quadrant blocks by the four bits upper-left 1, upper-right 2, lower-left 4, lower-right 8.
  static let quadrants: [Character] = [" ", "▘", "▝", "▀", "▖", "▌", "▞", "▛", "▗", "▚", "▐", "▜", "▄", "▙", "▟", "█"]

  /// The block glyph for a dot pattern: each quadrant is set when either of its two dots is.
  public static func blockGlyph(_ mask: UInt8) -> Character {
    var q = 0
    if mask & 0x03 != 0 { q |= 1 }  // dots 1, 2: left column, upper half
    if mask & 0x18 != 0 { q |= 2 }  // dots 4, 5: right column, upper half
    if mask & 0x44 != 0 { q |= 4 }  // dots 3, 7: left column, lower half
    if mask & 0xA0 != 0 { q |= 8 }  // dots 6, 8: right column, lower half
    return quadrants[q]
  }

  /// Adds a layer with the given dots (dot coordinates, origin bottom-left); dots outside are dropped.
  public mutating func addLayer(dots: [(x: Int, y: Int)], style: Style) {
    var masks = [UInt8](repeating: 0, count: width * height)
    for (x, y) in dots where x >= 0 && y >= 0 && x < dotWidth && y < dotHeight {
      let fromTop = dotHeight - 1 - y
      let cell = (fromTop / 4) * width + x / 2
      masks[cell] |= Self.bit(dx: x % 2, dy: fromTop % 4)
    }
    layers.append((masks, style))
  }

  /// Adds a layer of points in data coordinates mapped linearly onto the dot grid.
  public mutating func addLayer(
    points: [(x: Double, y: Double)], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, style: Style,
    connect: Bool = false, pattern: LinePattern = .solid
  ) {
    guard dotWidth > 0, dotHeight > 0 else { return }
    let sx = Double(dotWidth - 1) / max(xRange.upperBound - xRange.lowerBound, .leastNormalMagnitude)
    let sy = Double(dotHeight - 1) / max(yRange.upperBound - yRange.lowerBound, .leastNormalMagnitude)
    var dots: [(x: Int, y: Int)] = []
    var previous: (Int, Int)?
    for p in points where p.x.isFinite && p.y.isFinite {
      guard xRange.contains(p.x), yRange.contains(p.y) else {
        previous = nil
        continue
      }
      let dot = (Int(((p.x - xRange.lowerBound) * sx).rounded()), Int(((p.y - yRange.lowerBound) * sy).rounded()))
      if connect, let (px, py) = previous {
        // Straight segment between consecutive points, one dot per step of the longer axis.
        let steps = max(abs(dot.0 - px), abs(dot.1 - py), 1)
        for s in 1..<steps {
          dots.append((px + (dot.0 - px) * s / steps, py + (dot.1 - py) * s / steps))
        }
      }
      dots.append(dot)
      previous = dot
    }
    // A pattern thins a line by dot column; the points themselves always show.
    addLayer(dots: connect ? dots.filter { pattern.keeps(column: $0.x) } : dots, style: style)
  }

  /// Adds a layer that fills every dot between a lower and an upper curve (an error band), in
  /// data coordinates; between samples both edges are interpolated linearly, column by column.
  ///
  /// A band narrower than a dot still shows one dot per column, so it never vanishes, and a
  /// band that leaves the y range is clipped to it.
  public mutating func addBand(
    samples: [(x: Double, low: Double, high: Double)], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
    style: Style
  ) {
    guard dotWidth > 0, dotHeight > 0 else { return }
    let sx = Double(dotWidth - 1) / max(xRange.upperBound - xRange.lowerBound, .leastNormalMagnitude)
    let sy = Double(dotHeight - 1) / max(yRange.upperBound - yRange.lowerBound, .leastNormalMagnitude)
    let usable = samples.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite && xRange.contains($0.x) }
    var dots: [(x: Int, y: Int)] = []
    func fill(column: Int, low: Double, high: Double) {
      let (a, b) = (min(low, high), max(low, high))
      guard b >= yRange.lowerBound, a <= yRange.upperBound else { return }
      let bottom = Int(((max(a, yRange.lowerBound) - yRange.lowerBound) * sy).rounded())
      let top = Int(((min(b, yRange.upperBound) - yRange.lowerBound) * sy).rounded())
      for row in bottom...max(bottom, top) { dots.append((column, row)) }
    }
    for (i, s) in usable.enumerated() {
      let column = Int(((s.x - xRange.lowerBound) * sx).rounded())
      fill(column: column, low: s.low, high: s.high)
      guard i + 1 < usable.count else { continue }
      let next = usable[i + 1]
      let nextColumn = Int(((next.x - xRange.lowerBound) * sx).rounded())
      guard nextColumn > column + 1 else { continue }
      for c in (column + 1)..<nextColumn {
        let f = Double(c - column) / Double(nextColumn - column)
        fill(column: c, low: s.low + (next.low - s.low) * f, high: s.high + (next.high - s.high) * f)
      }
    }
    addLayer(dots: dots, style: style)
  }

  /// Draws the canvas into `area` of `buffer` (clipped to both).
  public func render(into buffer: inout CellBuffer, at area: Rect) {
    for layer in layers {
      for row in 0..<min(height, area.height) {
        for column in 0..<min(width, area.width) {
          let mask = layer.masks[row * width + column]
          guard mask != 0 else { continue }
          let glyph = blockGlyphs ? Self.blockGlyph(mask) : Self.glyph(mask)
          buffer[area.x + column, area.y + row] = Cell(glyph, style: layer.style)
        }
      }
    }
  }
}
