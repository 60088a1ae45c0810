import KrylovEngine
import KrylovTUI

/// The system pane: every setting as a row, the run's status and any refusal below.
enum SystemPane {
  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let inner = paneFrame(.system, focused: state.focus == .system, palette: palette, into: &buffer, area: area)
    guard inner.height > 0 else { return }
    var y = inner.y
    for (i, field) in state.settings.fields.enumerated() where y < inner.bottom {
      let isSelected = i == state.selectedField && state.focus == .system
      var value = state.settings.text(for: field)
      // While typing, show the end of the text (where the cursor is) when it is too long.
      if isSelected, let text = state.editing { value = String((text + "▏").suffix(max(1, inner.width - 12))) }
      let style = isSelected ? palette.selected : palette.text
      let row =
        " " + field.label.padding(toLength: 9, withPad: " ", startingAt: 0) + " "
        + (isSelected && state.editing == nil && !field.isTyped ? "‹ \(value) ›" : value)
      if isSelected { buffer.setStyle(style, in: Rect(x: inner.x, y: y, width: inner.width, height: 1)) }
      buffer.setString(x: inner.x, y: y, row, style: style, maxWidth: inner.width)
      y += 1
    }
    y += 1
    let run = state.run
    // The label and the sector wrap at spaces rather than lose their end ("N=10" is not "N=1").
    let width = inner.width - 1
    var lines: [(String, Style)] = []
    lines += TextFit.wrap(run.label.isEmpty ? "no run yet: press s" : run.label, width: width, maxLines: 2)
      .map { ($0, palette.graphText) }
    lines += [
      (run.status.label, run.status.isActive ? palette.highlight : palette.text),
      ("\(run.coefficients.count) b_n, \(run.trustedCount) trusted", palette.text),
    ]
    // A message (a refusal, a warning) before the sector, which is the first line to go.
    if let message = state.message {
      lines += TextFit.wrap(message, width: width).map { ($0, palette.warning) }
    }
    lines += TextFit.wrap(run.sector, width: width, maxLines: 2).map { ($0, palette.inactive) }
    for (text, style) in lines where y < inner.bottom && !text.isEmpty {
      buffer.setString(x: inner.x + 1, y: y, text, style: style, maxWidth: inner.width - 1)
      y += 1
    }
  }
}
