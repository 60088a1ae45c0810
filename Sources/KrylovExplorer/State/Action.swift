/// Everything a key (or a click) can ask for.
public enum Action: Equatable, Sendable {
  case quit
  case focusNext, focusPrevious
  case up, down, left, right
  case enter, escape, backspace
  case type(Character)
  case startRun, stopRun
  case toggleLogY, zoomIn, zoomOut, resetZoom
  case cycleCoefficientView
  case togglePin
  case toggleSimulation
  case toggleHelp
  case cycleTheme
  case saveScreen
  case export
  case toggleSelectedHead
  case enableAllHeads
  case rankHeads
  case toggleLagProfile
  case toggleAttentionScale
  case narrowWindow, widenWindow
  case nextLayer, previousLayer
  /// Moves the attention map's cell cursor by queries (rows) and keys (columns).
  case moveCursor(rows: Int, columns: Int)
  case focus(Pane)
  case selectHead(layer: Int, head: Int)
  /// A row of the system pane (a click on it).
  case selectField(Int)
}

/// The keymap: one table from keys to actions, which the help overlay also lists.
public enum Keymap {
  /// (keys as shown, what they do) for the help overlay.
  public static let help: [(String, String)] = [
    ("Tab / Shift-Tab", "next / previous pane"),
    ("↑ ↓ / k j", "move in a pane (system: field; attention & heads: head)"),
    ("← → / h l", "change the field; pan the chart; previous / next layer"),
    ("Enter", "type a value (numbers, custom H and O); heads pane: toggle the head"),
    ("Esc", "cancel editing, close help, hide the attention cursor"),
    ("s", "start (or restart) the run with the system's settings"),
    ("x", "stop the run (and its molecular dynamics)"),
    ("g", "log / linear y axis"),
    ("v", "coefficient chart: b_n, b_n/n, log-log"),
    ("P", "pin this run's b_n on the chart to compare with the next runs / unpin"),
    ("m", "show / hide the molecular-dynamics C(t) of a classical run"),
    ("+ / -", "N up / down (system pane); zoom C(t), K(t) (observables) or b_n"),
    ("0", "the whole chart again: C(t), K(t) (observables pane) or b_n"),
    ("space", "switch the selected head off / on"),
    ("a", "all heads on, full history"),
    ("r", "rank heads: the error × with each one off, listed in the heads pane"),
    ("b_n error", "heads pane: the forecast's relative RMS error on b_k+1..b_M"),
    ("p", "attention pane: the selected head's attention by lag / its map"),
    ("Shift-←↑↓→ / HJKL", "attention map: move the cell cursor, its weight below (Esc hides it)"),
    ("n", "attention map: each row scaled to its own largest weight / one scale"),
    ("[ / ]", "narrow / widen the history window heads may use"),
    ("t", "next theme"),
    ("w", "write the screen as text to krylov-screen-<date>-<time>.txt"),
    ("e", "export b_n, the forecast and C(t), K(t) as the CLI's JSON: krylov-export-<date>-<time>-*.json"),
    ("?", "this help"),
    ("mouse", "click a pane to focus it, a head to switch it; wheel zooms b_n"),
    ("q / Ctrl-C", "quit"),
  ]

  /// The action of a key outside text editing.
  public static func action(for key: Key) -> Action? {
    switch key {
    case .tab: .focusNext
    case .backTab: .focusPrevious
    case .up: .up
    case .down: .down
    case .left: .left
    case .right: .right
    case .shiftUp: .moveCursor(rows: -1, columns: 0)
    case .shiftDown: .moveCursor(rows: 1, columns: 0)
    case .shiftLeft: .moveCursor(rows: 0, columns: -1)
    case .shiftRight: .moveCursor(rows: 0, columns: 1)
    case .enter: .enter
    case .escape: .escape
    case .backspace: .backspace
    case .controlC: .quit
    case .resize, .click, .wheel: nil
    case .character(let c):
      switch c {
      case "q": .quit
      case "k": .up
      case "j": .down
      case "h": .left
      case "l": .right
      case "K": .moveCursor(rows: -1, columns: 0)
      case "J": .moveCursor(rows: 1, columns: 0)
      case "H": .moveCursor(rows: 0, columns: -1)
      case "L": .moveCursor(rows: 0, columns: 1)
      case "s": .startRun
      case "x": .stopRun
      case "g": .toggleLogY
      case "v": .cycleCoefficientView
      case "P": .togglePin
      case "m": .toggleSimulation
      case "+", "=": .zoomIn
      case "-": .zoomOut
      case "0": .resetZoom
      case "?": .toggleHelp
      case "t": .cycleTheme
      case "w": .saveScreen
      case "e": .export
      case " ": .toggleSelectedHead
      case "a": .enableAllHeads
      case "r": .rankHeads
      case "p": .toggleLagProfile
      case "n": .toggleAttentionScale
      case "[": .narrowWindow
      case "]": .widenWindow
      default: nil
      }
    }
  }
}

/// A key as the run loop reads it from the terminal.
public enum Key: Equatable, Sendable {
  case character(Character)
  case up, down, left, right
  case shiftUp, shiftDown, shiftLeft, shiftRight
  case tab, backTab, enter, escape, backspace
  case controlC
  case resize
  /// A mouse click (left button) or wheel turn at a cell.
  case click(x: Int, y: Int)
  case wheel(up: Bool, x: Int, y: Int)
}
