import KrylovTUI
import Testing

@Suite("Heatmap")
struct HeatmapTests {
  let ramp: [Color] = (0...100).map { .rgb(UInt8($0), 0, 0) }

  @Test("two matrix rows per text row: upper as foreground, lower as background")
  func halfBlocks() {
    let map = Heatmap(values: [0, 1, 0.5, 0.25], rows: 2, columns: 2, gradient: ramp)
    var buffer = CellBuffer(width: 2, height: 1)
    map.render(into: &buffer, area: buffer.area)
    #expect(buffer[0, 0] == Cell("▀", style: Style(foreground: .rgb(0, 0, 0), background: .rgb(50, 0, 0))))
    #expect(buffer[1, 0] == Cell("▀", style: Style(foreground: .rgb(100, 0, 0), background: .rgb(25, 0, 0))))
  }

  @Test("a causal matrix leaves the masked future blank")
  func causal() {
    let nan = Double.nan
    // 3×3 lower-triangular attention.
    let map = Heatmap(values: [1, nan, nan, 0.5, 0.5, nan, 0.2, 0.3, 0.5], rows: 3, columns: 3, gradient: ramp)
    var buffer = CellBuffer(width: 3, height: 2)
    map.render(into: &buffer, area: buffer.area)
    #expect(buffer[2, 0] == .blank)
    #expect(buffer[1, 0] == Cell("▄", style: Style(foreground: .rgb(50, 0, 0))))
    // The odd last row: foreground only, terminal-default background.
    #expect(buffer[2, 1] == Cell("▀", style: Style(foreground: .rgb(50, 0, 0))))
  }

  @Test("values saturate at the scale; large matrices clip to the area")
  func scaleAndClip() {
    let map = Heatmap(values: Array(repeating: 2, count: 100), rows: 10, columns: 10, gradient: ramp, scale: 1)
    var buffer = CellBuffer(width: 4, height: 2)
    map.render(into: &buffer, area: Rect(x: 1, y: 0, width: 20, height: 20))
    #expect(buffer[0, 0] == .blank)
    #expect(buffer[3, 1].style.foreground == .rgb(100, 0, 0))
    var empty = CellBuffer(width: 0, height: 0)
    map.render(into: &empty, area: empty.area)
    #expect(empty.cells.isEmpty)
  }

  @Test("without colours each cell is a shade of the larger of its two values; masked cells stay blank")
  func shades() {
    // Two text rows: values 0, 0.5, 1 and a masked (nan) column, over a second row pair.
    let values: [Double] = [
      0, 0.5, 1, .nan,
      0, 0.2, 0.9, .nan,
      0.26, .nan, 0, .nan,
    ]
    var map = Heatmap(values: values, rows: 3, columns: 4, gradient: [.rgb(0, 0, 0), .rgb(255, 255, 255)])
    map.shades = true
    var buffer = CellBuffer(width: 4, height: 2)
    map.render(into: &buffer, area: Rect(x: 0, y: 0, width: 4, height: 2))
    #expect(buffer.lines == ["·▒█ ", "░ · "])
    #expect(buffer.cells.allSatisfy { $0.style == .plain })
  }
}
