import Foundation
import KrylovAnalysis
import KrylovForecaster
import KrylovTUI

/// Every head as a toggle (layer rows × head columns), the history window, and the forecast
/// error before and after the ablation.
enum AblationPane {
  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let inner = paneFrame(.ablation, focused: state.focus == .ablation, palette: palette, into: &buffer, area: area)
    guard inner.width > 4, inner.height > 1 else { return }
    let (L, NH) = state.modelShape
    var y = inner.y
    let ranking = state.forecast?.headRanking
    let influence = Dictionary(uniqueKeysWithValues: (ranking?.entries ?? []).map { ($0.head, $0.value) })
    // Colour by influence: for error ratios, by how far above 1 (no effect) each head is.
    let floor = ranking?.isErrorRatio == true ? 1.0 : 0.0
    let worst = (influence.values.max() ?? 0) - floor
    for l in 0..<L where y < inner.bottom {
      var x = inner.x + 1
      buffer.setString(x: x, y: y, "L\(l)", style: palette.graphText)
      x += 3
      for h in 0..<NH {
        let id = HeadID(layer: l, head: h)
        let on = !state.disabledHeads.contains(id)
        let isSelected = l == state.selectedLayer && h == state.selectedHead
        var style = on ? palette.text : palette.inactive
        if let v = influence[id], worst > 0 {
          let level = Int((100 * min(max(v - floor, 0), worst) / worst).rounded())
          style = Style(foreground: palette.delta[level], background: style.background)
        }
        if isSelected && (state.focus == .ablation || state.focus == .attention) { style = palette.selected }
        let label = on ? "H\(h)●" : "H\(h)○"
        buffer.setString(x: x, y: y, label, style: style, maxWidth: max(0, inner.right - x))
        x += label.count + 1
      }
      y += 1
    }
    y += 1
    let window = state.historyWindow.map { "last \($0)" } ?? "all"
    let width = inner.width - 1
    // Whole pieces only: the legend goes before a number would be cut.
    let history = "history: \(window)"
    let legend = history + "  ● on ○ off"
    var lines: [(String, Style)] = [(legend.count <= width ? legend : TextFit.truncate(history, width: width), palette.graphText)]
    lines += errorLines(state).map { (TextFit.truncate($0, width: width), palette.highlight) }
    for (text, style) in lines where y < inner.bottom {
      buffer.setString(x: inner.x + 1, y: y, text, style: style, maxWidth: width)
      y += 1
    }
    let below = Rect(x: inner.x, y: y, width: inner.width, height: inner.bottom - y)
    rankingLines(state, ranking: ranking, palette: palette, into: &buffer, area: below)
  }

  /// The ranking with its numbers, most influential first, as many entries as fit, in columns.
  static func rankingLines(
    _ state: ExplorerState, ranking: HeadRanking?, palette: Palette, into buffer: inout CellBuffer, area: Rect
  ) {
    guard area.height > 0, area.width > 2 else { return }
    if state.rankingPending {
      buffer.setString(x: area.x + 1, y: area.y, "ranking heads…", style: palette.inactive, maxWidth: area.width - 1)
      return
    }
    guard let ranking, !ranking.entries.isEmpty else {
      buffer.setString(x: area.x + 1, y: area.y, "r: rank heads", style: palette.inactive, maxWidth: area.width - 1)
      return
    }
    let title = ranking.isErrorRatio ? "error × with head off:" : "Δ forecast, head off:"
    buffer.setString(x: area.x + 1, y: area.y, title, style: palette.graphText, maxWidth: area.width - 1)
    let labels = ranking.entries.map { ranking.label($0) }
    let cell = (labels.map(\.count).max() ?? 0) + 2
    let columns = max(1, (area.width - 1) / cell)
    for (i, label) in labels.enumerated() {
      let row = 1 + i / columns
      guard row < area.height else { break }
      let x = area.x + 1 + (i % columns) * cell
      // Only whole labels: a cut number would be a wrong number.
      guard x + label.count <= area.right else { continue }
      buffer.setString(x: x, y: area.y + row, label, style: palette.text)
    }
  }

  /// The head whose label covers (x, y), given the pane's inner area (the geometry `render` uses:
  /// "L<l>" then one "H<h>●" label per head, four cells each).
  static func head(at x: Int, y: Int, inner: Rect, shape: (layers: Int, heads: Int)) -> HeadID? {
    let layer = y - inner.y
    let column = x - (inner.x + 4)
    guard layer >= 0, layer < shape.layers, column >= 0, column % 4 != 3 else { return nil }
    let head = column / 4
    return head < shape.heads ? HeadID(layer: layer, head: head) : nil
  }

  /// The forecast's b_n error (relative RMS on b_{k+1..M}); with an ablation, the error before
  /// and after on a line of its own, with their ratio.
  static func errorLines(_ state: ExplorerState) -> [String] {
    guard let f = state.forecast else { return [] }
    guard let e = f.errors?.coefficients["transformer"] else {
      return [String(format: "forecast in %.0f ms", f.seconds * 1e3), "b_n error once b_M is in"]
    }
    if state.ablation.isNone { return [String(format: "b_n error %.4f (%.0f ms)", e, f.seconds * 1e3)] }
    let base = f.unablatedError ?? e
    return [String(format: "b_n error %.4f", base), String(format: "ablated %.4f (×%.2f)", e, e / base)]
  }
}
