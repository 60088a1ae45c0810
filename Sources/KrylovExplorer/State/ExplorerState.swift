import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

/// The panes, in Tab order.
public enum Pane: Int, CaseIterable, Sendable {
  case system, coefficients, observables, attention, ablation

  public var title: String {
    switch self {
    case .system: "system"
    case .coefficients: "coefficients b_n"
    case .observables: "observables C(t), K(t)"
    case .attention: "attention"
    case .ablation: "heads"
    }
  }
}

/// What the current Lanczos run is doing.
public enum RunStatus: Equatable, Sendable {
  case idle
  case preparing
  case running
  case finished(String)
  case cancelled
  case failed(String)
  case refused(String)

  public var label: String {
    switch self {
    case .idle: "idle"
    case .preparing: "building sector"
    case .running: "running"
    case .finished(let why): "done (\(why))"
    case .cancelled: "stopped"
    case .failed: "failed"
    case .refused: "refused"
    }
  }

  public var isActive: Bool { self == .preparing || self == .running }
}

/// The coefficients of the current run as they arrive.
public struct RunData: Equatable, Sendable {
  /// The settings the run was started with (the system pane may have changed since).
  public var settings: SystemSettings?
  public var label = ""
  public var sector = ""
  public var coefficients: [Double] = []
  public var trustedCount = 0
  public var estimatedBytes = 0
  /// Seconds per coefficient, averaged over the last few.
  public var secondsPerStep = 0.0
  public var status = RunStatus.idle
  /// Whole seconds the set-up (sector, class search or classical basis) has taken so far.
  public var setupSeconds = 0.0
  /// The set-up's fraction done, as the engine reports it (0 before its first report).
  public var setupFraction = 0.0
  /// The set-up's seconds left, from its rate so far (nil before there is a rate).
  public var setupSecondsLeft: Double?

  /// b_1..b_trusted.
  public var trusted: [Double] { Array(coefficients.prefix(trustedCount)) }

  /// Whether the run ended because the chain closed (the coefficients are all there are); nil
  /// while it has not finished.
  public var exhausted: Bool? {
    guard case .finished(let reason) = status else { return nil }
    return reason == "exhausted" || reason == "conserved"
  }
}

/// The forecast for the current prefix and ablation, with its baselines and errors.
public struct ForecastData: Sendable {
  public var methods: MethodForecasts
  public init(methods: MethodForecasts) { self.methods = methods }
  /// Errors against the computed coefficients, when they reach the horizon.
  public var errors: MethodErrors?
  /// The unablated transformer's error, for the ablation pane's "baseline → ablated".
  public var unablatedError: Double?
  public var attention: AttentionMaps?
  /// Heads ranked by switching each off alone (the `r` key), or nil before a ranking.
  public var headRanking: HeadRanking?
  /// Attention by lag over the forecast's queries, per head (the `p` key shows the selected one).
  public var lagProfile: LagProfile?
  public var seconds = 0.0
  /// Why the run's system lies outside what the model was trained on, or nil.
  public var outsideTraining: String?
}

/// Everything the screen shows: the render functions read only this.
public struct ExplorerState: Sendable {
  public var settings = SystemSettings()
  public var run = RunData()
  public var forecast: ForecastData?
  /// C(t) and K(t) of what is shown, refreshed in the background as data arrives.
  public var observables: ObservableCurves?
  public var forecastMessage: String?
  /// A run's b_n pinned to the coefficients chart for comparison with later runs (`P`).
  public var pinned: PinnedSequence?
  /// The molecular-dynamics C(t) of a classical run (nil for quantum runs and before it starts).
  public var simulation: SimulationData?
  /// Whether the observables pane overlays the simulated C(t) (the `m` key).
  public var showSimulation = true
  /// Whether the attention pane shows the selected head's attention by lag instead of its map.
  public var showLagProfile = false
  /// Whether the attention map scales each row to its own largest weight (broad heads show
  /// their structure) instead of one scale for the whole map.
  public var attentionRowScale = false
  /// The attention map's cell cursor (Shift-arrows or H J K L in the attention pane; Esc hides
  /// it); the pane's last line reads its weight.
  public var attentionCursor: AttentionCursor?
  /// Whether a head ranking is being computed.
  public var rankingPending = false
  public var modelName = "embedded default"
  public var modelShape: (layers: Int, heads: Int) = (0, 0)

  public var focus = Pane.system
  public var selectedField = 0
  /// The text being typed into a numeric field, if editing.
  public var editing: String?
  public var message: String?
  public var showHelp = false
  /// The first help line shown (↑/↓ scroll the help when the screen is too short for it).
  public var helpOffset = 0
  public var logY = false
  /// b_n, b_n/n or log-log (the `v` key).
  public var coefficientView = CoefficientView.plain
  /// The visible n range of the coefficient chart (zoom and pan).
  public var coefficientZoom = ChartZoom()
  /// The visible t range of C(t) and K(t) (zoom and pan when the observables pane is focused).
  public var observablesZoom = ChartZoom()

  public var selectedLayer = 0
  public var selectedHead = 0
  public var disabledHeads: Set<HeadID> = []
  /// Attention restricted to the last W positions (nil: the whole history).
  public var historyWindow: Int?

  public var themeName = "Default"
  /// Quadrant blocks instead of braille in the charts (`--blocks`, for fonts without braille).
  public var blockGlyphs = false
  /// No colours on this terminal (NO_COLOR, or none to use): the attention map is drawn in
  /// shade glyphs instead of colours.
  public var monochrome = false
  public var quit = false

  public init() {}

  public var ablation: Ablation {
    Ablation(disabledHeads: disabledHeads, history: historyWindow.map { .window($0) } ?? .all)
  }

  public var selectedSettingField: SettingField {
    let fields = settings.fields
    return fields[min(selectedField, fields.count - 1)]
  }
}
