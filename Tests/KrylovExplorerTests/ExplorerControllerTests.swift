import Foundation
import KrylovEngine
import KrylovExplorer
import KrylovForecaster
import KrylovTUI
import Testing

/// A small random model: the controller's plumbing does not depend on forecast quality.
func smallForecaster() -> Forecaster {
  let model = Transformer<Float>(config: ForecasterConfig(layers: 2, heads: 2, channels: 8))
  model.initialize(seed: 5)
  return Forecaster(model: model)
}

/// A controller set to run mfim / N = 6 for `steps` coefficients and forecast from 20, not
/// yet started.
func smallController(steps: Int) -> ExplorerController {
  var state = ExplorerState()
  state.settings.size = .finite(6)
  state.settings.steps = steps
  state.settings.prefix = 20
  return ExplorerController(state: state, forecaster: smallForecaster(), modelName: "test")
}

@Suite("Explorer controller: real runs and forecasts in the background")
struct ExplorerControllerTests {
  @Test("A run streams into the state, then the forecast and its errors arrive")
  func runAndForecast() throws {
    let controller = smallController(steps: 80)
    controller.startRun()
    controller.waitUntilIdle(timeout: 60)
    let s = controller.state
    #expect(s.run.status == .finished("completed"))
    #expect(s.run.coefficients.count == 80)
    // The streamed values are the engine's own: compare with a direct run.
    let plan = try RunPlan(chain: try s.settings.chain(), steps: 80)
    let direct = LanczosDriver(space: try plan.buildSpace(), options: plan.lanczosOptions).run()
    #expect(s.run.coefficients == direct.coefficients)
    let forecast = try #require(s.forecast)
    #expect(forecast.methods.transformer.count == 60)
    #expect(forecast.errors != nil)
    #expect(forecast.attention?.positions == 79)
    // C(t) and K(t) of the computed sequence, prefix + transformer and prefix + fit.
    let curves = try #require(s.observables)
    #expect(curves.curves.map(\.source) == [.computed, .transformer, .fit])
    #expect(curves.curves.allSatisfy { abs($0.c[0] - 1) < 1e-12 && abs($0.k[0]) < 1e-12 })

    controller.handle(.focusNext)
    controller.handle(.focusNext)
    controller.handle(.focusNext)
    controller.handle(.focusNext)
    controller.handle(.enter)
    controller.waitUntilIdle(timeout: 30)
    let ablated = try #require(controller.state.forecast)
    #expect(controller.state.disabledHeads == [HeadID(layer: 0, head: 0)])
    // The forecaster is told the run's chain: N = 6, periodic.
    let expected = try smallForecaster().forecast(
      prefix: Array(s.run.coefficients[0..<20]), horizon: 80, context: .finite(6),
      ablation: Ablation(disabledHeads: [HeadID(layer: 0, head: 0)]))
    #expect(ablated.methods.transformer == expected.values)
    let blind = try smallForecaster().forecast(
      prefix: Array(s.run.coefficients[0..<20]), horizon: 80, context: .unknown,
      ablation: Ablation(disabledHeads: [HeadID(layer: 0, head: 0)]))
    #expect(ablated.methods.transformer != blind.values)
    #expect(ablated.unablatedError == forecast.errors?.coefficients["transformer"])
  }

  @Test("The set-up's progress reaches the state while the sector is built")
  func setupProgress() throws {
    var state = ExplorerState()
    state.settings.size = .finite(11)
    state.settings.steps = 3
    let controller = ExplorerController(state: state, forecaster: smallForecaster(), modelName: "test")
    controller.startRun()
    var fractions: [Double] = []
    let deadline = Date().addingTimeInterval(60)
    while controller.state.run.status == .preparing && Date() < deadline {
      controller.pump()
      if fractions.last != controller.state.run.setupFraction { fractions.append(controller.state.run.setupFraction) }
      Thread.sleep(forTimeInterval: 0.001)
    }
    controller.waitUntilIdle(timeout: 60)
    // The sector's last matrix reports 100% before the run starts; what the state saw rose.
    #expect(controller.state.run.setupFraction == 1)
    #expect(fractions == fractions.sorted())
    #expect(controller.state.run.status == .finished("completed"))
  }

  @Test("A run over the memory limit is refused with the reason, and the results on screen stay")
  func refusal() {
    var state = ExplorerState()
    // A finished run with its coefficients, as after an earlier run.
    state.run.coefficients = [1, 2, 3]
    state.run.trustedCount = 3
    state.run.status = .finished("completed")
    state.settings.size = .finite(20)
    state.settings.operatorName = .z0
    let controller = ExplorerController(state: state, forecaster: nil, modelName: "none")
    controller.startRun()
    let why = controller.state.message ?? ""
    #expect(why.hasPrefix("not run: "), "\(why)")
    #expect(why.contains("largest") || why.contains("memory"), "\(why)")
    #expect(controller.state.run.coefficients == [1, 2, 3])
    #expect(controller.state.run.status == .finished("completed"))
  }

  @Test("w writes the screen as text to a new file named on screen, never over another")
  func saveScreen() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("krylov-screen-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let controller = ExplorerController(state: ExplorerState(), forecaster: nil, modelName: "none")
    controller.screenDirectory = directory.path
    var frame = CellBuffer(width: 15, height: 2)
    frame.setString(x: 0, y: 0, "╭─ system ─╮")
    frame.setString(x: 0, y: 1, "│ N  8     │")
    controller.screenText = { frame.trimmedLines }
    controller.handle(.saveScreen)
    controller.handle(.saveScreen)
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(files.count == 2 && files.allSatisfy { $0.hasPrefix("krylov-screen-") && $0.hasSuffix(".txt") }, "\(files)")
    let message = controller.state.message ?? ""
    #expect(
      message.hasPrefix("screen saved to krylov-screen-") && files.contains(String(message.dropFirst("screen saved to ".count))))
    let text = try String(contentsOfFile: directory.path + "/" + files[0], encoding: .utf8)
    #expect(text == "╭─ system ─╮\n│ N  8     │\n")
  }

  @Test("e exports the run, the forecast and C(t) as the CLI's files, which the CLI's readers read back")
  func export() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("krylov-export-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let controller = smallController(steps: 60)
    controller.screenDirectory = directory.path
    controller.handle(.export)
    #expect(controller.state.message?.hasPrefix("nothing to export") == true)
    controller.startRun()
    controller.waitUntilIdle(timeout: 60)
    #expect(controller.state.forecast != nil && controller.state.observables != nil)
    controller.handle(.export)
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(files.count == 3, "\(files)")
    let message = controller.state.message ?? ""
    for file in files { #expect(message.contains(file), "\(message)") }
    // The coefficients read back as a coefficient file: values, trust and the system.
    let b = try #require(files.first { $0.hasSuffix("-b.json") })
    let sequence = try CoefficientFile.read(path: directory.path + "/" + b)
    #expect(sequence.coefficients == controller.state.run.coefficients)
    #expect(sequence.trustedCount == controller.state.run.trustedCount)
    #expect(sequence.system == (try controller.state.settings.chain()))
    // The forecast and the observables are the JSON of `krylov forecast` and `krylov observe`.
    let forecastFile = try #require(files.first { $0.hasSuffix("-forecast.json") })
    let forecast = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(forecastFile)))
        as? [String: Any])
    // Foundation's JSON reader may round the last bit: compared to 1e-14.
    let read = try #require(forecast["forecast"] as? [Double])
    let shown = try #require(controller.state.forecast?.methods.transformer)
    #expect(read.count == shown.count && zip(read, shown).allSatisfy { abs($0 - $1) <= 1e-14 * abs($1) })
    #expect(forecast["prefix"] as? Int == 20 && forecast["model"] as? String == "test")
    let observablesFile = try #require(files.first { $0.hasSuffix("-observables.json") })
    let observables = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(observablesFile)))
        as? [String: Any])
    #expect(abs(((observables["C"] as? [Double])?.first ?? 0) - 1) < 1e-12)
    #expect((observables["t"] as? [Double])?.count == (observables["K"] as? [Double])?.count)
  }

  @Test("Stopping a run cancels it")
  func stop() {
    var state = ExplorerState()
    state.settings.size = .finite(10)
    state.settings.steps = 3000
    let controller = ExplorerController(state: state, forecaster: nil, modelName: "none")
    controller.startRun()
    controller.handle(.stopRun)
    controller.waitUntilIdle(timeout: 60)
    #expect(controller.state.run.status == .cancelled)
  }
}

@Suite("Explorer controller: molecular dynamics after a classical run")
struct SimulationControllerTests {
  /// A classical chain small enough for a debug-build test: N = 6 ring, 8 coefficients.
  func classicalState(size: Int = 6, steps: Int = 8) -> ExplorerState {
    var state = ExplorerState()
    state.settings.nudge(.spins, by: 1)
    state.settings.size = .finite(size)
    state.settings.boundary = .pbc
    state.settings.steps = steps
    return state
  }

  @Test("A classical run gets a simulated C(t): C(0) = 1, within a few standard errors of the computed C(t)")
  func classicalRun() throws {
    let controller = ExplorerController(state: classicalState(), forecaster: nil, modelName: "none")
    controller.simulationSamples = 2000
    controller.startRun()
    controller.waitUntilIdle(timeout: 120)
    let s = controller.state
    #expect(s.run.status == .finished("completed"))
    let simulation = try #require(s.simulation)
    let md = try #require(simulation.result, "no simulation result: \(simulation.failure ?? "still running")")
    #expect(md.samples == 2000 && simulation.done == 2000)
    #expect(md.plan.sites == 6 && md.plan.setup.simulated.boundary == .pbc && !md.plan.standsInForInfinite)
    // The window covers the observables pane's time range.
    let curves = try #require(s.observables)
    let (mdEnd, paneEnd) = (try #require(md.times.last), try #require(curves.times.last))
    #expect(mdEnd >= paneEnd)
    #expect(abs(md.values[0] - 1) < 1e-12)
    // Eight coefficients fix C(t) far beyond t = 1: there the two must agree within the noise.
    let exact = try KrylovChainDynamics(coefficients: s.run.trusted)
    let early = md.times.indices.filter { md.times[$0] <= 1 }
    #expect(early.count == 21)
    for i in early {
      let t = md.times[i]
      #expect(abs(md.values[i] - exact.autocorrelation(at: t)) <= 4 * md.standardErrors[i] + 1e-4, "t = \(t)")
    }
    // It is not trivially close: C(1) has decayed well away from 1.
    #expect(exact.autocorrelation(at: 1) < 0.9)
    let agreement = try #require(md.agreement)
    #expect(agreement.windowEnd >= 1 && agreement.maxSigmas < 4)
  }

  @Test("Each kind of spins forecasts with its own model, named in the state")
  func modelPerSpins() throws {
    let quantumModel = smallForecaster()
    let classicalModel = Forecaster(model: Transformer<Float>(config: ForecasterConfig(layers: 1, heads: 1, channels: 4)))
    let controller = ExplorerController(
      state: classicalState(), forecasters: [.quantum: (quantumModel, "q-model"), .classical: (classicalModel, "c-model")])
    #expect(controller.state.modelName == "c-model")
    #expect(controller.state.modelShape == (1, 1))
    let quantumOnly = ExplorerController(state: classicalState(), forecasters: [.quantum: (quantumModel, "q-model")])
    #expect(quantumOnly.state.forecastMessage == "no forecaster model loaded")
    var state = ExplorerState()
    state.settings.size = .finite(6)
    state.settings.steps = 8
    let switching = ExplorerController(
      state: state, forecasters: [.quantum: (quantumModel, "q-model"), .classical: (classicalModel, "c-model")])
    #expect(switching.state.modelName == "q-model")
    #expect(switching.state.modelShape == (quantumModel.config.layers, quantumModel.config.heads))
    // Moving to a smaller model keeps the attention selection and the ablation inside it.
    var selected = classicalState()
    selected.selectedLayer = 1
    selected.selectedHead = 1
    selected.disabledHeads = [HeadID(layer: 0, head: 0), HeadID(layer: 1, head: 1)]
    selected.modelShape = (2, 2)
    let shrinking = ExplorerController(state: selected, forecasters: [.classical: (classicalModel, "c-model")])
    #expect(shrinking.state.selectedLayer == 0 && shrinking.state.selectedHead == 0)
    #expect(shrinking.state.disabledHeads == [HeadID(layer: 0, head: 0)])
  }

  @Test("A quantum run gets no simulation")
  func quantumRun() {
    var state = ExplorerState()
    state.settings.size = .finite(4)
    state.settings.steps = 10
    let controller = ExplorerController(state: state, forecaster: nil, modelName: "none")
    controller.simulationSamples = 500
    controller.startRun()
    controller.waitUntilIdle(timeout: 60)
    #expect(controller.state.run.status == .finished("exhausted") || controller.state.run.status == .finished("completed"))
    #expect(controller.state.simulation == nil)
  }

  @Test("A new run with another system cancels the simulation in flight and drops its late reply")
  func staleReply() throws {
    // Tiny couplings stretch the time range to the longest window (2000 intervals), so a chunk
    // of 256 samples on 24 sites takes long enough (about 0.3 s in a release build) for the next
    // run to finish before the cancelled simulation answers.
    var first = classicalState(size: 24, steps: 4)
    first.settings.parameters = ["J": 0.01, "g": -0.0105, "h": 0.005]
    let controller = ExplorerController(state: first, forecaster: nil, modelName: "none")
    controller.simulationSamples = 10_000_000
    controller.startRun()
    let deadline = Date().addingTimeInterval(300)
    while (controller.state.simulation?.done ?? 0) == 0 && Date() < deadline {
      controller.pump()
      Thread.sleep(forTimeInterval: 0.005)
    }
    let running = try #require(controller.state.simulation)
    #expect(running.isRunning && running.plan.setup.simulated.modelName == .mfim)
    #expect(running.plan.steps == SimulationPlan.largestStepCount)

    // The system changes (model: mfim → tfim with its own parameters), and a new run starts.
    controller.handle(.focus(.system))
    controller.handle(.down)
    controller.handle(.right)
    #expect(controller.state.settings.model == .tfim)
    controller.simulationSamples = 512
    controller.startRun()
    #expect(controller.state.simulation == nil)
    var seen: [ModelName?] = []
    let end = Date().addingTimeInterval(300)
    while seen.isEmpty && Date() < end {
      controller.pump()
      if let md = controller.state.simulation?.result { seen.append(md.plan.setup.simulated.modelName) }
      Thread.sleep(forTimeInterval: 0.002)
    }
    // The new simulation queues behind the cancelled one, so its result also says the
    // 10^7-sample run stopped.
    controller.waitUntilIdle(timeout: 300)
    #expect(seen == [.tfim])
    let md = try #require(controller.state.simulation?.result)
    #expect(md.plan.setup.simulated.modelName == .tfim && md.samples == 512)
  }
}

@Suite("Themes with a background colour")
struct ThemeBackgroundTests {
  @Test("every cell of a full screen carries the theme's background: no holes of the terminal's own")
  func noHoles() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Themes/nord.theme").standardized
    let theme = try ThemeLoader.load(path: url.path).theme
    let controller = smallController(steps: 60)
    controller.startRun()
    controller.waitUntilIdle(timeout: 60)
    controller.handle(.rankHeads)
    controller.waitUntilIdle(timeout: 60)
    #expect(controller.state.forecast?.attention != nil)
    for (width, height) in [(120, 36), (200, 60), (80, 24)] {
      var buffer = CellBuffer(width: width, height: height)
      ExplorerFrame.render(controller.state, theme: theme, into: &buffer)
      var holes: [String] = []
      for y in 0..<height {
        for x in 0..<width where buffer[x, y].style.background == .terminalDefault {
          holes.append("(\(x),\(y))'\(buffer[x, y].symbol)'")
        }
      }
      #expect(holes.isEmpty, "\(width)x\(height): \(holes.count) cells, first \(holes.prefix(12))")
    }
  }
}
