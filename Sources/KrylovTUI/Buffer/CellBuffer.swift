import Foundation

/// One terminal cell: a grapheme and its style.
public struct Cell: Hashable, Sendable {
  public var symbol: Character
  public var style: Style

  public init(_ symbol: Character = " ", style: Style = .plain) {
    self.symbol = symbol
    self.style = style
  }

  public static let blank = Cell()
}

/// The only drawing surface: widgets render into a buffer, never into a terminal.
///
/// A rectangle of cells stored row by row. Writes outside the area are dropped, so a widget
/// given a zero-size or 1×1 area cannot corrupt anything. Tests compare buffers as text.
public struct CellBuffer: Equatable, Sendable, CustomStringConvertible {
  public private(set) var area: Rect
  public private(set) var cells: [Cell]

  public init(area: Rect) {
    self.area = area
    cells = Array(repeating: .blank, count: area.area)
  }

  public init(width: Int, height: Int) { self.init(area: Rect(x: 0, y: 0, width: width, height: height)) }

  /// A buffer holding `lines` as plain text (for expected values in tests).
  public init(lines: [String]) {
    let width = lines.map(\.count).max() ?? 0
    self.init(width: width, height: lines.count)
    for (row, line) in lines.enumerated() { setString(x: 0, y: row, line) }
  }

  public subscript(x: Int, y: Int) -> Cell {
    get { area.contains(x: x, y: y) ? cells[(y - area.y) * area.width + (x - area.x)] : .blank }
    set {
      guard area.contains(x: x, y: y) else { return }
      cells[(y - area.y) * area.width + (x - area.x)] = newValue
    }
  }

  /// Writes `text` from (x, y) rightwards, clipped to `maxWidth` cells and to the buffer.
  ///
  /// A control character (an escape, a carriage return, the C1 range) becomes "�": text that
  /// came from a file or a message must not reach the terminal as a command.
  public mutating func setString(x: Int, y: Int, _ text: String, style: Style = .plain, maxWidth: Int? = nil) {
    var column = x
    let limit = maxWidth.map { x + $0 } ?? area.right
    for character in text {
      if column >= limit || column >= area.right { break }
      self[column, y] = Cell(Self.isControl(character) ? "\u{FFFD}" : character, style: style)
      column += 1
    }
  }

  public static func isControl(_ character: Character) -> Bool {
    character.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
  }

  /// Sets the style of every cell in `rect` (keeping the symbols).
  public mutating func setStyle(_ style: Style, in rect: Rect) {
    let clipped = rect.intersection(area)
    for y in clipped.y..<clipped.bottom {
      for x in clipped.x..<clipped.right { self[x, y].style = style }
    }
  }

  /// Each row as plain text without its trailing blanks: a frame written to a file.
  public var trimmedLines: [String] {
    lines.map { line in String(line.reversed().drop { $0 == " " }.reversed()) }
  }

  /// Each row as plain text.
  public var lines: [String] {
    (0..<area.height).map { row in
      String(cells[(row * area.width)..<((row + 1) * area.width)].map(\.symbol))
    }
  }

  public var description: String { lines.map { "\"\($0)\"" }.joined(separator: "\n") }

  /// The text, then each row's style runs: what a snapshot compares, so a change of colour or
  /// attribute shows as plainly as a change of text.
  ///
  /// A run is `start-end style` (columns, end exclusive); runs of the plain style are left out,
  /// and rows with none are not listed.
  public var styledSnapshot: String {
    var out = lines.joined(separator: "\n") + "\n-- styles (row: columns style) --\n"
    for row in 0..<area.height {
      var runs: [String] = []
      var start = 0
      while start < area.width {
        let style = cells[row * area.width + start].style
        var end = start + 1
        while end < area.width && cells[row * area.width + end].style == style { end += 1 }
        if style != .plain { runs.append("\(start)-\(end) \(style.snapshotDescription)") }
        start = end
      }
      if !runs.isEmpty { out += "\(row): " + runs.joined(separator: ", ") + "\n" }
    }
    return out
  }
}

extension Style {
  /// A short form for snapshots: `fg=#rrggbb bg=#rrggbb bold dim reverse underline`, each
  /// part only when set.
  var snapshotDescription: String {
    func hex(_ c: Color) -> String? {
      guard case .rgb(let r, let g, let b) = c else { return nil }
      return "#" + [r, g, b].map { String(format: "%02x", $0) }.joined()
    }
    var parts: [String] = []
    if let fg = hex(foreground) { parts.append("fg=\(fg)") }
    if let bg = hex(background) { parts.append("bg=\(bg)") }
    if bold { parts.append("bold") }
    if dim { parts.append("dim") }
    if reverse { parts.append("reverse") }
    if underline { parts.append("underline") }
    return parts.isEmpty ? "plain" : parts.joined(separator: " ")
  }
}
