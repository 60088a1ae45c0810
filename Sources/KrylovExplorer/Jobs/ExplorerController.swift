import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

/// Owns the state on the UI thread and the background work that feeds it.
///
/// Lanczos runs are `LanczosJob`s (their own thread); forecasts run on a serial queue, C(t) and
/// K(t) on another, and the molecular dynamics of a classical run on a third (its samples spread
/// over every core). All post to the mailbox; `pump()` folds the messages into the state. Every
/// request carries an id, and replies to superseded requests are dropped, so the state never
/// shows a stale result.
public final class ExplorerController {
  public private(set) var state: ExplorerState

  /// Tells the screen whether the terminal shows colours (the run loop knows once it opens it).
  public func setMonochrome(_ monochrome: Bool) { state.monochrome = monochrome }
  /// The forecaster and its name for each kind of spins (the same model for both when a
  /// checkpoint was named).
  private let forecasters: [SpinKind: (model: Forecaster, name: String)]
  private let missingModelName: String
  /// The model for the current run's spins (the system pane's when nothing has run yet).
  private var forecaster: Forecaster? { forecasters[(state.run.settings ?? state.settings).spins]?.model }
  private let mailbox = Mailbox()
  private let forecastQueue = DispatchQueue(label: "krylov.forecast", qos: .userInitiated)
  private let observablesQueue = DispatchQueue(label: "krylov.observables", qos: .utility)
  private var observablesGeneration = 0
  private var observablesPending = false
  private var observablesDirty = false
  private var job: LanczosJob?
  private let simulationQueue = DispatchQueue(label: "krylov.simulation", qos: .utility)
  private var simulationCancel: CancellationFlag?
  /// When the current simulation started (for its remaining time).
  private var simulationStart = Date()
  /// When the current run started (for the time its set-up takes).
  private var runStart = Date()
  /// Simulations started and not yet replied to, superseded ones included.
  private var simulationsInFlight = 0
  /// Samples and seed of the molecular dynamics that follows each classical run.
  public var simulationSamples = SimulationPlan.defaultSamples
  public var simulationSeed: UInt64 = 1
  private var runID = 0
  private var generation = 0
  private var forecastRequestedFor: Int?
  private var stepTimes: [Double] = []
  public var themes: [String] = ["Default"]
  public var onThemeChange: (String) -> Void = { _ in }
  /// The frame on screen as text, trailing blanks trimmed (the app renders it at the
  /// terminal's size), for `w`.
  public var screenText: () -> [String] = { [] }
  /// Where `w` writes the screen (the working directory unless set).
  public var screenDirectory = FileManager.default.currentDirectoryPath

  /// One model for every system.
  public convenience init(state: ExplorerState = ExplorerState(), forecaster: Forecaster?, modelName: String) {
    let both = forecaster.map { f in Dictionary(uniqueKeysWithValues: SpinKind.allCases.map { ($0, (model: f, name: modelName)) })
    }
    self.init(state: state, forecasters: both ?? [:], missingModelName: modelName)
  }

  /// A model per kind of spins (the embedded quantum and classical models); a kind without one
  /// gets no forecast.
  public init(
    state: ExplorerState = ExplorerState(), forecasters: [SpinKind: (model: Forecaster, name: String)],
    missingModelName: String = "none"
  ) {
    self.state = state
    self.forecasters = forecasters
    self.missingModelName = missingModelName
    showModel(for: state.settings.spins)
  }

  /// Names the model the coming forecasts use, in the state the panes draw.
  private func showModel(for spins: SpinKind) {
    if let f = forecasters[spins] {
      state.modelName = f.name
      let shape = (layers: f.model.config.layers, heads: f.model.config.heads)
      if shape != state.modelShape {
        // Another shape: keep the attention selection and the ablation within the new model.
        state.selectedLayer = min(state.selectedLayer, shape.layers - 1)
        state.selectedHead = min(state.selectedHead, shape.heads - 1)
        state.disabledHeads = state.disabledHeads.filter { $0.layer < shape.layers && $0.head < shape.heads }
      }
      state.modelShape = shape
      if state.forecastMessage == "no forecaster model loaded" { state.forecastMessage = nil }
    } else {
      state.modelName = missingModelName
      state.forecastMessage = "no forecaster model loaded"
    }
  }

  /// Shows a message in the system pane (a problem at start-up, say).
  public func showMessage(_ text: String) { state.message = text }

  /// Handles one action from the keyboard.
  public func handle(_ action: Action) {
    for effect in state.apply(action) { perform(effect) }
  }

  /// Folds finished background work into the state; returns whether anything changed.
  @discardableResult
  public func pump() -> Bool {
    let messages = mailbox.drain()
    for m in messages { receive(m) }
    // A set-up reports nothing until it ends: the seconds it has taken, once a second.
    var ticked = false
    if state.run.status == .preparing {
      let seconds = Date().timeIntervalSince(runStart).rounded(.down)
      ticked = seconds != state.run.setupSeconds
      state.run.setupSeconds = seconds
    }
    return !messages.isEmpty || ticked
  }

  /// Blocks until the current run ends and every forecast and simulation is in (for scripted
  /// rendering).
  public func waitUntilIdle(timeout: Double) {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      pump()
      let forecastPending = forecastRequestedFor != nil
      if !state.run.status.isActive && !forecastPending && !observablesPending && !observablesDirty
        && simulationsInFlight == 0 && !state.rankingPending
      {
        return
      }
      Thread.sleep(forTimeInterval: 0.01)
    }
  }

  /// Stops the run and its simulation before the app exits.
  ///
  /// Background work still in flight (a forecast, the C(t) eigendecomposition of a long
  /// sequence) is not waited for: the app leaves through `_exit`, which skips the libraries'
  /// exit-time clean-up that such work could trip over.
  public func shutdown() {
    job?.cancel()
    simulationCancel?.set()
  }

  public func perform(_ effect: Effect) {
    switch effect {
    case .startRun: startRun()
    case .stopRun:
      job?.cancel()
      simulationCancel?.set()
    case .reforecast: requestForecast()
    case .rankHeads: requestRanking()
    case .cycleTheme:
      guard !themes.isEmpty else { return }
      let i = themes.firstIndex(of: state.themeName) ?? -1
      state.themeName = themes[(i + 1) % themes.count]
      onThemeChange(state.themeName)
    case .saveScreen: saveScreen()
    case .export: export()
    }
  }

  /// `<prefix>-<date>-<time>`, with a number added if a file of that stem with any of
  /// `suffixes` exists: files are never overwritten.
  private func freshStem(_ prefix: String, suffixes: [String]) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.locale = Locale(identifier: "en_US_POSIX")
    let base = prefix + "-" + formatter.string(from: Date())
    var stem = base
    var n = 1
    while suffixes.contains(where: { FileManager.default.fileExists(atPath: screenDirectory + "/" + stem + $0) }) {
      n += 1
      stem = "\(base)-\(n)"
    }
    return stem
  }

  /// Writes the frame on screen as text to `krylov-screen-<date>-<time>.txt` (a number is
  /// added rather than overwrite a file), atomically, and says where in the status message.
  private func saveScreen() {
    let lines = screenText()
    guard !lines.isEmpty else {
      state.message = "no screen to save"
      return
    }
    let name = freshStem("krylov-screen", suffixes: [".txt"]) + ".txt"
    do {
      try (lines.joined(separator: "\n") + "\n").write(toFile: screenDirectory + "/" + name, atomically: true, encoding: .utf8)
      state.message = "screen saved to \(name)"
    } catch {
      state.message = "the screen was not saved: \(InputFile.reason(error))"
    }
  }

  /// Writes what is on screen as the files the CLI writes and reads: the run's coefficients
  /// (`krylov lanczos` JSON, with its system and trusted count), the forecast (`krylov
  /// forecast` JSON) and C(t), K(t) of the computed coefficients (`krylov observe` JSON), as
  /// `krylov-export-<date>-<time>-{b,forecast,observables}.json`; the status names them.
  private func export() {
    let run = state.run
    guard !run.coefficients.isEmpty else {
      state.message = "nothing to export yet: no coefficients"
      return
    }
    let suffixes = ["-b.json", "-forecast.json", "-observables.json"]
    let stem = freshStem("krylov-export", suffixes: suffixes)
    var written: [String] = []
    do {
      let chain = try? (run.settings ?? state.settings).chain()
      let exhausted = run.exhausted
      let b = CoefficientDocument(system: chain, b: run.coefficients, trusted: run.trustedCount, exhausted: exhausted)
      try write(CoefficientFile.json(b), to: stem + suffixes[0], into: &written)
      if let forecast = state.forecast {
        let told = SystemToldRecord(
          forecast.methods.context, modelReadsSystem: forecaster?.readsSystem ?? false,
          outsideTraining: forecast.outsideTraining)
        let name = forecasters[(run.settings ?? state.settings).spins]?.name ?? missingModelName
        let document = ForecastDocument(methods: forecast.methods, errors: forecast.errors, model: name, told: told)
        try write(CoefficientFile.json(document), to: stem + suffixes[1], into: &written)
      }
      if let curves = state.observables, let computed = curves.curves.first(where: { $0.source == .computed }) {
        let document = ObservablesDocument(
          t: curves.times, C: computed.c, K: computed.k, coefficients: run.trustedCount, exhausted: exhausted ?? false,
          convergedUntil: .unknown)
        try write(CoefficientFile.json(document), to: stem + suffixes[2], into: &written)
      }
      state.message = "exported " + written.joined(separator: ", ")
    } catch {
      let done = written.isEmpty ? "" : " (written: \(written.joined(separator: ", ")))"
      state.message = "export failed: \(InputFile.reason(error))\(done)"
    }
  }

  private func write(_ text: String, to name: String, into written: inout [String]) throws {
    try text.write(toFile: screenDirectory + "/" + name, atomically: true, encoding: .utf8)
    written.append(name)
  }

  // MARK: - Runs

  public func startRun() {
    let settings = state.settings
    // A system that cannot run (invalid, or over the memory limit) is refused with the reason
    // and leaves the current run and its results on screen.
    let chain: SpinChain
    let plan: RunPlan
    do {
      chain = try settings.chain()
      plan = try RunPlan(chain: chain, steps: settings.steps)
      try plan.checkMemory(limit: RunPlan.defaultMemoryLimit)
    } catch let error as MemoryGuardError {
      state.message = "not run: " + error.description
      return
    } catch {
      state.message = "not run: \(error)"
      return
    }
    job?.cancel()
    simulationCancel?.set()
    simulationCancel = nil
    runID += 1
    state.forecast = nil
    state.observables = nil
    state.simulation = nil
    state.forecastMessage = nil
    forecastRequestedFor = nil
    stepTimes = []
    showModel(for: settings.spins)
    var run = RunData()
    run.settings = settings
    run.label = chain.label
    run.estimatedBytes = plan.estimatedBytes
    run.status = .preparing
    state.run = run
    runStart = Date()
    let id = runID
    let mailbox = self.mailbox
    job = LanczosJob(plan: plan, options: plan.lanczosOptions) { event in
      switch event {
      case .setupProgress(let fraction): mailbox.post(.runSetupProgress(runID: id, fraction: fraction))
      case .started(let sector, _, _): mailbox.post(.runStarted(runID: id, sector: sector))
      case .step(let step): mailbox.post(.runStep(runID: id, step))
      case .finished(let result): mailbox.post(.runFinished(runID: id, result))
      case .failed(let why), .refused(let why): mailbox.post(.runFailed(runID: id, why))
      }
    }
  }

  private func receive(_ message: JobMessage) {
    switch message {
    case .runSetupProgress(let id, let fraction):
      guard id == runID, state.run.status == .preparing, fraction > state.run.setupFraction else { return }
      state.run.setupFraction = fraction
      state.run.setupSecondsLeft = RemainingTime.seconds(fraction: fraction, elapsed: Date().timeIntervalSince(runStart))
    case .runStarted(let id, let sector):
      guard id == runID else { return }
      state.run.sector = sector
      state.run.status = .running
    case .runStep(let id, let step):
      guard id == runID else { return }
      state.run.coefficients.append(step.b)
      if step.trusted { state.run.trustedCount = step.n }
      stepTimes.append(step.seconds)
      if stepTimes.count > 20 { stepTimes.removeFirst(stepTimes.count - 20) }
      state.run.secondsPerStep = stepTimes.reduce(0, +) / Double(stepTimes.count)
      if state.forecast == nil && forecastRequestedFor == nil && state.run.trustedCount >= state.settings.prefix {
        requestForecast()
      }
      requestObservables()
    case .runFinished(let id, let result):
      guard id == runID else { return }
      state.run.coefficients = result.coefficients
      state.run.trustedCount = result.trustedCount
      state.run.status = result.stopReason == .cancelled ? .cancelled : .finished(result.stopReason.rawValue)
      job = nil
      requestForecast()
      requestObservables()
      if result.stopReason != .cancelled { startSimulation() }
    case .runFailed(let id, let why):
      guard id == runID else { return }
      state.run.status = .failed(why)
      state.message = why
      job = nil
    case .forecast(let g, let data):
      guard g == generation else { return }
      state.forecast = data
      state.forecastMessage = nil
      forecastRequestedFor = nil
      requestObservables()
    case .forecastFailed(let g, let why):
      guard g == generation else { return }
      state.forecastMessage = why
      forecastRequestedFor = nil
    case .ranking(let g, let ranking):
      guard g == generation else { return }
      state.rankingPending = false
      guard state.forecast != nil else { return }
      state.forecast?.headRanking = ranking
      if ranking == nil { state.message = "the head ranking failed" }
    case .observables(let g, let curves):
      observablesPending = false
      if g == observablesGeneration { state.observables = curves }
      if observablesDirty { requestObservables() }
    case .simulationProgress(let id, let samples):
      guard id == runID, let done = state.simulation?.done else { return }
      // Workers report after their chunks, so the counts can arrive out of order.
      state.simulation?.done = max(done, samples)
      if let total = state.simulation?.plan.samples {
        state.simulation?.secondsLeft = RemainingTime.seconds(
          done: max(done, samples), total: total, elapsed: Date().timeIntervalSince(simulationStart))
      }
    case .simulation(let id, let result):
      simulationsInFlight -= 1
      guard id == runID else { return }
      state.simulation?.result = result
      state.simulation?.done = result.samples
      simulationCancel = nil
    case .simulationFailed(let id, let why):
      simulationsInFlight -= 1
      guard id == runID else { return }
      state.simulation?.failure = why
      simulationCancel = nil
    }
  }

  // MARK: - Molecular dynamics

  /// Starts the molecular-dynamics C(t) of a classical run once its coefficients are in.
  ///
  /// The window is then the observables pane's final time range, and the simulation does not
  /// slow the run it checks (both would share the same cores). Quantum runs have none.
  private func startSimulation() {
    guard let settings = state.run.settings, settings.spins == .classical else { return }
    let computed = state.run.trusted
    guard computed.count >= 2 else { return }
    guard
      let plan = try? SimulationPlan(
        settings: settings, range: ObservableCurves.timeRange(computed: computed), samples: simulationSamples,
        seed: simulationSeed)
    else { return }
    state.simulation = SimulationData(plan: plan)
    simulationStart = Date()
    let cancel = CancellationFlag()
    simulationCancel = cancel
    simulationsInFlight += 1
    let id = runID
    let mailbox = self.mailbox
    simulationQueue.async {
      do {
        let result = try SimulatedCorrelation.run(
          plan: plan, computed: computed, isCancelled: { cancel.isSet },
          progress: { mailbox.post(.simulationProgress(runID: id, samples: $0)) })
        if let result {
          mailbox.post(.simulation(runID: id, result))
        } else {
          mailbox.post(.simulationFailed(runID: id, "stopped before any samples finished"))
        }
      } catch {
        mailbox.post(.simulationFailed(runID: id, "\(error)"))
      }
    }
  }

  /// Recomputes C(t) and K(t) in the background; while one computation runs, later requests
  /// collapse into one that starts when it ends (so a fast stream never queues up work).
  private func requestObservables() {
    let computed = state.run.trusted
    guard computed.count >= 2 else { return }
    if observablesPending {
      observablesDirty = true
      return
    }
    observablesDirty = false
    observablesPending = true
    observablesGeneration += 1
    let g = observablesGeneration
    var others: [(ObservableCurves.Source, [Double])] = []
    if let f = state.forecast {
      others.append((.transformer, f.methods.prefix + f.methods.transformer))
      if let best = f.methods.baselines.first(where: { $0.name == "best_fit" }) {
        others.append((.fit, f.methods.prefix + best.values))
      }
    }
    var edges: [[Double]] = []
    if let f = state.forecast, let band = f.methods.band {
      edges = [f.methods.prefix + band.lower, f.methods.prefix + band.upper]
    }
    let mailbox = self.mailbox
    let sequences = others
    let bandEdges = edges
    // An exhausted chain truncates nothing, unless untrusted coefficients were left out.
    let exhausted = state.run.exhausted == true && computed.count == state.run.coefficients.count
    observablesQueue.async {
      let curves = ObservableCurves(computed: computed, others: sequences, bandEdges: bandEdges, exhausted: exhausted)
      mailbox.post(.observables(generation: g, curves))
    }
  }

  // MARK: - Forecasts

  /// What the forecaster is told of the chain whose coefficients are shown: the run's size
  /// and boundary, not the settings being edited.
  private var runContext: SystemContext {
    state.run.settings.map { SystemContext(ChainGeometry(size: $0.size, boundary: $0.boundary)) } ?? .unknown
  }

  private func requestForecast() {
    guard let forecaster else { return }
    let k = state.settings.prefix
    let trusted = state.run.trusted
    guard trusted.count >= k else {
      if !state.run.status.isActive && !state.run.coefficients.isEmpty {
        state.forecastMessage = "only \(trusted.count) trusted coefficients: the prefix k = \(k) needs more"
      }
      return
    }
    generation += 1
    state.rankingPending = false  // a ranking of the previous forecast is dropped when it arrives
    forecastRequestedFor = generation
    let g = generation
    let M = state.settings.horizon
    let ablation = state.ablation
    let context = runContext
    let mailbox = self.mailbox
    forecastQueue.async {
      let start = Date()
      do {
        let prefix = Array(trusted[0..<k])
        // Attention is captured when it fits (L·NH·M² weights); a longer forecast goes without maps.
        let capture = forecaster.attentionBytes(horizon: M) <= Forecaster.maximumAttentionBytes
        let rollout = try forecaster.forecast(
          prefix: prefix, horizon: M, context: context, ablation: ablation, captureAttention: capture)
        let methods = MethodForecasts(
          prefix: prefix, horizon: M, transformer: rollout.values, band: rollout.band, context: rollout.context)
        var data = ForecastData(methods: methods)
        data.attention = rollout.attention
        if let maps = rollout.attention {
          var profile = LagProfile(layers: maps.layers, heads: maps.heads)
          profile.add(maps, queries: (k - 1)..<(M - 1))
          data.lagProfile = profile
        }
        data.outsideTraining = forecaster.outsideTraining(context)
        if trusted.count >= M {
          data.errors = try? MethodErrors(methods: methods, truth: trusted)
          if ablation.isNone {
            data.unablatedError = data.errors?.coefficients["transformer"]
          } else {
            let plain = try forecaster.forecast(prefix: prefix, horizon: M, context: context).values
            data.unablatedError = relativeRMSError(plain, Array(trusted[k..<M]))
          }
        }
        data.seconds = Date().timeIntervalSince(start)
        mailbox.post(.forecast(generation: g, data))
      } catch {
        mailbox.post(.forecastFailed(generation: g, "\(error)"))
      }
    }
  }

  private func requestRanking() {
    guard let forecaster, state.forecast != nil else {
      state.message = "no forecast to rank heads on yet"
      return
    }
    let k = state.settings.prefix
    let M = state.settings.horizon
    let trusted = state.run.trusted
    guard trusted.count >= k else { return }
    let g = generation
    let base = state.ablation
    let context = runContext
    let mailbox = self.mailbox
    state.rankingPending = true
    forecastQueue.async {
      let study = AblationStudy(forecaster: forecaster, trusted: trusted, prefix: k, horizon: M, context: context)
      mailbox.post(.ranking(generation: g, try? study.headRanking(base: base)))
    }
  }
}
