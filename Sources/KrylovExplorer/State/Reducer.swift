import KrylovForecaster

/// What the controller must do after an action changed the state.
public enum Effect: Equatable, Sendable {
  case startRun
  case stopRun
  case reforecast
  case rankHeads
  case cycleTheme
  case saveScreen
  case export
}

/// History windows the [ and ] keys step through (nil: the whole history).
let historyWindows: [Int?] = [nil, 64, 32, 16, 8, 4, 2, 1]

extension ExplorerState {
  /// The chart that + − 0 and the arrows zoom and pan: the observables pane's when it is
  /// focused, b_n's from everywhere else.
  var zoomedChart: WritableKeyPath<ExplorerState, ChartZoom> {
    focus == .observables ? \.observablesZoom : \.coefficientZoom
  }

  /// Applies one action; returns the work it asks for.
  ///
  /// Pure: no I/O, so tests drive it directly.
  public mutating func apply(_ action: Action) -> [Effect] {
    if editing != nil { return applyEditing(action) }
    if showHelp {
      if action == .toggleHelp || action == .escape { showHelp = false }
      if action == .down { helpOffset = min(helpOffset + 1, Keymap.help.count - 1) }
      if action == .up { helpOffset = max(helpOffset - 1, 0) }
      if action == .quit {
        quit = true
        return [.stopRun]
      }
      return []
    }
    message = nil
    switch action {
    case .quit:
      quit = true
      return [.stopRun]
    case .focusNext: focus = Pane(rawValue: (focus.rawValue + 1) % Pane.allCases.count) ?? focus
    case .focusPrevious: focus = Pane(rawValue: (focus.rawValue + Pane.allCases.count - 1) % Pane.allCases.count) ?? focus
    case .toggleHelp:
      showHelp = true
      helpOffset = 0
    case .startRun: return [.startRun]
    case .stopRun: return [.stopRun]
    case .toggleLogY: logY.toggle()
    case .cycleCoefficientView: coefficientView = coefficientView.next
    case .togglePin:
      if let old = pinned {
        pinned = nil
        message = "unpinned \(old.label)"
      } else if let sequence = PinnedSequence(run) {
        pinned = sequence
        message = "pinned \(sequence.label): change the system and run (s) to compare"
      } else {
        message = "nothing to pin yet: no trusted b_n"
      }
    case .toggleSimulation:
      showSimulation.toggle()
      if simulation == nil { message = "molecular dynamics follows a classical run (spins: classical, then s)" }
    case .zoomIn, .zoomOut:
      // In the system pane + and − are the quick way to change N; elsewhere they zoom b_n.
      if focus == .system {
        settings.nudge(.size, by: action == .zoomIn ? 1 : -1)
        return settingChanged(.size)
      }
      if action == .zoomIn { self[keyPath: zoomedChart].zoomIn() } else { self[keyPath: zoomedChart].zoomOut() }
    case .resetZoom:
      self[keyPath: zoomedChart].reset()
    case .selectField(let index):
      guard index >= 0, index < settings.fields.count else { return [] }
      focus = .system
      selectedField = index
    case .cycleTheme: return [.cycleTheme]
    case .saveScreen: return [.saveScreen]
    case .export: return [.export]
    case .enableAllHeads:
      disabledHeads = []
      historyWindow = nil
      return [.reforecast]
    case .rankHeads: return [.rankHeads]
    case .toggleLagProfile: showLagProfile.toggle()
    case .toggleAttentionScale: attentionRowScale.toggle()
    case .narrowWindow, .widenWindow:
      let i = historyWindows.firstIndex(of: historyWindow) ?? 0
      let j = action == .narrowWindow ? min(historyWindows.count - 1, i + 1) : max(0, i - 1)
      guard j != i else { return [] }
      historyWindow = historyWindows[j]
      return [.reforecast]
    case .focus(let pane): focus = pane
    case .selectHead(let layer, let head):
      guard layer < modelShape.layers && head < modelShape.heads else { return [] }
      selectedLayer = layer
      selectedHead = head
    case .nextLayer: moveLayer(1)
    case .previousLayer: moveLayer(-1)
    case .toggleSelectedHead: return toggleHead()
    case .moveCursor(let rows, let columns):
      guard focus == .attention, !showLagProfile, let positions = forecast?.attention?.positions, positions > 0 else {
        return []
      }
      // The first press shows the cursor where the prefix ends, on the diagonal.
      let k = min(max((forecast?.methods.prefix.count ?? 1) - 1, 0), positions - 1)
      attentionCursor =
        attentionCursor?.moved(rows: rows, columns: columns, positions: positions) ?? AttentionCursor(query: k, key: k)
    case .up, .down, .left, .right, .enter:
      return navigate(action)
    case .escape:
      if focus == .attention { attentionCursor = nil }
    case .backspace, .type: break
    }
    return []
  }

  private mutating func navigate(_ action: Action) -> [Effect] {
    switch focus {
    case .system:
      let count = settings.fields.count
      switch action {
      case .up: selectedField = (selectedField + count - 1) % count
      case .down: selectedField = (selectedField + 1) % count
      case .left, .right:
        let field = selectedSettingField
        settings.nudge(field, by: action == .left ? -1 : 1)
        selectedField = min(selectedField, settings.fields.count - 1)
        return settingChanged(field)
      case .enter:
        let field = selectedSettingField
        if field.isTyped {
          editing =
            field == .hamiltonianText
            ? settings.hamiltonianText ?? "" : field == .operatorText ? settings.operatorText ?? "" : settings.text(for: field)
        } else {
          settings.nudge(field, by: 1)
          return settingChanged(field)
        }
      default: break
      }
    case .coefficients, .observables:
      switch action {
      case .left: self[keyPath: zoomedChart].pan(-1)
      case .right: self[keyPath: zoomedChart].pan(1)
      case .up: self[keyPath: zoomedChart].zoomIn()
      case .down: self[keyPath: zoomedChart].zoomOut()
      default: break
      }
    case .attention, .ablation:
      switch action {
      case .up: moveHead(-1)
      case .down: moveHead(1)
      case .left: moveLayer(-1)
      case .right: moveLayer(1)
      case .enter: return focus == .ablation ? toggleHead() : []
      default: break
      }
    }
    return []
  }

  private mutating func settingChanged(_ field: SettingField) -> [Effect] {
    if field == .prefix { return [.reforecast] }
    // Back to what is running (a value typed back, a nudge undone): nothing to say.
    var asRun = run.settings
    asRun?.prefix = settings.prefix
    message = asRun == settings ? nil : "settings changed: press s to run"
    return []
  }

  private mutating func applyEditing(_ action: Action) -> [Effect] {
    switch action {
    case .type(let c): editing?.append(c)
    case .backspace: if editing?.isEmpty == false { editing?.removeLast() }
    case .escape: editing = nil
    case .enter:
      let field = selectedSettingField
      if let problem = settings.set(field, text: editing ?? "") {
        message = problem
        return []
      }
      editing = nil
      return settingChanged(field)
    case .quit:
      quit = true
      return [.stopRun]
    default: break
    }
    return []
  }

  private mutating func moveHead(_ d: Int) {
    guard modelShape.heads > 0 else { return }
    selectedHead = (selectedHead + d + modelShape.heads) % modelShape.heads
  }

  private mutating func moveLayer(_ d: Int) {
    guard modelShape.layers > 0 else { return }
    selectedLayer = (selectedLayer + d + modelShape.layers) % modelShape.layers
  }

  private mutating func toggleHead() -> [Effect] {
    guard modelShape.layers > 0 else { return [] }
    let id = HeadID(layer: selectedLayer, head: selectedHead)
    if disabledHeads.contains(id) { disabledHeads.remove(id) } else { disabledHeads.insert(id) }
    return [.reforecast]
  }
}
