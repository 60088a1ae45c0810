/// A matrix drawn with half blocks: two matrix rows per text row, one column per cell.
///
/// Each cell shows "▀" with the upper row's colour as foreground and the lower row's as
/// background, so a T×T attention matrix needs T columns and T/2 rows. Values are mapped
/// onto a 101-step gradient by round(100 · v / scale); non-finite values (the masked future
/// of a causal attention matrix) are left blank. Larger matrices are clipped to the area.
public struct Heatmap: Sendable {
  /// Row-major values, `rows` × `columns`.
  public var values: [Double]
  public var rows: Int
  public var columns: Int
  public var gradient: [Color]
  /// The value shown with the gradient's last colour (values above it saturate).
  public var scale: Double
  /// Without colours (NO_COLOR, a terminal without them) each cell is one shade glyph for the
  /// larger of its two values, `·░▒▓█` from 0 to `scale`, so the map still reads.
  public var shades = false
  /// What shows where a half has no value (the masked future, past the last row): the pane's
  /// own background, so a theme that sets one has no holes of the terminal's.
  public var background: Color = .terminalDefault

  /// The shade glyphs, lightest (a zero weight, not the blank of a masked cell) to darkest.
  public static let shadeGlyphs: [Character] = ["·", "░", "▒", "▓", "█"]

  public init(values: [Double], rows: Int, columns: Int, gradient: [Color], scale: Double = 1) {
    precondition(values.count == rows * columns, "heatmap values do not match rows × columns")
    self.values = values
    self.rows = rows
    self.columns = columns
    self.gradient = gradient.isEmpty ? [.terminalDefault] : gradient
    self.scale = scale > 0 ? scale : 1
  }

  func color(row: Int, column: Int) -> Color? {
    guard row < rows, column < columns else { return nil }
    let v = values[row * columns + column]
    guard v.isFinite else { return nil }
    let index = Int((min(max(v / scale, 0), 1) * Double(gradient.count - 1)).rounded())
    return gradient[index]
  }

  /// The shade glyph of a value (see `shades`).
  public func shade(_ v: Double) -> Character {
    let level = Int((min(max(v / scale, 0), 1) * Double(Self.shadeGlyphs.count - 1)).rounded())
    return Self.shadeGlyphs[level]
  }

  public func render(into buffer: inout CellBuffer, area: Rect) {
    let area = area.intersection(buffer.area)
    for textRow in 0..<min(area.height, (rows + 1) / 2) {
      for column in 0..<min(area.width, columns) {
        if shades {
          let pair = [2 * textRow, 2 * textRow + 1].filter { $0 < rows }.map { values[$0 * columns + column] }
          guard let v = pair.filter(\.isFinite).max() else { continue }
          buffer[area.x + column, area.y + textRow] = Cell(shade(v), style: Style(background: background))
          continue
        }
        let upper = color(row: 2 * textRow, column: column)
        let lower = color(row: 2 * textRow + 1, column: column)
        let cell: Cell
        if let upper {
          cell = Cell("▀", style: Style(foreground: upper, background: lower ?? background))
        } else if let lower {
          // With no upper value the lower one is drawn as a lower half block in the foreground.
          cell = Cell("▄", style: Style(foreground: lower, background: background))
        } else {
          continue
        }
        buffer[area.x + column, area.y + textRow] = cell
      }
    }
  }
}
