import Foundation
import KrylovEngine
import KrylovTUI

/// The whole screen as a pure function of the state: what the run loop draws every frame and
/// what the tests and `krylov render` inspect.
public enum ExplorerFrame {
  public static let minimumWidth = 80
  public static let minimumHeight = 24

  public static func render(_ state: ExplorerState, theme: Theme, into buffer: inout CellBuffer) {
    let area = buffer.area
    let palette = Palette(theme)
    if theme.color("main_bg") != .terminalDefault {
      buffer.setStyle(Style(background: theme.color("main_bg")), in: area)
    }
    guard area.width >= minimumWidth, area.height >= minimumHeight else {
      let lines = [
        "terminal too small", "need \(minimumWidth)×\(minimumHeight), have \(area.width)×\(area.height)", "q quits",
      ]
      for (i, line) in lines.enumerated() {
        let y = area.height / 2 - 1 + i
        buffer.setString(x: max(0, (area.width - line.count) / 2), y: y, line, style: i == 0 ? palette.warning : palette.text, maxWidth: area.width)
      }
      return
    }
    let rows = Layout.rows(area, [(area.height - 1) * 3 / 5, nil, 1])
    let top = Layout.columns(rows[0], [32, nil])
    let bottom = Layout.columns(rows[1], [nil, nil, 28])
    SystemPane.render(state, palette: palette, into: &buffer, area: top[0])
    CoefficientsPane.render(state, palette: palette, into: &buffer, area: top[1])
    ObservablesPane.render(state, palette: palette, into: &buffer, area: bottom[0])
    AttentionPane.render(state, palette: palette, into: &buffer, area: bottom[1])
    AblationPane.render(state, palette: palette, into: &buffer, area: bottom[2])
    statusLine(state, palette: palette, into: &buffer, area: rows[2])
    if state.showHelp { helpOverlay(palette: palette, into: &buffer, area: area) }
  }

  static func statusLine(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let run = state.run
    var left = " \(run.status.label)"
    if run.secondsPerStep > 0 && run.status.isActive { left += String(format: " · %.1f b_n/s", 1 / run.secondsPerStep) }
    if run.estimatedBytes > 0 { left += " · mem ≈ \(formatBytes(run.estimatedBytes))" }
    left += " · model: \(state.modelName) · theme: \(state.themeName)"
    let right = "s run  x stop  Tab pane  ? help  q quit "
    buffer.setStyle(palette.selected, in: area)
    buffer.setString(x: area.x, y: area.y, left, style: palette.selected, maxWidth: area.width)
    if left.count + right.count < area.width {
      buffer.setString(x: area.right - right.count, y: area.y, right, style: palette.selected)
    }
  }

  static func helpOverlay(palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let width = min(area.width - 4, 72)
    let height = min(area.height - 2, Keymap.help.count + 4)
    let box = Rect(x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
    buffer.setStyle(palette.text, in: box)
    for y in box.y..<box.bottom {
      for x in box.x..<box.right { buffer[x, y] = Cell(" ", style: palette.text) }
    }
    Block(title: "keys", borderStyle: palette.focusedBorder, titleStyle: palette.highlight).render(into: &buffer, area: box)
    let inner = Block.inner(box)
    for (i, (keys, what)) in Keymap.help.enumerated() where inner.y + 1 + i < inner.bottom {
      buffer.setString(x: inner.x + 1, y: inner.y + 1 + i, keys.padding(toLength: 18, withPad: " ", startingAt: 0), style: palette.highlight)
      buffer.setString(x: inner.x + 20, y: inner.y + 1 + i, what, style: palette.text, maxWidth: inner.width - 20)
    }
  }
}
