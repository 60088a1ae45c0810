import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovExplorer
import KrylovForecaster
import KrylovTUI
import Testing

/// Compares `text` with `Snapshots/<name>.txt`; a missing snapshot, or RECORD_SNAPSHOTS=1,
/// writes the file and fails, so a new baseline is always looked at before it is trusted.
func expectSnapshot(
  _ text: String, named name: String, filePath: String = #filePath, sourceLocation: SourceLocation = #_sourceLocation
) {
  let url = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/\(name).txt")
  let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
  guard !record, let expected = try? String(contentsOf: url, encoding: .utf8) else {
    try? text.write(to: url, atomically: true, encoding: .utf8)
    Issue.record("recorded snapshot \(name).txt; check it and run again", sourceLocation: sourceLocation)
    return
  }
  #expect(text == expected, "frame differs from Snapshots/\(name).txt", sourceLocation: sourceLocation)
}

/// A fixed state: a finished run with known coefficients, some untrusted, no forecast.
func fixedState() -> ExplorerState {
  var s = ExplorerState()
  s.settings.size = .finite(8)
  s.settings.steps = 120
  s.run.label = "mfim(J=1, g=-1.05, h=0.5) N=8 pbc, sz_total"
  s.run.sector = "symmetry translations and reflections"
  s.run.coefficients = (1...120).map { n in n < 25 ? 0.5 * Double(n) : 12 + 0.3 * sin(Double(n)) }
  s.run.trustedCount = 100
  s.run.estimatedBytes = 64 << 20
  s.run.status = .finished("completed")
  s.modelShape = (4, 4)
  s.forecastMessage = "waiting"
  s.observables = ObservableCurves(computed: s.run.trusted, others: [])
  return s
}

/// The fixed state with the embedded model's forecast from b_1..b_30 to n = 100, and its attention.
func fixedStateWithAttention() throws -> ExplorerState {
  var s = fixedState()
  let prefix = Array(s.run.trusted[0..<30])
  let rollout = try DefaultModel.load().forecast(prefix: prefix, horizon: 100, captureAttention: true)
  var data = ForecastData(methods: MethodForecasts(prefix: prefix, horizon: 100, transformer: rollout.values))
  data.attention = try #require(rollout.attention)
  s.forecast = data
  return s
}

@Suite("Whole-screen snapshots")
struct SnapshotTests {
  @Test("A finished run, before the forecast")
  func finishedRun() {
    var buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(fixedState(), theme: .builtIn, into: &buffer)
    expectSnapshot(buffer.styledSnapshot, named: "finished-run")
  }

  @Test("The help overlay over it, with a head switched off and log y")
  func helpOverlay() {
    var s = fixedState()
    _ = s.apply(.toggleLogY)
    s.focus = .ablation
    _ = s.apply(.toggleSelectedHead)
    _ = s.apply(.toggleHelp)
    var buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    expectSnapshot(buffer.styledSnapshot, named: "help-overlay")
  }
}

extension SnapshotTests {
  @Test("b_n/n with a pinned run, and C(t), K(t) zoomed with the truncation shaded")
  func viewsAndPin() {
    var s = fixedState()
    s.pinned = PinnedSequence(label: "mfim N=6", coefficients: s.run.trusted.map { 1.3 * $0 })
    _ = s.apply(.cycleCoefficientView)
    s.focus = .observables
    _ = s.apply(.zoomIn)
    _ = s.apply(.right)
    _ = s.apply(.right)
    var buffer = CellBuffer(width: 100, height: 40)
    ExplorerFrame.render(s, theme: .builtIn, into: &buffer)
    expectSnapshot(buffer.styledSnapshot, named: "views-and-pin")
  }
}

@Suite("Colours the theme gives")
struct PaneColourTests {
  @Test("each pane's outline takes its own theme key, and the focused one the highlight")
  func paneOutlines() throws {
    let text = """
      theme[system_box]="#110000"
      theme[coeff_box]="#002200"
      theme[observable_box]="#000033"
      theme[attention_box]="#440000"
      theme[heads_box]="#005500"
      theme[hi_fg]="#abcdef"
      """
    let (theme, issues) = try ThemeLoader.parse(text, name: "boxes")
    #expect(issues.isEmpty)
    var state = fixedState()
    state.focus = .coefficients
    var buffer = CellBuffer(width: 100, height: 30)
    ExplorerFrame.render(state, theme: theme, into: &buffer)
    let layout = ExplorerFrame.layout(Rect(x: 0, y: 0, width: 100, height: 30))
    let expected: [Pane: String] = [
      .system: "system_box", .coefficients: "hi_fg", .observables: "observable_box", .attention: "attention_box",
      .ablation: "heads_box",
    ]
    for (pane, key) in expected {
      let rect = try #require(layout[pane])
      // The bottom-left corner is outline on every pane (titles sit on the top edge).
      let corner = buffer[rect.x, rect.bottom - 1]
      #expect(corner.style.foreground == theme.color(key), "\(pane) outline")
    }
  }
}
