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

@Suite("Explorer controller: real runs and forecasts in the background")
struct ExplorerControllerTests {
  @Test("A run streams into the state, then the forecast and its errors arrive")
  func runAndForecast() throws {
    var state = ExplorerState()
    state.settings.size = 6
    state.settings.steps = 80
    state.settings.prefix = 20
    let controller = ExplorerController(state: state, forecaster: smallForecaster(), modelName: "test")
    controller.startRun()
    controller.waitUntilIdle(timeout: 60)
    let s = controller.state
    #expect(s.run.status == .finished("completed"))
    #expect(s.run.coefficients.count == 80)
    // The streamed values are the engine's own: compare with a direct run.
    let plan = try RunPlan(chain: try state.settings.chain(), steps: 80)
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
    let expected = try smallForecaster().forecast(
      prefix: Array(s.run.coefficients[0..<20]), horizon: 80, ablation: Ablation(disabledHeads: [HeadID(layer: 0, head: 0)]))
    #expect(ablated.methods.transformer == expected.values)
    #expect(ablated.unablatedError == forecast.errors?.coefficients["transformer"])
  }

  @Test("A run over the memory limit is refused in place, with the reason")
  func refusal() {
    var state = ExplorerState()
    state.settings.size = 20
    state.settings.operatorName = .z0
    let controller = ExplorerController(state: state, forecaster: nil, modelName: "none")
    controller.startRun()
    guard case .refused(let why) = controller.state.run.status else {
      Issue.record("not refused: \(controller.state.run.status)")
      return
    }
    #expect(why.contains("largest") || why.contains("memory"))
    #expect(controller.state.message == why)
  }

  @Test("Stopping a run cancels it")
  func stop() {
    var state = ExplorerState()
    state.settings.size = 10
    state.settings.steps = 3000
    let controller = ExplorerController(state: state, forecaster: nil, modelName: "none")
    controller.startRun()
    controller.handle(.stopRun)
    controller.waitUntilIdle(timeout: 60)
    #expect(controller.state.run.status == .cancelled)
  }
}
