/// A pane's frame: a rounded border with a title, and the inner area left for content.
public struct Block: Sendable {
  public var title: String
  public var borderStyle: Style
  public var titleStyle: Style

  public init(title: String, borderStyle: Style = .plain, titleStyle: Style = .plain) {
    self.title = title
    self.borderStyle = borderStyle
    self.titleStyle = titleStyle
  }

  /// The area inside the border.
  public static func inner(_ area: Rect) -> Rect { area.inset(by: 1) }

  /// Draws the border and title into `area` (nothing if it is under 2×2).
  public func render(into buffer: inout CellBuffer, area: Rect) {
    guard area.width >= 2, area.height >= 2 else { return }
    let right = area.right - 1
    let bottom = area.bottom - 1
    for x in (area.x + 1)..<right {
      buffer[x, area.y] = Cell("─", style: borderStyle)
      buffer[x, bottom] = Cell("─", style: borderStyle)
    }
    for y in (area.y + 1)..<bottom {
      buffer[area.x, y] = Cell("│", style: borderStyle)
      buffer[right, y] = Cell("│", style: borderStyle)
    }
    buffer[area.x, area.y] = Cell("╭", style: borderStyle)
    buffer[right, area.y] = Cell("╮", style: borderStyle)
    buffer[area.x, bottom] = Cell("╰", style: borderStyle)
    buffer[right, bottom] = Cell("╯", style: borderStyle)
    if !title.isEmpty && area.width > 4 {
      buffer.setString(x: area.x + 2, y: area.y, " \(title) ", style: titleStyle, maxWidth: area.width - 4)
    }
  }
}
