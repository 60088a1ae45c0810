import Foundation
import KrylovTUI
import Testing

@Suite("Chart")
struct ChartTests {
  @Test(
    "nice ticks",
    arguments: [
      (0.0...10.0, 5, [0.0, 2, 4, 6, 8, 10]), (0.0...1.0, 2, [0.0, 0.5, 1]), (3.0...27.0, 3, [10.0, 20]),
    ])
  func ticks(range: ClosedRange<Double>, target: Int, expected: [Double]) {
    #expect(Chart.ticks(range, target: target) == expected)
  }

  @Test("a diagonal line with axes, ticks, labels and legend")
  func layout() {
    let line = ChartSeries(name: "b", points: (0...10).map { (Double($0), Double($0)) })
    let chart = Chart(series: [line], xRange: 0...10, yRange: 0...10)
    var buffer = CellBuffer(width: 16, height: 6)
    chart.render(into: &buffer, area: buffer.area)
    let lines = buffer.lines
    // Y labels in the gutter, the axis corner and the x labels under the axis.
    #expect(lines[0].hasPrefix("10┤"))
    #expect(lines[3].hasPrefix(" 0┤"))
    #expect(lines[4].hasPrefix("  └┬"))
    #expect(lines[5].hasPrefix("   0"))
    #expect(lines[5].hasSuffix("10"))
    // The legend sits top right, the line rises from bottom left to top right.
    #expect(lines[0].hasSuffix("⠒⠒ b"))
    #expect(lines[3].dropFirst(3).first != " ")
  }

  @Test("series read without colour: each pattern thins the line its own way, the legend shows it, the first is on top")
  func patterns() {
    #expect(LinePattern.solid.sample == "⠒⠒")
    #expect(LinePattern.dashed.sample == "⠒⠂")
    #expect(LinePattern.dotted.sample == "⠂⠂")
    #expect(LinePattern.sparse.sample == "⠂⠀")
    #expect(LinePattern.paired.sample == "⠒⠀")
    #expect(Set(LinePattern.allCases.map(\.sample)).count == LinePattern.allCases.count)
    // One flat line per pattern, alone on an otherwise empty row: the dots kept differ.
    func row(_ pattern: LinePattern) -> String {
      let flat = ChartSeries(name: "", points: [(0, 1), (20, 1)], pattern: pattern)
      let chart = Chart(series: [flat], xRange: 0...20, yRange: 0...2)
      var buffer = CellBuffer(width: 24, height: 8)
      chart.render(into: &buffer, area: buffer.area)
      return buffer.lines.first { $0.contains { ("\u{2801}"..."\u{28FF}").contains($0) } } ?? ""
    }
    let rows = LinePattern.allCases.map(row)
    #expect(Set(rows).count == rows.count, "\(rows)")
    // Two series over the same dots: the first one listed is the one drawn on top.
    let truth = ChartSeries(name: "truth", points: [(0, 1), (20, 1)], style: Style(bold: true))
    let other = ChartSeries(name: "other", points: [(0, 1), (20, 1)], style: Style(underline: true))
    var buffer = CellBuffer(width: 24, height: 8)
    Chart(series: [truth, other], xRange: 0...20, yRange: 0...2).render(into: &buffer, area: buffer.area)
    // The line's cells, below the two legend rows: all in the first series' style.
    let drawn = buffer.cells.enumerated().filter { index, cell in
      index / 24 >= 2 && (0x2801...0x28FF).contains(cell.symbol.unicodeScalars.first!.value)
    }.map(\.element)
    #expect(!drawn.isEmpty && drawn.allSatisfy { $0.style.bold }, "\(buffer.lines)")
  }

  @Test("a log axis within a decade or two still has several labelled ticks: 1, 2, 5 × 10^k")
  func logTicksWithinADecade() {
    // log10 of 3 to 40: the decade 10 alone would be one label; 5, 10, 20 are added.
    let ticks = Chart.logTicks(log10(3.0)...log10(40.0))
    #expect(ticks.map(\.label) == ["5", "10", "20"])
    #expect(ticks.allSatisfy { (log10(3.0)...log10(40.0)).contains($0.position) })
    // Several decades: decades only.
    #expect(Chart.logTicks(-3...1.5).map(\.label) == ["1e-3", "1e-2", "1e-1", "1e0", "1e1"])
    // A chart over such a range shows more than one y label.
    let s = ChartSeries(name: "", points: (3...40).map { (Double($0), Double($0)) })
    var buffer = CellBuffer(width: 30, height: 10)
    Chart(series: [s], xRange: 3...40, yRange: 3...40, logY: true).render(into: &buffer, area: buffer.area)
    #expect(buffer.lines.filter { $0.contains("┤") }.count >= 2, "\(buffer.lines)")
  }

  @Test("log y drops non-positive values and labels decades")
  func logScale() {
    let s = ChartSeries(name: "x", points: [(0, 0), (1, 1), (2, 10), (3, 100)])
    let chart = Chart(series: [s], xRange: 0...3, yRange: 1...100, logY: true)
    var buffer = CellBuffer(width: 20, height: 8)
    chart.render(into: &buffer, area: buffer.area)
    let text = buffer.lines.joined(separator: "\n")
    #expect(text.contains("1e2┤") && text.contains("1e0┤"))
  }

  @Test("a log x axis: ticks labelled 1, 10, 100 and x = 10 half way along; x ≤ 0 dropped")
  func logX() {
    let s = ChartSeries(name: "", points: [(0, 5), (1, 1), (10, 10), (100, 100)], connected: false)
    var chart = Chart(series: [s], xRange: 1...100, yRange: 1...100, logY: true)
    chart.logX = true
    var buffer = CellBuffer(width: 25, height: 8)
    chart.render(into: &buffer, area: buffer.area)
    let lines = buffer.lines
    // The gutter is "1e2" + axis: the plot spans columns 4..<25, so 10 lies at column 14.
    let labels = lines[7].split(separator: " ").map(String.init)
    #expect(labels == ["1", "10", "100"], "\(lines)")
    #expect(lines[6].dropFirst(14).first == "┬", "\(lines)")
    // Three points, none at x = 0: each in its own cell on the diagonal.
    let dots = buffer.cells.filter { (0x2801...0x28FF).contains($0.symbol.unicodeScalars.first!.value) }
    #expect(dots.count == 3, "\(lines)")
    #expect(lines[2].dropFirst(14).first.map { (0x2801...0x28FF).contains($0.unicodeScalars.first!.value) } == true, "\(lines)")
    let (x, _) = Chart.fittedRanges([s], logY: true, logX: true)
    #expect(x == 1...100)
  }

  @Test("tiny and empty areas do not crash and stay inside", arguments: [(0, 0), (1, 1), (3, 2), (8, 3)])
  func tiny(width: Int, height: Int) {
    let s = ChartSeries(name: "b", points: [(0, 0), (1, 1)])
    let chart = Chart(series: [s], xRange: 0...1, yRange: 0...1)
    var buffer = CellBuffer(width: width, height: height)
    chart.render(into: &buffer, area: Rect(x: 0, y: 0, width: width + 5, height: height + 5))
    #expect(buffer.cells.count == width * height)
  }

  @Test("fitted ranges cover every point; a series within a window keeps the points inside it")
  func fitted() {
    let s = ChartSeries(name: "b", points: [(1, 2), (5, 9)])
    let (x, y) = Chart.fittedRanges([s], logY: false)
    #expect(x == 1...5 && y == 0...9)
    let inside = s.within(0...3)
    #expect(inside.points.map(\.x) == [1] && inside.name == "b")
  }
}

@Suite("Glyph and colour fallbacks")
struct FallbackTests {
  @Test(
    "Each quadrant block covers its two dots",
    arguments: [
      (UInt8(0x01), Character("▘")), (0x10, "▝"), (0x40, "▖"), (0x80, "▗"), (0x1B, "▀"), (0xFF, "█"), (0x00, " "),
      (0x24, "▄"),  // dots 3 and 6: third row of each column, so both lower quadrants
    ])
  func quadrants(mask: UInt8, glyph: Character) {
    #expect(BrailleCanvas.blockGlyph(mask) == glyph)
  }

  @Test("COLORTERM=truecolor or 24bit under a 256-colour TERM asks for the direct-colour entry, else nothing")
  func truecolor() {
    #expect(ColorDepth.directCandidates(term: "xterm-256color", colorterm: "truecolor") == ["xterm-direct"])
    #expect(ColorDepth.directCandidates(term: "tmux-256color", colorterm: "24bit") == ["tmux-direct", "xterm-direct"])
    #expect(ColorDepth.directCandidates(term: "screen", colorterm: "TrueColor") == ["screen-direct", "xterm-direct"])
    #expect(ColorDepth.directCandidates(term: "xterm-256color", colorterm: nil).isEmpty)
    #expect(ColorDepth.directCandidates(term: "xterm-256color", colorterm: "yes").isEmpty)
    #expect(ColorDepth.directCandidates(term: "xterm-direct", colorterm: "truecolor").isEmpty)
    #expect(ColorDepth.directCandidates(term: "dumb", colorterm: "truecolor").isEmpty)
    #expect(ColorDepth.directCandidates(term: nil, colorterm: "truecolor").isEmpty)
  }

  @Test("A chart in block mode uses no braille")
  func blockChart() {
    var chart = Chart(
      series: [ChartSeries(name: "s", points: (0..<20).map { (Double($0), Double($0 % 5)) })], xRange: 0...19, yRange: 0...4)
    chart.blockGlyphs = true
    var buffer = CellBuffer(width: 30, height: 8)
    chart.render(into: &buffer, area: buffer.area)
    let text = buffer.lines.joined()
    #expect(!text.unicodeScalars.contains { (0x2800...0x28FF).contains($0.value) })
    #expect(text.contains("█"))
  }

  @Test("Colour depth follows what the terminal reports, and NO_COLOR")
  func depth() {
    #expect(ColorDepth.forTerminal(colors: 1 << 24, noColor: false) == .direct)
    #expect(ColorDepth.forTerminal(colors: 256, noColor: false) == .palette256)
    #expect(ColorDepth.forTerminal(colors: 16, noColor: false) == .ansi16)
    #expect(ColorDepth.forTerminal(colors: 8, noColor: false) == .ansi16)
    #expect(ColorDepth.forTerminal(colors: 2, noColor: false) == .none)
    #expect(ColorDepth.forTerminal(colors: 256, noColor: true) == .none)
    let orange = Color.rgb(255, 135, 0)
    #expect(ColorDepth.direct.index(of: orange) == 0xFF8700)
    #expect(ColorDepth.palette256.index(of: orange) == 208)
    #expect(ColorDepth.ansi16.index(of: .rgb(250, 10, 10)) == 9)
    #expect(ColorDepth.ansi16.index(of: .rgb(0, 0, 0)) == 0)
    #expect(ColorDepth.none.index(of: orange) == nil)
    #expect(ColorDepth.palette256.index(of: .terminalDefault) == nil)
  }
}

@Suite("Bands")
struct BandTests {
  @Test("a band fills every dot between its edges, interpolated between samples, under the series")
  func fill() {
    // 2 × 2 cells = 4 × 8 dots; x 0…3 and y 0…7 map one unit to one dot.
    var canvas = BrailleCanvas(width: 2, height: 2)
    canvas.addBand(samples: [(0, 2, 5), (3, 2, 5)], xRange: 0...3, yRange: 0...7, style: .plain)
    var buffer = CellBuffer(width: 2, height: 2)
    canvas.render(into: &buffer, at: buffer.area)
    // Rows 2…5 from the bottom: the lower two dot rows of the top cells, the upper two of the bottom ones.
    let top =
      BrailleCanvas.bit(dx: 0, dy: 2) | BrailleCanvas.bit(dx: 0, dy: 3) | BrailleCanvas.bit(dx: 1, dy: 2)
      | BrailleCanvas.bit(dx: 1, dy: 3)
    let bottom =
      BrailleCanvas.bit(dx: 0, dy: 0) | BrailleCanvas.bit(dx: 0, dy: 1) | BrailleCanvas.bit(dx: 1, dy: 0)
      | BrailleCanvas.bit(dx: 1, dy: 1)
    #expect(
      buffer.lines == [
        String(repeating: BrailleCanvas.glyph(top), count: 2), String(repeating: BrailleCanvas.glyph(bottom), count: 2),
      ])
  }

  @Test("a band narrower than a dot still shows one dot per column; outside the y range it is clipped")
  func thinAndClipped() {
    var canvas = BrailleCanvas(width: 1, height: 1)
    canvas.addBand(samples: [(0, 1.01, 1.02), (1, 9, 12)], xRange: 0...1, yRange: 0...3, style: .plain)
    var buffer = CellBuffer(width: 1, height: 1)
    canvas.render(into: &buffer, at: buffer.area)
    // Left column: the one dot at y = 1; right column: clipped away entirely (above the range).
    #expect(buffer.lines == [String(BrailleCanvas.glyph(BrailleCanvas.bit(dx: 0, dy: 2)))])
  }

  @Test("a chart draws its bands first, so a series crossing the band stays on top")
  func underSeries() {
    let line = ChartSeries(name: "c", points: [(0, 0.5), (1, 0.5)], style: Style(foreground: .rgb(255, 0, 0)))
    var chart = Chart(series: [line], xRange: 0...1, yRange: 0...1)
    chart.bands = [ChartBand(samples: [(0, 0, 1), (1, 0, 1)], style: Style(foreground: .rgb(0, 255, 0)))]
    var buffer = CellBuffer(width: 4, height: 4)
    chart.render(into: &buffer, area: buffer.area)
    let colours = Set(buffer.cells.filter { $0.symbol != " " }.map(\.style.foreground))
    #expect(colours.contains(.rgb(0, 255, 0)) && colours.contains(.rgb(255, 0, 0)))
  }
}
