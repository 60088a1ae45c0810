import Foundation
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
    let influence = state.forecast?.headInfluence ?? [:]
    let worst = influence.values.max() ?? 0
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
          style = Style(foreground: palette.delta[Int((100 * v / worst).rounded())], background: style.background)
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
    let lines: [(String, Style)] = [
      ("history: \(window)  ● on ○ off", palette.graphText),
      (errorLine(state), palette.highlight),
    ]
    for (text, style) in lines where y < inner.bottom {
      buffer.setString(x: inner.x + 1, y: y, text, style: style, maxWidth: inner.width - 1)
      y += 1
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

  static func errorLine(_ state: ExplorerState) -> String {
    guard let f = state.forecast else { return "" }
    guard let e = f.errors?.coefficients["transformer"] else {
      return String(format: "forecast in %.0f ms; error needs b_n up to M", f.seconds * 1e3)
    }
    if state.ablation.isNone { return String(format: "b_n error %.4f (%.0f ms)", e, f.seconds * 1e3) }
    let base = f.unablatedError ?? e
    return String(format: "b_n error %.4f → %.4f (×%.2f)", base, e, e / base)
  }
}
