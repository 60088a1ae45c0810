import KrylovForecaster
import KrylovTUI

/// The selected layer and head's attention over the rollout: query position down, key across.
enum AttentionPane {
  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let title = "attention L\(state.selectedLayer) H\(state.selectedHead)"
    let inner = paneFrame(
      .attention, focused: state.focus == .attention, palette: palette, into: &buffer, area: area, title: title)
    guard inner.width > 2, inner.height > 2 else { return }
    guard let maps = state.forecast?.attention else {
      buffer.setString(
        x: inner.x + 1, y: inner.y, state.forecastMessage ?? "waiting for the first k coefficients", style: palette.inactive,
        maxWidth: inner.width - 1)
      return
    }
    let rows = Layout.rows(inner, [nil, 1])
    let map = rows[0]
    // Pool the P×P matrix onto the cells: each cell shows the largest weight it covers (a thin
    // diagonal stays visible when shrunk); the causal future stays blank.
    let P = maps.positions
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
    Heatmap(values: values, rows: matrixRows, columns: columns, gradient: palette.attention, scale: max(peak, 1e-9))
      .render(into: &buffer, area: map)
    // The colour scale: 0, a bar through the gradient, then the largest weight shown.
    let label = String(format: "n=1..%d  0 ", P)
    let end = String(format: " %.2f", peak)
    let barWidth = max(0, min(16, rows[1].width - label.count - end.count))
    buffer.setString(x: rows[1].x, y: rows[1].y, label, style: palette.graphText, maxWidth: rows[1].width)
    for i in 0..<barWidth {
      let color = palette.attention[barWidth > 1 ? i * 100 / (barWidth - 1) : 100]
      buffer[rows[1].x + label.count + i, rows[1].y] = Cell("█", style: Style(foreground: color))
    }
    buffer.setString(
      x: rows[1].x + label.count + barWidth, y: rows[1].y, end, style: palette.graphText,
      maxWidth: max(0, rows[1].width - label.count - barWidth))
  }
}
