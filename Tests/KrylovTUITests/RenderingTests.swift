import Foundation
import KrylovTUI
import Testing

@Suite("Cell buffer")
struct CellBufferTests {
  @Test("text is clipped to the buffer and to its width limit")
  func clipping() {
    var buffer = CellBuffer(width: 6, height: 2)
    buffer.setString(x: 2, y: 0, "abcdef")
    buffer.setString(x: 0, y: 1, "xyz", maxWidth: 2)
    buffer.setString(x: 0, y: 5, "outside")
    #expect(buffer == CellBuffer(lines: ["  abcd", "xy    "]))
  }

  @Test("zero-size and 1×1 buffers take any write without harm", arguments: [(0, 0), (1, 1), (0, 3), (3, 0)])
  func tiny(width: Int, height: Int) {
    var buffer = CellBuffer(width: width, height: height)
    buffer.setString(x: 0, y: 0, "hello")
    buffer.setStyle(Style(bold: true), in: Rect(x: -2, y: -2, width: 10, height: 10))
    buffer[5, 5] = Cell("x")
    #expect(buffer.cells.count == width * height)
    var canvas = BrailleCanvas(width: 4, height: 2)
    canvas.addLayer(dots: [(0, 0), (7, 7)], style: .plain)
    canvas.render(into: &buffer, at: buffer.area)
    if width == 1 && height == 1 { #expect(buffer[0, 0].symbol != " ") }
  }

  @Test("text fitted to a width leaves whole parts or words out with an ellipsis, never half a number")
  func textFit() {
    let parts = ["done (completed)", "200 b_n, 200 trusted", "errors appear when the run reaches the horizon M = 850"]
    #expect(TextFit.join(parts, width: 200) == parts.joined(separator: " · "))
    // The third part does not fit: it goes whole, and "…" says something is missing.
    #expect(TextFit.join(parts, width: 60) == "done (completed) · 200 b_n, 200 trusted…")
    #expect(TextFit.join(parts, width: 17) == "done (completed)…")
    #expect(TextFit.join(parts, width: 10) == "done…")
    #expect(TextFit.join([], width: 10) == "")
    #expect(TextFit.truncate("the horizon M = 850", width: 18) == "the horizon M =…")
    #expect(TextFit.truncate("b_n 200 of 300", width: 10) == "b_n 200 …")  // spaced from a digit
    #expect(TextFit.join(["a", "200 b_n", "M = 850"], width: 12) == "a · 200 b_n…")
    #expect(TextFit.join(["a", "b 200", "M = 850"], width: 12) == "a · b 200 …")
    #expect(TextFit.truncate("the horizon M = 850", width: 19) == "the horizon M = 850")
    #expect(TextFit.truncate("abcdef", width: 4) == "abc…")
    #expect(
      TextFit.wrap("mfim(J=1, g=-1.05, h=0.5) N=10 pbc, sz_total", width: 28)
        == ["mfim(J=1, g=-1.05, h=0.5)", "N=10 pbc, sz_total"])
    #expect(TextFit.wrap("a b c d e f", width: 3, maxLines: 2) == ["a b", "c…"])
    // A parser's message: its lines stay lines, and the caret keeps its column.
    #expect(
      TextFit.wrap("cannot read the text at character 6:\n  Z0 + Q0\n       ^", width: 20)
        == ["cannot read the text", "at character 6:", "  Z0 + Q0", "       ^"])
    #expect(TextFit.wrap("", width: 5).isEmpty && TextFit.wrap("abcdefgh", width: 3) == ["abc"])
    for width in 0...70 {
      let text = TextFit.join(parts, width: width)
      #expect(text.count <= width, "\(width): \(text)")
      #expect(!text.contains("M = 85") || text.contains("M = 850"))
    }
  }

  @Test("control characters in text become a visible replacement, never an escape in a cell")
  func controlCharacters() {
    var buffer = CellBuffer(width: 12, height: 1)
    buffer.setString(x: 0, y: 0, "a\u{1B}[2Jb\r\u{9B}c")
    #expect(buffer.lines == ["a�[2Jb��c   "])
    #expect(!buffer.cells.contains { CellBuffer.isControl($0.symbol) })
  }

  @Test("rectangles intersect and inset")
  func rects() {
    let a = Rect(x: 0, y: 0, width: 10, height: 5)
    #expect(a.intersection(Rect(x: 8, y: 3, width: 10, height: 10)) == Rect(x: 8, y: 3, width: 2, height: 2))
    #expect(a.intersection(Rect(x: 20, y: 0, width: 2, height: 2)).isEmpty)
    #expect(a.inset(by: 1) == Rect(x: 1, y: 1, width: 8, height: 3))
    #expect(a.inset(by: 4).isEmpty)
  }
}

@Suite("Braille canvas")
struct BrailleCanvasTests {
  // Unicode numbers the dots 1, 2, 3, 7 down the left column and 4, 5, 6, 8 down the right.
  @Test(
    "each of the eight dots is its own glyph",
    arguments: [
      (0, 3, "\u{2801}"), (0, 2, "\u{2802}"), (0, 1, "\u{2804}"), (0, 0, "\u{2840}"),
      (1, 3, "\u{2808}"), (1, 2, "\u{2810}"), (1, 1, "\u{2820}"), (1, 0, "\u{2880}"),
    ])
  func dots(x: Int, y: Int, glyph: String) {
    var canvas = BrailleCanvas(width: 1, height: 1)
    canvas.addLayer(dots: [(x, y)], style: .plain)
    var buffer = CellBuffer(width: 1, height: 1)
    canvas.render(into: &buffer, at: buffer.area)
    #expect(String(buffer[0, 0].symbol) == glyph)
  }

  @Test("all dots of a cell make the full glyph; the origin is bottom-left")
  func fullAndOrigin() {
    var canvas = BrailleCanvas(width: 2, height: 2)
    canvas.addLayer(dots: (0..<2).flatMap { x in (0..<4).map { (x, $0) } }, style: .plain)
    var buffer = CellBuffer(width: 2, height: 2)
    canvas.render(into: &buffer, at: buffer.area)
    #expect(buffer.lines == ["  ", "\u{28FF} "])
  }

  @Test("data points map onto the corners of the grid, out-of-range points are dropped")
  func dataMapping() {
    var canvas = BrailleCanvas(width: 3, height: 2)
    canvas.addLayer(
      points: [(0, 0), (10, 5), (20, 1), (-1, 0)], xRange: 0...10, yRange: 0...5, style: .plain)
    var buffer = CellBuffer(width: 3, height: 2)
    canvas.render(into: &buffer, at: buffer.area)
    #expect(buffer.lines == ["  \u{2808}", "\u{2840}  "])
  }

  @Test("later layers draw over earlier ones cell by cell, in their own style")
  func layers() {
    let red = Style(foreground: .rgb(255, 0, 0))
    let blue = Style(foreground: .rgb(0, 0, 255))
    var canvas = BrailleCanvas(width: 2, height: 1)
    canvas.addLayer(dots: [(0, 0), (2, 0)], style: red)
    canvas.addLayer(dots: [(3, 3)], style: blue)
    var buffer = CellBuffer(width: 2, height: 1)
    canvas.render(into: &buffer, at: buffer.area)
    #expect(buffer[0, 0] == Cell("\u{2840}", style: red))
    #expect(buffer[1, 0] == Cell("\u{2808}", style: blue))
  }

  @Test("connected points draw the segment between them")
  func connect() {
    var canvas = BrailleCanvas(width: 2, height: 1)
    canvas.addLayer(points: [(0, 0), (3, 0)], xRange: 0...3, yRange: 0...3, style: .plain, connect: true)
    var buffer = CellBuffer(width: 2, height: 1)
    canvas.render(into: &buffer, at: buffer.area)
    #expect(buffer.lines == ["\u{28C0}\u{28C0}"])
  }
}

@Suite("Themes")
struct ThemeTests {
  @Test("values in every notation parse; empty means the terminal default")
  func notations() throws {
    let text = """
      # a comment
      theme[main_bg]=""
      theme[main_fg]="#ff8000"
      theme[title]="#7f"
      theme[hi_fg]="10 20 30"
      theme[unknown_key]="#123456"
      """
    let (theme, issues) = try ThemeLoader.parse(text, name: "t")
    #expect(issues.isEmpty)
    #expect(theme.color("main_bg") == .terminalDefault)
    #expect(theme.color("main_fg") == .rgb(255, 128, 0))
    #expect(theme.color("title") == .rgb(127, 127, 127))
    #expect(theme.color("hi_fg") == .rgb(10, 20, 30))
  }

  @Test("malformed lines are reported with their line and the default is kept")
  func malformed() throws {
    let text = "theme[main_fg]=\"#zzzzzz\"\nnot a theme line\ntheme[title]=#ffffff\ntheme[hi_fg]=\"#00ff00\""
    let (theme, issues) = try ThemeLoader.parse(text, name: "t")
    #expect(issues.map(\.line) == [1, 2, 3])
    #expect(issues[0].description.contains("line 1"))
    #expect(theme.color("main_fg") == ThemeLoader.parseColor(Theme.defaults["main_fg"]!))
    #expect(theme.color("hi_fg") == .rgb(0, 255, 0))
  }

  @Test("a btop theme works: krylov keys fall back to their btop aliases")
  func btopAliases() throws {
    let text = "theme[cpu_start]=\"#000000\"\ntheme[cpu_end]=\"#ffffff\"\ntheme[cpu_box]=\"#112233\""
    let (theme, _) = try ThemeLoader.parse(text, name: "btop")
    let g = theme.gradient("coeff")
    #expect(g.count == 101)
    #expect(g[0] == .rgb(0, 0, 0) && g[100] == .rgb(255, 255, 255) && g[50] == .rgb(128, 128, 128))
    #expect(theme.color("coeff_box") == .rgb(0x11, 0x22, 0x33))
  }

  @Test("three-stop gradients pass through the middle colour")
  func threeStops() throws {
    let text = "theme[delta_start]=\"#000000\"\ntheme[delta_mid]=\"#ff0000\"\ntheme[delta_end]=\"#ffffff\""
    let g = try ThemeLoader.parse(text, name: "t").theme.gradient("delta")
    #expect(g[50] == .rgb(255, 0, 0))
    #expect(g[25] == .rgb(128, 0, 0))
  }

  @Test(
    "colours downgrade to the 256-colour palette",
    arguments: [
      (Color.rgb(255, 0, 0), 196), (.rgb(0, 0, 0), 16), (.rgb(128, 128, 128), 244), (.rgb(0, 135, 255), 33),
    ])
  func palette(color: Color, index: Int) {
    #expect(color.paletteIndex == index)
  }

  @Test("every bundled theme parses cleanly", arguments: ["krylov-dark", "krylov-light", "nord", "gruvbox"])
  func bundled(name: String) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let (theme, issues) = try ThemeLoader.load(path: root.appendingPathComponent("Themes/\(name).theme").path)
    #expect(issues.isEmpty)
    #expect(theme.name == name)
    for g in Theme.gradientNames { #expect(theme.gradient(g).count == 101) }
  }
}

@Suite("Styled snapshots")
struct StyledSnapshotTests {
  @Test("the snapshot lists each row's style runs after the text, plain runs left out")
  func styleRuns() {
    var buffer = CellBuffer(width: 8, height: 2)
    buffer.setString(x: 1, y: 0, "ab", style: Style(foreground: .rgb(255, 0, 16), bold: true))
    buffer.setString(x: 3, y: 0, "c", style: Style(background: .rgb(0, 0, 1), reverse: true))
    buffer.setString(x: 0, y: 1, "plain")
    #expect(
      buffer.styledSnapshot == """
         abc    
        plain   
        -- styles (row: columns style) --
        0: 1-3 fg=#ff0010 bold, 3-4 bg=#000001 reverse

        """)
    // A change of colour alone changes the snapshot.
    var recoloured = buffer
    recoloured.setString(x: 1, y: 0, "a", style: Style(foreground: .rgb(255, 0, 17), bold: true))
    #expect(recoloured.lines == buffer.lines)
    #expect(recoloured.styledSnapshot != buffer.styledSnapshot)
  }
}
