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
