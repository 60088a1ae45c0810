import KrylovAnalysis
import KrylovEngine
import KrylovExplorer
import KrylovForecaster
import KrylovTUI
import Testing

@Suite("Explorer state: keys to actions to state, pure")
struct ExplorerStateTests {
  @Test("Tab cycles the panes forward and back")
  func focusCycle() {
    var s = ExplorerState()
    for pane in [Pane.coefficients, .observables, .attention, .ablation, .system] {
      _ = s.apply(.focusNext)
      #expect(s.focus == pane)
    }
    _ = s.apply(.focusPrevious)
    #expect(s.focus == .ablation)
  }

  @Test("Arrows move through the system fields and change them; changes ask for a run")
  func systemFields() {
    var s = ExplorerState()
    #expect(s.selectedSettingField == .spins)
    _ = s.apply(.down)
    #expect(s.selectedSettingField == .model)
    _ = s.apply(.right)
    #expect(s.settings.model == .tfim)
    #expect(s.settings.parameters.keys.sorted() == ["J", "g"])
    #expect(s.message == "settings changed: press s to run")
    let sizeIndex = s.settings.fields.firstIndex(of: .size)!
    for _ in 1..<sizeIndex { _ = s.apply(.down) }
    #expect(s.selectedSettingField == .size)
    _ = s.apply(.left)
    #expect(s.settings.size == .finite(9))
    // + and − change N from any row of the system pane, and zoom elsewhere.
    _ = s.apply(.zoomIn)
    _ = s.apply(.zoomIn)
    #expect(s.settings.size == .finite(11))
    s.focus = .coefficients
    _ = s.apply(.zoomIn)
    #expect(s.settings.size == .finite(11) && s.coefficientZoom.isZoomed)
  }

  @Test("←/→ on a parameter move it by 0.05 and keep its value; N steps into and out of the infinite chain")
  func nudges() {
    var settings = SystemSettings()
    settings.nudge(.parameter("J"), by: 1)
    #expect(settings.parameters["J"] == 1.05)
    settings.nudge(.parameter("g"), by: -1)
    settings.nudge(.parameter("g"), by: -1)
    #expect(settings.parameters["g"] == -1.15)
    settings.nudge(.parameter("h"), by: 1)
    settings.nudge(.parameter("h"), by: -1)
    #expect(settings.parameters["h"] == 0.5)
    settings.size = .finite(SystemSettings.largestFiniteSize)
    settings.nudge(.size, by: 1)
    #expect(settings.size == .infinite && settings.text(for: .boundary) == "none")
    settings.nudge(.size, by: -1)
    #expect(settings.size == .finite(SystemSettings.largestFiniteSize))
  }

  @Test("Editing a number: typed text is validated, refused in place with the reason")
  func editing() {
    var s = ExplorerState()
    let sizeIndex = s.settings.fields.firstIndex(of: .size)!
    for _ in 0..<sizeIndex { _ = s.apply(.down) }
    _ = s.apply(.enter)
    #expect(s.editing == "10")
    _ = s.apply(.backspace)
    _ = s.apply(.backspace)
    for c in "abc" { _ = s.apply(.type(c)) }
    _ = s.apply(.enter)
    #expect(s.editing == "abc")
    #expect(s.message?.contains("N must be a whole number") == true)
    _ = s.apply(.escape)
    #expect(s.editing == nil && s.settings.size == .finite(10))
    _ = s.apply(.enter)
    _ = s.apply(.backspace)
    _ = s.apply(.backspace)
    for c in "12" { _ = s.apply(.type(c)) }
    _ = s.apply(.enter)
    #expect(s.editing == nil && s.settings.size == .finite(12))
  }

  @Test("Custom Hamiltonian and operator text: parsed on Enter, refused with the parser's reason")
  func customText() throws {
    var s = ExplorerState()
    let index = s.settings.fields.firstIndex(of: .hamiltonianText)!
    for _ in 0..<index { _ = s.apply(.down) }
    _ = s.apply(.enter)
    #expect(s.editing == "")
    for c in "1.0*Z0Z1 + -1.05*Q0" { _ = s.apply(.type(c)) }
    _ = s.apply(.enter)
    #expect(s.editing != nil)
    #expect(s.settings.hamiltonianText == nil)
    let message = try #require(s.message)
    #expect(message.contains("Q"), "\(message)")
    _ = s.apply(.escape)
    _ = s.apply(.enter)
    for c in "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0" { _ = s.apply(.type(c)) }
    _ = s.apply(.enter)
    #expect(s.editing == nil)
    #expect(s.settings.hamiltonianText == "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0")
    let chain = try s.settings.chain()
    #expect(chain.model == .custom(unitCell: "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0") && chain.modelName == nil)
    // The same Hamiltonian as mfim's defaults gives the same coefficients.
    let builtIn = try SpinChain(model: .mfim, size: 6, operator: .szTotal)
    var custom = s.settings
    custom.size = .finite(6)
    let a = LanczosDriver(
      space: try RunPlan(chain: try custom.chain(), steps: 12).buildSpace(), options: LanczosOptions(steps: 12)
    ).run()
    let b = LanczosDriver(space: try RunPlan(chain: builtIn, steps: 12).buildSpace(), options: LanczosOptions(steps: 12)).run()
    for (x, y) in zip(a.coefficients, b.coefficients) { #expect(abs(x - y) < 1e-12 * y) }
    // ←/→ clears it.
    _ = s.apply(.left)
    #expect(s.settings.hamiltonianText == nil)
  }

  @Test("Head toggles and the history window ask for a new forecast")
  func ablationToggles() {
    var s = ExplorerState()
    s.modelShape = (2, 4)
    s.focus = .ablation
    _ = s.apply(.down)
    _ = s.apply(.right)
    #expect(s.apply(.enter) == [.reforecast])
    #expect(s.disabledHeads == [HeadID(layer: 1, head: 1)])
    #expect(s.apply(.narrowWindow) == [.reforecast])
    #expect(s.historyWindow == 64)
    #expect(s.ablation == Ablation(disabledHeads: [HeadID(layer: 1, head: 1)], history: .window(64)))
    #expect(s.apply(.enableAllHeads) == [.reforecast])
    #expect(s.ablation.isNone)
  }

  @Test("Every key-driven action has a key, and every mapped character is in the help")
  func keymapCoversEveryAction() {
    let special: [Key] = [
      .tab, .backTab, .up, .down, .left, .right, .enter, .escape, .backspace, .controlC, .shiftUp, .shiftDown, .shiftLeft,
      .shiftRight,
    ]
    let characters = (32...126).compactMap { Unicode.Scalar($0).map { Character($0) } }
    var reached: [Action] = []
    for key in special + characters.map(Key.character) {
      if let action = Keymap.action(for: key), !reached.contains(action) { reached.append(action) }
    }
    // Actions a key asks for directly; the rest come from typing (type), the mouse (focus,
    // selectHead) or from ← → in the attention and heads panes (layers).
    let keyDriven: [Action] = [
      .quit, .focusNext, .focusPrevious, .up, .down, .left, .right, .enter, .escape, .backspace, .startRun, .stopRun,
      .toggleLogY, .zoomIn, .zoomOut, .toggleSimulation, .toggleHelp, .cycleTheme, .toggleSelectedHead,
      .enableAllHeads, .rankHeads, .toggleLagProfile, .toggleAttentionScale, .narrowWindow, .widenWindow, .resetZoom, .saveScreen,
      .export, .cycleCoefficientView, .moveCursor(rows: -1, columns: 0), .moveCursor(rows: 1, columns: 0),
      .moveCursor(rows: 0, columns: -1), .moveCursor(rows: 0, columns: 1), .togglePin,
    ]
    for action in keyDriven { #expect(reached.contains(action), "no key asks for \(action)") }
    let shown = Keymap.help.map(\.0).joined(separator: " ")
    for c in characters where Keymap.action(for: .character(c)) != nil && c != " " && c != "=" {
      #expect(shown.contains(String(c)), "'\(c)' is mapped but not in the help")
    }
    #expect(shown.contains("space") && Keymap.action(for: .character(" ")) == .toggleSelectedHead)
  }

  @Test("the heads pane lists the ranking with its numbers, or its progress; p shows the selected head's attention by lag")
  func rankingAndLagProfile() throws {
    var s = try fixedStateWithAttention()
    let maps = try #require(s.forecast?.attention)
    var profile = LagProfile(layers: maps.layers, heads: maps.heads)
    profile.add(maps, queries: 29..<99)
    s.forecast?.lagProfile = profile
    func frame() -> String {
      var buffer = CellBuffer(width: 140, height: 45)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return buffer.lines.joined(separator: "\n")
    }
    #expect(frame().contains("r: rank heads"))
    s.rankingPending = true
    #expect(frame().contains("ranking heads…"))
    s.rankingPending = false
    s.forecast?.headRanking = HeadRanking(
      entries: [.init(head: HeadID(layer: 0, head: 3), value: 11.31), .init(head: HeadID(layer: 2, head: 0), value: 5.06)],
      isErrorRatio: true)
    var text = frame()
    #expect(text.contains("error × with head off:"), "\(text)")
    #expect(text.contains("L0H3 ×11.31") && text.contains("L2H0 ×5.06"), "\(text)")
    s.forecast?.headRanking = HeadRanking(entries: [.init(head: HeadID(layer: 1, head: 1), value: 0.042)], isErrorRatio: false)
    #expect(frame().contains("L1H1 Δ4.2%"))

    #expect(!frame().contains("by lag"))
    _ = s.apply(.toggleLagProfile)
    #expect(s.showLagProfile)
    text = frame()
    #expect(text.contains("attention L0 H0 by lag"), "\(text)")
    let shares = profile.shares(HeadID(layer: 0, head: 0))
    #expect(text.contains(String(format: "lag: mean %.1f, 90%% ≤ %d", shares.meanLag, shares.lag90)), "\(text)")
    _ = s.apply(.toggleLagProfile)
    #expect(!frame().contains("by lag"))
    // Without colours the map is drawn in shades (with colours, in half blocks), masked cells blank.
    let attention = try #require(ExplorerFrame.layout(Rect(x: 0, y: 0, width: 140, height: 45))[.attention])
    func mapGlyphs() -> Set<Character> {
      var buffer = CellBuffer(width: 140, height: 45)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      var glyphs: Set<Character> = []
      for y in (attention.y + 1)..<(attention.bottom - 2) {
        for x in (attention.x + 1)..<(attention.right - 1) { glyphs.insert(buffer[x, y].symbol) }
      }
      return glyphs
    }
    #expect(mapGlyphs().isSuperset(of: ["▀"]) && mapGlyphs().isDisjoint(with: ["░", "▒", "▓"]))
    s.monochrome = true
    let shades = mapGlyphs()
    #expect(!shades.contains("▀") && !shades.contains("▄"), "\(shades)")
    #expect(shades.intersection(Set(Heatmap.shadeGlyphs)).count >= 3, "\(shades)")
    s.monochrome = false
    // One scale for the map, or each row its own (n); a switched-off head says it is off.
    #expect(frame().contains("(n: rows)"))
    _ = s.apply(.toggleAttentionScale)
    #expect(frame().contains("row max (n)"))
    s.disabledHeads = [HeadID(layer: 0, head: 0)]
    #expect(frame().contains("off: this head contributes nothing"))
  }

  @Test("the attention map has position ticks, the prefix boundary k, and a cell cursor whose weight the last line reads")
  func attentionAxesAndCursor() throws {
    var s = try fixedStateWithAttention()
    let maps = try #require(s.forecast?.attention)
    let P = maps.positions
    let screen = Rect(x: 0, y: 0, width: 140, height: 45)
    let pane = try #require(ExplorerFrame.layout(screen)[.attention])
    func frame() -> CellBuffer {
      var buffer = CellBuffer(width: 140, height: 45)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return buffer
    }
    func paneLines(_ buffer: CellBuffer) -> [String] {
      buffer.lines[(pane.y + 1)..<(pane.bottom - 1)].map { String(Array($0)[(pane.x + 1)..<(pane.right - 1)]) }
    }
    var lines = paneLines(frame())
    // Query positions down the left ("50┤"), "k" at the prefix's last position on both axes,
    // key positions under the map, and the boundary dotted through the blank future.
    #expect(P == 99 && lines.contains { $0.hasPrefix("50┤") } && lines.contains { $0.hasPrefix(" k┤") }, "\(lines)")
    let keyAxis = lines[lines.count - 2].split(separator: " ").map(String.init)
    #expect(keyAxis.contains("k") && keyAxis.contains("40") && keyAxis.contains("80"), "\(lines)")
    #expect(lines.joined().contains("┊"), "\(lines)")
    #expect(lines.last?.hasPrefix("n=1..\(P)") == true)

    // The cursor: only in the focused attention pane, first where the prefix ends.
    #expect(s.apply(.moveCursor(rows: 1, columns: 0)).isEmpty && s.attentionCursor == nil)
    s.focus = .attention
    _ = s.apply(.moveCursor(rows: 1, columns: 0))
    #expect(s.attentionCursor == AttentionCursor(query: 29, key: 29))
    _ = s.apply(.moveCursor(rows: 1, columns: 0))
    _ = s.apply(.moveCursor(rows: 0, columns: -1))
    #expect(s.attentionCursor == AttentionCursor(query: 30, key: 28))
    // Kept in the causal triangle: the key never passes the query, the query stays on the map.
    _ = s.apply(.moveCursor(rows: 0, columns: 5))
    #expect(s.attentionCursor == AttentionCursor(query: 30, key: 30))
    _ = s.apply(.moveCursor(rows: -3, columns: 0))
    #expect(s.attentionCursor == AttentionCursor(query: 27, key: 27))
    #expect(
      AttentionCursor(query: P - 1, key: 0).moved(rows: 4, columns: -2, positions: P) == AttentionCursor(query: P - 1, key: 0))
    let buffer = frame()
    lines = paneLines(buffer)
    let w = Double(maps.weight(layer: 0, head: 0, query: 27, key: 27))
    #expect(lines.last?.hasPrefix(String(format: "q=28 k=28 w=%.3g", w)) == true, "\(lines)")
    let reversed = (pane.y..<pane.bottom).flatMap { y in (pane.x..<pane.right).filter { buffer[$0, y].style.reverse } }
    #expect(reversed.count == 1)
    _ = s.apply(.escape)
    #expect(s.attentionCursor == nil && paneLines(frame()).last?.hasPrefix("n=1..") == true)
    // Shift-arrows and H J K L ask for it.
    #expect(Keymap.action(for: .shiftLeft) == .moveCursor(rows: 0, columns: -1))
    #expect(Keymap.action(for: .character("J")) == .moveCursor(rows: 1, columns: 0))
  }

  @Test("The keymap's help lists a key for every action it maps")
  func keymap() {
    #expect(Keymap.action(for: .character("q")) == .quit)
    #expect(Keymap.action(for: .controlC) == .quit)
    #expect(Keymap.action(for: .character("?")) == .toggleHelp)
    #expect(Keymap.help.contains { $0.0.contains("q") })
    var s = ExplorerState()
    _ = s.apply(.toggleHelp)
    #expect(s.showHelp)
    _ = s.apply(.escape)
    #expect(!s.showHelp)
  }
}

@Suite("Explorer frames rendered without a terminal")
struct ExplorerFrameTests {
  @Test("Below the minimum size the frame says so and how to quit", arguments: [(40, 10), (1, 1), (0, 0), (79, 24)])
  func tooSmall(size: (Int, Int)) {
    var buffer = CellBuffer(width: size.0, height: size.1)
    ExplorerFrame.render(ExplorerState(), theme: .builtIn, into: &buffer)
    if size.0 >= 20 && size.1 >= 3 {
      #expect(buffer.lines.joined().contains("terminal too small"))
      #expect(buffer.lines.joined().contains("q quits"))
    }
  }

  @Test("The full frame shows every pane's title, the settings and the status line")
  func fullFrame() {
    var buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(ExplorerState(), theme: .builtIn, into: &buffer)
    let text = buffer.lines.joined(separator: "\n")
    for title in ["system", "coefficients b_n", "observables", "attention", "heads"] {
      #expect(text.contains(title), "missing pane \(title)")
    }
    #expect(text.contains("mfim"))
    #expect(text.contains("? help"))
    #expect(buffer.lines.count == 30 && buffer.lines.allSatisfy { $0.count == 100 })
  }

  @Test("A finished run shorter than the horizon says it gives no errors, a running one that they will come")
  func errorsNotice() {
    var s = fixedState()
    s.settings.steps = 30
    s.settings.prefix = 20
    s.run.coefficients = Array(s.run.coefficients.prefix(30))
    s.run.trustedCount = 30
    s.forecast = ForecastData(
      methods: MethodForecasts(
        prefix: Array(s.run.coefficients.prefix(20)), horizon: 70, transformer: Array(repeating: 10, count: 50)))
    var buffer = CellBuffer(width: 160, height: 40)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined().contains("no errors: trusted b_n end at n = 30 < M = 70"))
    s.run.status = .running
    buffer = CellBuffer(width: 160, height: 40)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined().contains("errors appear when the run reaches the horizon M = 70"))
    // A running run that was asked for fewer steps than M will never give errors: say so.
    s.run.settings = s.settings
    buffer = CellBuffer(width: 160, height: 40)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined().contains("no errors: the run stops at n = 30 < M = 70"))
  }

  @Test("text that does not fit is shortened on purpose: the status line keeps ? help, the ablation ratio has its own line")
  func shortenedText() {
    var s = fixedState()
    s.themeName = "a-theme-with-a-very-long-name-that-would-push-everything-else-away"
    var buffer = CellBuffer(width: 80, height: 24)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    let status = buffer.lines[23]
    #expect(status.contains("? help"), "\(status)")
    #expect(status.contains("…"), "\(status)")
    // An ablated forecast: before, after and the ratio, each whole.
    let prefix = Array(s.run.coefficients.prefix(30))
    var data = ForecastData(
      methods: MethodForecasts(prefix: prefix, horizon: 100, transformer: Array(s.run.coefficients[30..<100])))
    data.errors = try? MethodErrors(methods: data.methods, truth: s.run.trusted)
    data.unablatedError = 0.0458
    s.forecast = data
    s.historyWindow = 8
    buffer = CellBuffer(width: 140, height: 45)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    let text = buffer.lines.joined(separator: "\n")
    #expect(text.contains("b_n error 0.0458"), "\(text)")
    #expect(text.contains("ablated 0.0000 (×0.00)"), "\(text)")
    // The system's label wraps instead of losing its end.
    s.run.label = "mfim(J=1, g=-1.05, h=0.5) N=10 pbc, sz_total"
    buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined(separator: "\n").contains("N=10 pbc, sz_total"), "label")
    // While the first run builds its sector, the chart says so instead of asking for s.
    var starting = ExplorerState()
    starting.run.status = .preparing
    buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(starting, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined().contains("building sector… b_n appear"), "building")
    #expect(!buffer.lines.joined().contains("press s to compute"))
    // The legend does not fit beside the window at this width: it goes, the number stays whole.
    #expect(text.contains("history: last 8 ") && !text.contains("last 8…"), "\(text)")
  }

  @Test("without colour every curve is told apart by its line, shown in the legend; the computed b_n is on top")
  func legendsWithoutColour() {
    var s = fixedState()
    let prefix = Array(s.run.coefficients.prefix(30))
    let methods = MethodForecasts(prefix: prefix, horizon: 100, transformer: Array(s.run.coefficients[30..<100]))
    s.forecast = ForecastData(methods: methods)
    var buffer = CellBuffer(width: 140, height: 45)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    let text = buffer.lines.joined(separator: "\n")
    for legend in ["⠒⠒ b_n", "⠒⠂ transformer", "⠂⠂ fit", "⠂⠀ linear AR"] {
      #expect(text.contains(legend), "no '\(legend)' in \(text)")
    }
  }

  @Test("zoom refits y to the visible window and says how to go back; 0 resets; a click selects a setting's row")
  func zoomAndClicks() {
    var s = fixedState()
    s.run.coefficients = (1...120).map { 0.1 * Double($0) }  // rising throughout
    s.focus = .coefficients
    func yLabels() -> [String] {
      var buffer = CellBuffer(width: 100, height: 30)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      // The coefficient chart's y labels: what precedes "┤" in its column, row by row.
      return buffer.lines.prefix(18).compactMap { line in
        let chars = Array(line)
        guard chars.count > 40, let tick = chars[32...40].firstIndex(of: "┤") else { return nil }
        return String(chars[32..<tick]).trimmingCharacters(in: .whitespaces)
      }
    }
    let whole = yLabels()
    _ = s.apply(.zoomIn)
    _ = s.apply(.zoomIn)
    _ = s.apply(.zoomIn)
    #expect(s.coefficientZoom.width < 0.5)
    // The first third of a rising sequence: its own, lower, y range.
    #expect(yLabels() != whole, "\(whole)")
    var buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines[0].contains("zoomed (0: all)"))
    _ = s.apply(.resetZoom)
    #expect(s.coefficientZoom == ChartZoom() && yLabels() == whole)
    // A click on the third row of the system pane (inside its border) selects that setting.
    let screen = Rect(x: 0, y: 0, width: 100, height: 30)
    let actions = ExplorerFrame.actions(for: .click(x: 5, y: 3), screen: screen, state: s)
    #expect(actions.contains(.selectField(2)), "\(actions)")
    for action in actions { _ = s.apply(action) }
    #expect(s.focus == .system && s.selectedField == 2)
  }

  @Test("v cycles b_n, b_n/n and log-log: title and legend name the view, every series is drawn in it")
  func coefficientViews() {
    var s = fixedState()
    // A forecast of the same size as b_n (about 12): drawn as b_n it would set y near 12.
    let prefix = Array(s.run.coefficients.prefix(30))
    s.forecast = ForecastData(
      methods: MethodForecasts(prefix: prefix, horizon: 100, transformer: Array(s.run.coefficients[30..<100])))
    func frame() -> [String] {
      var buffer = CellBuffer(width: 140, height: 45)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return buffer.lines
    }
    let layout = ExplorerFrame.layout(Rect(x: 0, y: 0, width: 140, height: 45))
    let chart = layout[.coefficients]!
    // The y labels of the coefficient chart (left of "┤") and its x labels (under "└").
    func yLabels(_ lines: [String]) -> [Double] {
      lines[(chart.y + 1)..<(chart.bottom - 1)].compactMap { line in
        let row = Array(line)[(chart.x + 1)..<(chart.right - 1)]
        guard let tick = row.firstIndex(of: "┤") else { return nil }
        return Double(String(row[row.startIndex..<tick]).trimmingCharacters(in: .whitespaces))
      }
    }
    func xLabels(_ lines: [String]) -> [String] {
      String(Array(lines[chart.bottom - 2])[(chart.x + 1)..<(chart.right - 1)]).split(separator: " ").map(String.init)
    }
    var lines = frame()
    #expect(s.coefficientView == .plain && lines[chart.y].contains("coefficients b_n  mem"))
    #expect((yLabels(lines).max() ?? 0) >= 10, "\(lines)")
    #expect(s.apply(.cycleCoefficientView).isEmpty)
    #expect(s.coefficientView == .overN)
    lines = frame()
    let text = lines.joined(separator: "\n")
    #expect(lines[chart.y].contains("b_n/n") && text.contains("⠒⠒ b_n/n"), "\(text)")
    // b_n/n of b_n ≤ 12.3 for n up to 120, the forecast included, is at most 0.5: y ends near 1.
    #expect((yLabels(lines).max() ?? 99) <= 1, "\(text)")
    _ = s.apply(.cycleCoefficientView)
    #expect(s.coefficientView == .logLog)
    lines = frame()
    #expect(lines[chart.y].contains("log-log") && lines.joined().contains("⠒⠒ b_n log-log"))
    // Log n: ticks at 1, 10, 100 (a linear axis to 120 would put them at 20, 40, ….).
    #expect(xLabels(lines) == ["1", "10", "100"], "\(xLabels(lines))")
    _ = s.apply(.cycleCoefficientView)
    #expect(s.coefficientView == .plain)
  }

  @Test("C(t) and K(t) are shaded where truncating at n = M shows, by the convergence test, and named in the legend")
  func truncationShading() throws {
    var s = fixedState()
    let curves = try #require(s.observables)
    // The one criterion: C(t), K(t) from all M and from the first 80% (engine), on the curves' grid.
    let expected = try KrylovChainDynamics.convergence(
      coefficients: s.run.trusted, times: curves.times, tolerance: ObservableCurves.convergenceTolerance)
    #expect(curves.convergence == expected && curves.computedCount == 100)
    let tmax = try #require(curves.times.last)
    #expect(expected.complexity < tmax && expected.autocorrelation < tmax && expected.complexity <= expected.autocorrelation)
    let pane = try #require(ExplorerFrame.layout(Rect(x: 0, y: 0, width: 140, height: 60))[.observables])
    func frame() -> (text: String, stipple: [Int]) {
      var buffer = CellBuffer(width: 140, height: 60)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      var columns: [Int] = []
      for y in pane.y..<pane.bottom {
        for x in pane.x..<pane.right where buffer[x, y].symbol == "⡀" && buffer[x, y].style.dim { columns.append(x) }
      }
      return (buffer.lines.joined(separator: "\n"), columns)
    }
    let shaded = frame()
    #expect(shaded.text.contains("⡀  truncated at M=100"), "\(shaded.text)")
    #expect(shaded.stipple.count > 20, "\(shaded.text)")
    // An exhausted chain truncates nothing: no shade, no legend.
    s.observables = ObservableCurves(computed: s.run.trusted, others: [], exhausted: true)
    #expect(s.observables?.convergence == nil)
    let whole = frame()
    #expect(!whole.text.contains("truncated at") && whole.stipple.isEmpty, "\(whole.text)")
    // Zoomed in on the start, before either convergence time: nothing shaded either.
    s.observables = curves
    s.focus = .observables
    for _ in 0..<4 { _ = s.apply(.zoomIn) }
    #expect(s.observablesZoom.width * tmax < expected.complexity && !s.coefficientZoom.isZoomed)
    let start = frame()
    #expect(start.text.contains("zoomed (0: all)") && !start.text.contains("truncated at") && start.stipple.isEmpty)
  }

  @Test("with the observables pane focused, + − ← → and 0 zoom and pan C(t) and K(t), not b_n")
  func observablesZoom() throws {
    var s = fixedState()
    s.focus = .observables
    let pane = try #require(ExplorerFrame.layout(Rect(x: 0, y: 0, width: 100, height: 30))[.observables])
    func xLabels() -> [String] {
      var buffer = CellBuffer(width: 100, height: 30)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return String(Array(buffer.lines[pane.bottom - 3])[(pane.x + 1)..<(pane.right - 1)]).split(separator: " ").map(String.init)
    }
    let whole = xLabels()
    #expect(whole.first == "0", "\(whole)")
    _ = s.apply(.zoomIn)
    _ = s.apply(.zoomIn)
    #expect(s.observablesZoom.isZoomed && !s.coefficientZoom.isZoomed)
    let zoomed = xLabels()
    #expect(zoomed != whole && zoomed.first == "0", "\(zoomed)")
    _ = s.apply(.right)
    #expect(s.observablesZoom.offset > 0)
    #expect(xLabels().first != "0", "\(xLabels())")
    _ = s.apply(.resetZoom)
    #expect(s.observablesZoom == ChartZoom() && xLabels() == whole)
    // Elsewhere 0 resets the coefficient chart and leaves C(t) alone.
    _ = s.apply(.zoomIn)
    s.focus = .coefficients
    _ = s.apply(.zoomIn)
    _ = s.apply(.resetZoom)
    #expect(!s.coefficientZoom.isZoomed && s.observablesZoom.isZoomed)
  }

  @Test("P pins the run's b_n, drawn beside later runs in its own line and named in the legend; P again unpins")
  func pinnedOverlay() throws {
    var s = fixedState()
    #expect(s.apply(.togglePin).isEmpty && s.pinned == nil && s.message == "nothing to pin yet: no trusted b_n")
    s.run.settings = s.settings
    _ = s.apply(.togglePin)
    let pinned = try #require(s.pinned)
    #expect(pinned.label == "mfim N=8" && pinned.coefficients == s.run.trusted)
    // Another system runs: twice the coefficients. Both are drawn, y covers both.
    s.settings.size = .finite(10)
    s.run.settings = s.settings
    s.run.coefficients = s.run.coefficients.map { $0 / 2 }
    let layout = ExplorerFrame.layout(Rect(x: 0, y: 0, width: 140, height: 45))
    let chart = try #require(layout[.coefficients])
    let theme = Theme.builtIn
    func frame() -> CellBuffer {
      var buffer = CellBuffer(width: 140, height: 45)
      ExplorerFrame.render(s, theme: theme, into: &buffer)
      return buffer
    }
    func pinnedCells(_ buffer: CellBuffer) -> Int {
      var count = 0
      for y in chart.y..<chart.bottom {
        for x in chart.x..<chart.right
        where buffer[x, y].style.foreground == theme.gradient("coeff")[100]
          && (0x2801...0x28FF).contains(buffer[x, y].symbol.unicodeScalars.first!.value)
        {
          count += 1
        }
      }
      return count
    }
    var buffer = frame()
    var text = buffer.lines.joined(separator: "\n")
    #expect(text.contains("⠒⠀ mfim N=8 pinned") && text.contains("⠒⠒ b_n"), "\(text)")
    #expect(pinnedCells(buffer) > 20, "\(text)")
    // The pinned b_n reach 12.3, the run's half that: y still reaches 10.
    #expect(buffer.lines[chart.y..<chart.bottom].contains { $0.contains("10┤") }, "\(text)")
    // In the b_n/n view it is drawn as b_n/n too.
    _ = s.apply(.cycleCoefficientView)
    text = frame().lines.joined(separator: "\n")
    #expect(text.contains("⠒⠀ mfim N=8 pinned") && !text.contains("10┤"), "\(text)")
    _ = s.apply(.togglePin)
    buffer = frame()
    #expect(s.pinned == nil && s.message == "unpinned mfim N=8")
    #expect(!buffer.lines.joined().contains("N=8 pinned") && pinnedCells(buffer) == 0)
  }

  @Test("pane titles too long for their border leave out whole parts, never half a number")
  func titlesFit() {
    var s = fixedState()
    s.run.secondsPerStep = 1 / 442.3
    s.coefficientView = .logLog
    s.coefficientZoom.zoomIn()
    s.observablesZoom.zoomIn()
    var buffer = CellBuffer(width: 80, height: 24)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    let layout = ExplorerFrame.layout(Rect(x: 0, y: 0, width: 80, height: 24))
    let top = buffer.lines[0]
    #expect(top.contains("coefficients b_n  442.3 b_n/s") && top.contains("…"), "\(top)")
    #expect(!top.contains("mem ≈") || top.contains("mem ≈ 64 MiB"), "\(top)")
    let observables = buffer.lines[layout[.observables]!.y]
    #expect(observables.contains("observables C(t)"), "\(observables)")
    #expect(!observables.contains("zoomed") || observables.contains("zoomed (0: all)"), "\(observables)")
    // With the room, every part.
    buffer = CellBuffer(width: 200, height: 50)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines[0].contains("coefficients b_n  442.3 b_n/s  mem ≈ 64 MiB  log-log  zoomed (0: all)"))
  }

  @Test("help too long for the screen scrolls with ↑/↓ and says which lines it shows")
  func helpScrolls() {
    var s = fixedState()
    _ = s.apply(.toggleHelp)
    func frame() -> String {
      var buffer = CellBuffer(width: 80, height: 24)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return buffer.lines.joined(separator: "\n")
    }
    #expect(frame().contains("keys (↑↓ 1–"), "\(frame())")
    #expect(frame().contains("Tab / Shift-Tab") && !frame().contains("q / Ctrl-C"))
    for _ in 0..<Keymap.help.count { _ = s.apply(.down) }
    #expect(frame().contains("q / Ctrl-C") && !frame().contains("Tab / Shift-Tab"), "\(frame())")
    _ = s.apply(.escape)
    _ = s.apply(.toggleHelp)
    #expect(s.helpOffset == 0)
  }

  @Test("K(t) goes under C(t) in a narrow but tall pane, and the title names only what is drawn")
  func kUnderC() {
    let s = fixedState()
    func frame(_ width: Int, _ height: Int) -> String {
      var buffer = CellBuffer(width: width, height: height)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return buffer.lines.joined(separator: "\n")
    }
    let tall = frame(100, 60)
    #expect(tall.contains("observables C(t), K(t)") && tall.contains("K computed"), "\(tall)")
    let short = frame(100, 30)
    #expect(short.contains("observables C(t) ") && !short.contains("K computed"), "\(short)")
  }

  @Test("a value typed back to what is running leaves no 'settings changed' behind")
  func settingsBackToRun() throws {
    var s = ExplorerState()
    s.run.settings = s.settings
    s.selectedField = try #require(s.settings.fields.firstIndex(of: .parameter("g")))
    _ = s.apply(.right)
    #expect(s.message == "settings changed: press s to run")
    _ = s.apply(.left)
    #expect(s.message == nil)
  }

  @Test("Mouse clicks and the wheel resolve to the actions keys give")
  func mouse() throws {
    var s = ExplorerState()
    s.modelShape = (4, 4)
    let screen = Rect(x: 0, y: 0, width: 120, height: 36)
    let panes = ExplorerFrame.layout(screen)
    let coefficients = try #require(panes[.coefficients])
    #expect(
      ExplorerFrame.actions(for: .click(x: coefficients.x + 5, y: coefficients.y + 5), screen: screen, state: s) == [
        .focus(.coefficients)
      ])
    #expect(
      ExplorerFrame.actions(for: .wheel(up: true, x: coefficients.x + 5, y: coefficients.y + 5), screen: screen, state: s) == [
        .zoomIn
      ])
    // The label "H2●" of layer 1 in the heads pane: inner x + 4 + 2·4, inner y + 1.
    let heads = try #require(panes[.ablation])
    let click = Key.click(x: heads.x + 1 + 4 + 8, y: heads.y + 1 + 1)
    let actions = ExplorerFrame.actions(for: click, screen: screen, state: s)
    #expect(actions == [.focus(.ablation), .selectHead(layer: 1, head: 2), .toggleSelectedHead])
    for a in actions { _ = s.apply(a) }
    #expect(s.disabledHeads == [HeadID(layer: 1, head: 2)])
    // The frame draws that head as off where the click landed.
    var buffer = CellBuffer(width: 120, height: 36)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines[heads.y + 2].contains("H2○"))
    // Too small: the mouse does nothing.
    #expect(ExplorerFrame.actions(for: click, screen: Rect(x: 0, y: 0, width: 60, height: 20), state: s).isEmpty)
  }

  @Test("The help overlay lists the keys")
  func helpOverlay() {
    var s = ExplorerState()
    _ = s.apply(.toggleHelp)
    var buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    let text = buffer.lines.joined(separator: "\n")
    #expect(text.contains("start (or restart) the run"))
    #expect(text.contains("Tab / Shift-Tab"))
  }
}

@Suite("Quantum and classical spins in the system pane")
struct SpinSwitchTests {
  @Test("the spins row switches the chain to classical spins, with classical steps, prefix and the infinite chain")
  func toggle() throws {
    var settings = SystemSettings()
    #expect(settings.fields.first == .spins)
    #expect(try settings.chain().spins == .quantum)
    settings.nudge(.spins, by: 1)
    #expect(settings.text(for: .spins) == "classical")
    #expect(settings.steps == RunDefaults.of(.classical).steps && settings.prefix == RunDefaults.of(.classical).prefix)
    let chain = try settings.chain()
    #expect(chain.spins == .classical && chain.isInfinite)
    // A classical run plans a classical space: b_1 = |g| for mfim / sz_total (physics.md §6).
    let plan = try RunPlan(chain: chain, steps: 4)
    let result = LanczosDriver(space: try plan.buildSpace(), options: plan.lanczosOptions).run()
    #expect(abs(result.coefficients[0] - 1.05) < 1e-12)
    settings.nudge(.spins, by: -1)
    #expect(try settings.chain().spins == .quantum && settings.steps == 200 && !settings.isInfinite)
  }
}

@Suite("The simulated C(t) in the observables pane")
struct SimulationPaneTests {
  /// A finished classical run on the infinite chain with a simulated C(t) whose band is wide
  /// enough (2σ = 0.2) to show beside its points.
  func classicalState() throws -> ExplorerState {
    var s = ExplorerState()
    s.settings.nudge(.spins, by: 1)
    s.run.label = "classical mfim, infinite chain"
    s.run.coefficients = (1...18).map { 0.56 * Double($0) + 0.3 }
    s.run.trustedCount = 18
    s.run.status = .finished("completed")
    let curves = ObservableCurves(computed: s.run.trusted, others: [])
    s.observables = curves
    let plan = try SimulationPlan(
      settings: s.settings, range: ObservableCurves.timeRange(computed: s.run.trusted), samples: 20_000, seed: 1)
    var data = SimulationData(plan: plan)
    data.done = 20_000
    data.result = SimulatedCorrelation(
      plan: plan, times: curves.times, values: curves.curves[0].c, standardErrors: curves.times.map { $0 > 0 ? 0.1 : 0 },
      samples: 20_000)
    s.simulation = data
    return s
  }

  /// Cells of the observables pane drawn in `color`.
  func cells(in buffer: CellBuffer, color: Color, screen: Rect) -> [(x: Int, y: Int)] {
    let pane = ExplorerFrame.layout(screen)[.observables]!
    var out: [(x: Int, y: Int)] = []
    for y in pane.y..<pane.bottom {
      for x in pane.x..<pane.right where buffer[x, y].style.foreground == color && buffer[x, y].symbol != " " {
        out.append((x, y))
      }
    }
    return out
  }

  @Test("The band and the points are drawn in the md colours, with a legend; m hides them")
  func overlay() throws {
    let theme = Theme.builtIn
    let band = theme.gradient("md")[0]
    let point = theme.gradient("md")[100]
    #expect(band != point)
    var s = try classicalState()
    let screen = Rect(x: 0, y: 0, width: 120, height: 36)
    var buffer = CellBuffer(width: 120, height: 36)
    ExplorerFrame.render(s, theme: theme, into: &buffer)
    let bandCells = cells(in: buffer, color: band, screen: screen)
    let pointCells = cells(in: buffer, color: point, screen: screen)
    // ±0.2 about C(t) over the whole range: a band several dots tall in most plot columns.
    #expect(bandCells.count >= 20)
    // The points lie under the computed C(t) (the truth is drawn on top): they show where
    // they leave the line, and in the legend.
    #expect(pointCells.count >= 2)
    // Band cells are braille dots; the points' cells (one is the legend marker) too.
    #expect(bandCells.allSatisfy { (0x2800...0x28FF).contains(buffer[$0.x, $0.y].symbol.unicodeScalars.first!.value) })
    let text = buffer.lines.joined(separator: "\n")
    #expect(text.contains("MD N=16 ring, 20k ±2σ"))
    #expect(text.contains("MD: 2σ ≤ 0.2"))

    _ = s.apply(.toggleSimulation)
    #expect(!s.showSimulation)
    var hidden = CellBuffer(width: 120, height: 36)
    ExplorerFrame.render(s, theme: theme, into: &hidden)
    #expect(cells(in: hidden, color: band, screen: screen).isEmpty)
    #expect(cells(in: hidden, color: point, screen: screen).isEmpty)
    let hiddenText = hidden.lines.joined(separator: "\n")
    #expect(!hiddenText.contains("MD N=16") && hiddenText.contains("MD hidden (m)"))
  }

  @Test("While the simulation runs, the pane's title shows its progress")
  func progress() throws {
    var s = try classicalState()
    s.simulation?.result = nil
    s.simulation?.done = 8000
    var buffer = CellBuffer(width: 120, height: 36)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined().contains("MD 40%"))
    #expect(!buffer.lines.joined().contains("±2σ"))
    // With a rate: the time left, extrapolated (8000 of 20000 in 8 s: 12 s to go).
    s.simulation?.secondsLeft = RemainingTime.seconds(done: 8000, total: 20_000, elapsed: 8)
    buffer = CellBuffer(width: 120, height: 36)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    #expect(buffer.lines.joined().contains("MD 40% ~12 s left"), "\(buffer.lines)")
  }

  @Test("remaining time from the rate so far, and durations in whole units")
  func remainingTime() {
    #expect(RemainingTime.seconds(done: 0, total: 100, elapsed: 3) == nil)
    #expect(RemainingTime.seconds(done: 25, total: 100, elapsed: 5) == 15)
    #expect(RemainingTime.seconds(done: 100, total: 100, elapsed: 5) == 0)
    #expect(RemainingTime.seconds(done: 5, total: 100, elapsed: .nan) == nil)
    #expect([0.3, 12.4, 200, 7200].map(RemainingTime.text) == ["<1 s", "12 s", "3 min", "2 h"])
    #expect(RemainingTime.seconds(fraction: 0.005, elapsed: 3) == nil)
    #expect(RemainingTime.seconds(fraction: 0.25, elapsed: 5) == 15)
    #expect(RemainingTime.seconds(fraction: 1, elapsed: 5) == 0)
  }

  @Test("a set-up that takes long says for how long in the status line")
  func setupTime() {
    var s = ExplorerState()
    s.run.status = .preparing
    func status() -> String {
      var buffer = CellBuffer(width: 120, height: 36)
      ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
      return buffer.lines[35]
    }
    #expect(status().hasPrefix(" building sector · "), "\(status())")
    s.run.setupSeconds = 7
    #expect(status().hasPrefix(" building sector 7 s · "), "\(status())")
    // Once the engine reports its progress: how far, and how long it still needs.
    s.run.setupFraction = 0.45
    s.run.setupSecondsLeft = 8.6
    #expect(status().hasPrefix(" building sector 45% ~9 s left · "), "\(status())")
    s.run.status = .running
    #expect(status().hasPrefix(" running · "), "\(status())")
  }

  @Test("The ring grows with the window past t = 3, and the legend says where a cut window ends")
  func ringSize() throws {
    var settings = SystemSettings()
    settings.nudge(.spins, by: 1)
    #expect(try SimulationPlan(settings: settings, range: 2.7, samples: 10, seed: 1).sites == 16)
    let longer = try SimulationPlan(settings: settings, range: 4.5, samples: 10, seed: 1)
    #expect(longer.sites == 24 && longer.end == 4.5 && longer.steps == 90)
    let cut = try SimulationPlan(settings: settings, range: 8, samples: 20_000, seed: 1)
    // 30 sites stand in up to t = 5.625; the grid of dt = 0.05 stops at or before it.
    #expect(cut.sites == 30 && abs(cut.end - 5.6) < 1e-12 && cut.steps == 112)
    #expect(cut.legend(samples: 20_000) == "MD N=30 ring, 20k ±2σ, t≤5.6")
    settings.size = .finite(6)
    settings.boundary = .obc
    let finite = try SimulationPlan(settings: settings, range: 8, samples: 512, seed: 1)
    #expect(finite.sites == 6 && finite.end == 8 && finite.legend(samples: 512) == "MD N=6 obc, 512 ±2σ")
  }
}
