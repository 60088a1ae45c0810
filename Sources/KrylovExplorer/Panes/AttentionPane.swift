import KrylovAnalysis
import KrylovForecaster
import KrylovTUI

/// The selected layer and head's attention over the rollout: query position down, key across.
enum AttentionPane {
  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let title =
      "attention L\(state.selectedLayer) H\(state.selectedHead)" + (state.showLagProfile ? " by lag" : "")
    let inner = paneFrame(
      .attention, focused: state.focus == .attention, palette: palette, into: &buffer, area: area, title: title)
    guard inner.width > 2, inner.height > 2 else { return }
    guard let maps = state.forecast?.attention else {
      buffer.setString(
        x: inner.x + 1, y: inner.y, state.forecastMessage ?? "waiting for the first k coefficients", style: palette.inactive,
        maxWidth: inner.width - 1)
      return
    }
    if state.disabledHeads.contains(HeadID(layer: state.selectedLayer, head: state.selectedHead)) {
      // A switched-off head attends to nothing: say so rather than draw an empty scale.
      let off = TextFit.truncate("off: this head contributes nothing (space turns it on)", width: inner.width - 1)
      buffer.setString(x: inner.x + 1, y: inner.y, off, style: palette.inactive)
      return
    }
    if state.showLagProfile {
      renderLagProfile(state, palette: palette, into: &buffer, area: inner)
      return
    }
    // The map, its key positions under it, then the colour scale or the cursor's readout; the
    // query positions in a gutter on its left.
    let rows = Layout.rows(inner, [nil, 1, 1])
    let P = maps.positions
    let gutter = String(P).count
    let map = Rect(x: rows[0].x + gutter + 1, y: rows[0].y, width: max(0, rows[0].width - gutter - 1), height: rows[0].height)
    // Pool the P×P matrix onto the cells: each cell shows the largest weight it covers (a thin
    // diagonal stays visible when shrunk); the causal future stays blank.
    let columns = max(1, min(map.width, P))
    let matrixRows = max(1, min(2 * map.height, P))
    var values = [Double](repeating: .nan, count: matrixRows * columns)
    var peak = 0.0
    for r in 0..<matrixRows {
      let q0 = r * P / matrixRows
      let q1 = max(q0 + 1, (r + 1) * P / matrixRows)
      for c in 0..<columns {
        let k0 = c * P / columns
        let k1 = max(k0 + 1, (c + 1) * P / columns)
        guard k0 < q1 else { continue }
        var v = 0.0
        for q in q0..<q1 where q >= k0 {
          for k in k0..<min(k1, q + 1) {
            v = max(v, Double(maps.weight(layer: state.selectedLayer, head: state.selectedHead, query: q, key: k)))
          }
        }
        values[r * columns + c] = v
        peak = max(peak, v)
      }
    }
    if state.attentionRowScale {
      // Each row to its own largest weight: where a broad head looks shows, whatever its height.
      for r in 0..<matrixRows {
        let row = values[(r * columns)..<((r + 1) * columns)].filter(\.isFinite)
        let top = row.max() ?? 0
        guard top > 0 else { continue }
        for c in 0..<columns where values[r * columns + c].isFinite { values[r * columns + c] /= top }
      }
    }
    var heatmap = Heatmap(
      values: values, rows: matrixRows, columns: columns, gradient: palette.attention,
      scale: state.attentionRowScale ? 1 : max(peak, 1e-9))
    heatmap.shades = state.monochrome
    heatmap.background = palette.text.background
    heatmap.render(into: &buffer, area: map)
    let geometry = MapGeometry(positions: P, rows: matrixRows, columns: columns)
    let k = state.forecast.map { min(max($0.methods.prefix.count, 1), P) }
    drawAxes(geometry, prefix: k, map: map, keyRow: rows[1], palette: palette, values: values, into: &buffer)
    let cursor = state.attentionCursor.map { $0.moved(rows: 0, columns: 0, positions: P) }
    if let cursor {
      // The cell under the cursor in reverse video, which shows with or without colours.
      let x = map.x + geometry.column(key: cursor.key)
      let y = map.y + geometry.textRow(query: cursor.query)
      if map.contains(x: x, y: y) { buffer[x, y].style.reverse = true }
      let w = maps.weight(layer: state.selectedLayer, head: state.selectedHead, query: cursor.query, key: cursor.key)
      let readout = TextFit.join(
        [String(format: "q=%d k=%d w=%.3g", cursor.query + 1, cursor.key + 1, Double(w)), "Esc: no cursor"],
        width: rows[2].width)
      buffer.setString(x: rows[2].x, y: rows[2].y, readout, style: palette.graphText, maxWidth: rows[2].width)
      return
    }
    // The colour scale: 0, a bar through the gradient, then the largest weight shown (or "row
    // max" when each row has its own scale).
    let scaleRow = rows[2]
    let label = String(format: "n=1..%d  0 ", P)
    let end = state.attentionRowScale ? " row max (n)" : String(format: " %.2f (n: rows)", peak)
    let barWidth = max(0, min(16, scaleRow.width - label.count - end.count))
    buffer.setString(x: scaleRow.x, y: scaleRow.y, label, style: palette.graphText, maxWidth: scaleRow.width)
    for i in 0..<barWidth {
      let fraction = barWidth > 1 ? Double(i) / Double(barWidth - 1) : 1
      let cell =
        state.monochrome
        ? Cell(heatmap.shade(fraction * heatmap.scale), style: palette.graphText)
        : Cell("█", style: Style(foreground: palette.attention[Int(fraction * 100)], background: heatmap.background))
      buffer[scaleRow.x + label.count + i, scaleRow.y] = cell
    }
    buffer.setString(
      x: scaleRow.x + label.count + barWidth, y: scaleRow.y, end, style: palette.graphText,
      maxWidth: max(0, scaleRow.width - label.count - barWidth))
  }

  /// Where positions land on the pooled map: P positions on `rows` matrix rows (two per text
  /// row) and `columns` columns.
  struct MapGeometry {
    let positions: Int
    let rows: Int
    let columns: Int

    func textRow(query q: Int) -> Int { (q * rows / positions) / 2 }
    func column(key k: Int) -> Int { k * columns / positions }
  }

  /// Position numbers (counted from 1, as n) down the left for queries and under the map for
  /// keys, "k" at the last prefix position on both, and a dotted line down the prefix
  /// boundary through the blank causal future above the diagonal.
  static func drawAxes(
    _ geometry: MapGeometry, prefix k: Int?, map: Rect, keyRow: Rect, palette: Palette, values: [Double],
    into buffer: inout CellBuffer
  ) {
    let textRows = min(map.height, (geometry.rows + 1) / 2)
    guard textRows > 0, map.x > keyRow.x else { return }
    let axis = map.x - 1
    for row in 0..<textRows { buffer[axis, map.y + row] = Cell("│", style: palette.border) }
    let kRow = k.map { geometry.textRow(query: $0 - 1) }
    let kColumn = k.map { geometry.column(key: $0 - 1) }
    func queryLabel(_ text: String, row: Int, style: Style) {
      buffer.setString(x: axis - text.count, y: map.y + row, text, style: style)
      buffer[axis, map.y + row] = Cell("┤", style: palette.border)
    }
    var usedRows = Set(kRow.map { [$0 - 1, $0, $0 + 1] } ?? [])
    for tick in Chart.ticks(1...Double(geometry.positions), target: max(1, textRows / 3)) where tick >= 1 {
      let row = geometry.textRow(query: Int(tick) - 1)
      guard row < textRows, !usedRows.contains(row) else { continue }
      queryLabel(String(Int(tick)), row: row, style: palette.graphText)
      usedRows.formUnion([row - 1, row, row + 1])
    }
    // Key positions: "k" first, numbers where they do not overlap it or each other.
    var taken: [ClosedRange<Int>] = []
    if let kRow, kRow < textRows { queryLabel("k", row: kRow, style: palette.highlight) }
    if let kColumn, kColumn < geometry.columns {
      buffer.setString(x: map.x + kColumn, y: keyRow.y, "k", style: palette.highlight)
      taken.append((kColumn - 1)...(kColumn + 1))
      // The boundary through the masked cells above the diagonal (never over a weight).
      for row in 0..<textRows {
        let upper = values[2 * row * geometry.columns + kColumn]
        let lower = 2 * row + 1 < geometry.rows ? values[(2 * row + 1) * geometry.columns + kColumn] : .nan
        if upper.isNaN && lower.isNaN { buffer[map.x + kColumn, map.y + row] = Cell("┊", style: palette.highlight) }
      }
    }
    for tick in Chart.ticks(1...Double(geometry.positions), target: max(1, geometry.columns / 8)) where tick >= 1 {
      let text = String(Int(tick))
      let column = geometry.column(key: Int(tick) - 1)
      let start = min(max(column - text.count / 2, 0), geometry.columns - text.count)
      let span = start...(start + text.count - 1)
      guard start >= 0, !taken.contains(where: { $0.overlaps(span) }) else { continue }
      buffer.setString(x: map.x + start, y: keyRow.y, text, style: palette.graphText)
      taken.append((start - 1)...(start + text.count))
    }
  }

  /// The selected head's mean attention weight against lag over the forecast's queries (log
  /// scale), with the weight its position bias alone would give, dotted: where the head looks
  /// further back or nearer than ALiBi makes it.
  static func renderLagProfile(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    guard let profile = state.forecast?.lagProfile, profile.lagCount > 1 else {
      buffer.setString(x: area.x + 1, y: area.y, "no attention to profile", style: palette.inactive, maxWidth: area.width - 1)
      return
    }
    let id = HeadID(layer: state.selectedLayer, head: state.selectedHead)
    let rows = Layout.rows(area, [nil, 1])
    let shares = profile.shares(id)
    // Out to twice the lag holding 90% of the weight (measured or by position), where the
    // profile has its shape; the far tail is flat and would squeeze it.
    let reach = max(shares.lag90, profile.shares(id, positionOnly: true).lag90)
    let last = min(profile.lagCount - 1, max(10, 2 * reach))
    var measured: [(x: Double, y: Double)] = []
    var bias: [(x: Double, y: Double)] = []
    for lag in 0...last where profile.reach[lag] > 0 {
      let w = profile.meanWeight(id, lag: lag)
      if w > 0 { measured.append((Double(lag), w)) }
      bias.append((Double(lag), profile.positionOnlyWeight(id, lag: lag)))
    }
    let lowest = max(1e-5, (measured + bias).map(\.y).filter { $0 > 0 }.min() ?? 1e-5)
    let chart = Chart(
      series: [
        ChartSeries(name: "by position", points: bias, style: palette.inactive, connected: false),
        ChartSeries(name: "measured", points: measured, style: palette.forecast),
      ],
      xRange: 0...Double(max(last, 1)), yRange: lowest...1, logY: true, axisStyle: palette.graphText,
      labelStyle: palette.graphText)
    chart.render(into: &buffer, area: rows[0])
    let summary = String(
      format: "lag: mean %.1f, 90%% ≤ %d · odd %.0f%% · p: map", shares.meanLag, shares.lag90, 100 * shares.odd)
    buffer.setString(x: rows[1].x, y: rows[1].y, summary, style: palette.graphText, maxWidth: rows[1].width)
  }
}
