/// A colour as themes give it: a 24-bit value, or the terminal's own default.
public enum Color: Hashable, Sendable {
  case terminalDefault
  case rgb(UInt8, UInt8, UInt8)

  /// The nearest entry of the xterm 256-colour palette: the greyscale ramp when r ≈ g ≈ b,
  /// otherwise the 6×6×6 cube (the rule btop uses when truecolor is off).
  public var paletteIndex: Int? {
    guard case .rgb(let r, let g, let b) = self else { return nil }
    let (ri, gi, bi) = (Int(r), Int(g), Int(b))
    if abs(ri - gi) < 8 && abs(gi - bi) < 8 && abs(ri - bi) < 8 {
      let grey = (ri + gi + bi) / 3
      if grey < 4 { return 16 }
      if grey > 246 { return 231 }
      return 232 + min(23, (grey - 3) / 10)
    }
    func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40 }
    return 16 + 36 * level(ri) + 6 * level(gi) + level(bi)
  }
}

extension Color {
  /// The 16 standard terminal colours as xterm draws them, indices 0–15.
  static let ansi16: [(Int, Int, Int)] = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
    (255, 255, 255),
  ]

  /// The nearest of the 16 standard colours (squared RGB distance), for terminals with 16 or 8.
  public var ansi16Index: Int? {
    guard case .rgb(let r, let g, let b) = self else { return nil }
    var best = 0
    var bestDistance = Int.max
    for (i, c) in Self.ansi16.enumerated() {
      let d = (c.0 - Int(r)) * (c.0 - Int(r)) + (c.1 - Int(g)) * (c.1 - Int(g)) + (c.2 - Int(b)) * (c.2 - Int(b))
      if d < bestDistance {
        bestDistance = d
        best = i
      }
    }
    return best
  }

  /// The colour as a 24-bit number 0xRRGGBB (what direct-colour terminals take as an index).
  public var directIndex: Int? {
    guard case .rgb(let r, let g, let b) = self else { return nil }
    return Int(r) << 16 | Int(g) << 8 | Int(b)
  }
}

/// How many colours a terminal shows, best first; the explorer picks the richest one it has.
public enum ColorDepth: String, Sendable, CaseIterable {
  case direct, palette256, ansi16, none

  /// The depth for a terminal reporting `colors` colours (ncurses' COLORS), unless colour is off.
  public static func forTerminal(colors: Int, noColor: Bool) -> ColorDepth {
    if noColor || colors < 8 { return .none }
    if colors >= 0x100_0000 { return .direct }
    if colors >= 256 { return .palette256 }
    return .ansi16
  }

  /// The direct-colour terminfo entries to try for a terminal that takes 24-bit colour.
  ///
  /// The terminal says so by `COLORTERM=truecolor` or `24bit` (as btop reads it) while its
  /// TERM names a 256-colour entry: `xterm-256color` → `xterm-direct`, `tmux-256color` → `tmux-direct`, then
  /// `xterm-direct`. Empty when COLORTERM says nothing of 24-bit colour or TERM is direct
  /// already. The caller uses the first entry the system's terminfo has.
  public static func directCandidates(term: String?, colorterm: String?) -> [String] {
    guard let colorterm = colorterm?.lowercased(), colorterm == "truecolor" || colorterm == "24bit" else { return [] }
    guard let term, !term.isEmpty, !term.hasSuffix("-direct"), term != "dumb" else { return [] }
    var base = term
    for suffix in ["-256color", "-88color", "-color"] where base.hasSuffix(suffix) {
      base = String(base.dropLast(suffix.count))
    }
    return base == "xterm" ? ["xterm-direct"] : [base + "-direct", "xterm-direct"]
  }

  /// The terminal colour number for `color` at this depth (nil: the terminal's default).
  public func index(of color: Color) -> Int? {
    switch self {
    case .direct: color.directIndex
    case .palette256: color.paletteIndex
    case .ansi16: color.ansi16Index
    case .none: nil
    }
  }
}

/// Foreground, background and attributes of a cell.
public struct Style: Hashable, Sendable {
  public var foreground: Color
  public var background: Color
  public var bold: Bool
  public var dim: Bool
  public var reverse: Bool
  public var underline: Bool

  public init(
    foreground: Color = .terminalDefault, background: Color = .terminalDefault, bold: Bool = false,
    dim: Bool = false, reverse: Bool = false, underline: Bool = false
  ) {
    self.foreground = foreground
    self.background = background
    self.bold = bold
    self.dim = dim
    self.reverse = reverse
    self.underline = underline
  }

  public static let plain = Style()
}
