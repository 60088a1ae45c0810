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
        buffer.setString(
          x: max(0, (area.width - line.count) / 2), y: y, line, style: i == 0 ? palette.warning : palette.text,
          maxWidth: area.width)
      }
      return
    }
    let panes = layout(area)
    func pane(_ p: Pane) -> Rect { panes[p] ?? Rect(x: 0, y: 0, width: 0, height: 0) }  // layout names all five
    SystemPane.render(state, palette: palette, into: &buffer, area: pane(.system))
    CoefficientsPane.render(state, palette: palette, into: &buffer, area: pane(.coefficients))
    ObservablesPane.render(state, palette: palette, into: &buffer, area: pane(.observables))
    AttentionPane.render(state, palette: palette, into: &buffer, area: pane(.attention))
    AblationPane.render(state, palette: palette, into: &buffer, area: pane(.ablation))
    statusLine(state, palette: palette, into: &buffer, area: Rect(x: area.x, y: area.bottom - 1, width: area.width, height: 1))
    if state.showHelp { helpOverlay(state, palette: palette, into: &buffer, area: area) }
  }

  /// Where each pane goes on a screen of this size (the status line takes the last row).
  public static func layout(_ area: Rect) -> [Pane: Rect] {
    let rows = Layout.rows(area, [(area.height - 1) * 3 / 5, nil, 1])
    let top = Layout.columns(rows[0], [32, nil])
    let bottom = Layout.columns(rows[1], [nil, nil, 28])
    return [.system: top[0], .coefficients: top[1], .observables: bottom[0], .attention: bottom[1], .ablation: bottom[2]]
  }

  /// What a mouse event at (x, y) means on a screen of this size: the same actions as keys.
  public static func actions(for key: Key, screen: Rect, state: ExplorerState) -> [Action] {
    guard screen.width >= minimumWidth, screen.height >= minimumHeight, !state.showHelp else { return [] }
    switch key {
    case .click(let x, let y):
      guard let (pane, rect) = layout(screen).first(where: { $0.value.contains(x: x, y: y) }) else { return [] }
      var actions: [Action] = [.focus(pane)]
      if pane == .ablation, let head = AblationPane.head(at: x, y: y, inner: Block.inner(rect), shape: state.modelShape) {
        actions += [.selectHead(layer: head.layer, head: head.head), .toggleSelectedHead]
      }
      // A setting's row: selected, as ↑/↓ would (one row per field from the pane's top).
      let row = y - Block.inner(rect).y
      if pane == .system, row >= 0, row < state.settings.fields.count { actions.append(.selectField(row)) }
      return actions
    case .wheel(let up, let x, let y):
      guard layout(screen)[.coefficients]?.contains(x: x, y: y) == true else { return [] }
      return [up ? .zoomIn : .zoomOut]
    default:
      return []
    }
  }

  static func statusLine(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let run = state.run
    // A set-up that takes a while: how far it has come and how long it still needs, from the
    // engine's reports, or how long it has taken before the first report.
    var status = run.status.label
    if run.status == .preparing && run.setupSeconds >= 1 {
      if let left = run.setupSecondsLeft {
        status += " \(Int(run.setupFraction * 100))% ~\(RemainingTime.text(left)) left"
      } else {
        status += " " + RemainingTime.text(run.setupSeconds)
      }
    }
    var parts = [status]
    if !run.coefficients.isEmpty { parts.append("\(run.coefficients.count) b_n, \(run.trustedCount) trusted") }
    // The rate is in the coefficients pane's title (one place, one number).
    if run.estimatedBytes > 0 { parts.append("mem ≈ \(formatBytes(run.estimatedBytes))") }
    // A forecast the model was not trained for is flagged before anything optional.
    if let outside = state.forecast?.outsideTraining { parts.append("⚠ \(outside)") }
    parts.append("model: \(state.modelName)")
    parts.append("theme: \(state.themeName)")
    // The key hints take what the state leaves, down to "? help", which always stays.
    let hints = ["s run  x stop  Tab pane  ? help  q quit ", "? help  q quit ", "? help "]
    let whole = parts.joined(separator: " · ").count + 1
    let right = hints.first { whole + $0.count + 2 <= area.width } ?? hints[hints.count - 1]
    buffer.setStyle(palette.selected, in: area)
    let room = max(0, area.width - right.count - 2)
    buffer.setString(x: area.x, y: area.y, " " + TextFit.join(parts, width: room), style: palette.selected, maxWidth: room + 1)
    if right.count <= area.width {
      buffer.setString(x: area.right - right.count, y: area.y, right, style: palette.selected)
    }
  }

  static func helpOverlay(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let width = min(area.width - 4, 96)
    let height = min(area.height - 2, Keymap.help.count + 4)
    let box = Rect(x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
    buffer.setStyle(palette.text, in: box)
    for y in box.y..<box.bottom {
      for x in box.x..<box.right { buffer[x, y] = Cell(" ", style: palette.text) }
    }
    let inner = Block.inner(box)
    // Rows for keys: the inner height less a blank line at the top and one at the bottom.
    let rows = max(1, inner.height - 2)
    let offset = min(state.helpOffset, max(0, Keymap.help.count - rows))
    let more = offset > 0 || offset + rows < Keymap.help.count
    let title = more ? "keys (↑↓ \(offset + 1)–\(min(offset + rows, Keymap.help.count)) of \(Keymap.help.count))" : "keys"
    Block(title: title, borderStyle: palette.focusedBorder, titleStyle: palette.highlight).render(into: &buffer, area: box)
    for (i, (keys, what)) in Keymap.help.dropFirst(offset).prefix(rows).enumerated() {
      buffer.setString(
        x: inner.x + 1, y: inner.y + 1 + i, keys.padding(toLength: 18, withPad: " ", startingAt: 0), style: palette.highlight)
      buffer.setString(
        x: inner.x + 20, y: inner.y + 1 + i, TextFit.truncate(what, width: max(0, inner.width - 21)), style: palette.text)
    }
  }

}
