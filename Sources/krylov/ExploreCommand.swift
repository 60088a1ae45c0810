import ArgumentParser
import Foundation
import KrylovEngine
import KrylovExplorer
import KrylovForecaster
import KrylovTUI

/// The options that set up the explorer (shared with `render`).
struct ExplorerOptions: ParsableArguments {
  @OptionGroup var system: SystemOptions

  @Option(help: "Coefficients to compute (default: 200; 18 for classical spins).")
  var steps: Int?

  @Option(help: "Forecast prefix length k (default: 30; 10 for classical spins).")
  var prefix: Int?

  @Option(
    help: """
      A forecaster checkpoint for every system (default: the embedded quantum or classical \
      model, by the system's spins).
      """)
  var checkpoint: String?

  @Option(
    help:
      "Theme: a name from Themes/ (e.g. nord, krylov-light) or a path to a btop-style .theme file (default: krylov-dark when found, else the built-in one)."
  )
  var theme: String?

  @Flag(help: "Draw charts with block glyphs instead of braille (for fonts without braille; also KRYLOV_GLYPHS=blocks).")
  var blocks = false

  func validate() throws {
    if let steps, !(1...100_000).contains(steps) { throw ValidationError("--steps must be between 1 and 100000 (got \(steps))") }
    if let prefix, !(10...100_000).contains(prefix) {
      throw ValidationError("--prefix must be between 10 and 100000 (got \(prefix))")
    }
  }

  /// Whether the command line chooses a system (anything but the defaults), so that a saved
  /// one does not replace it.
  var choosesSystem: Bool {
    let c = system.chain
    return system.spins != .quantum || c.model != RunDefaults.model || c.size != nil || c.bc != RunDefaults.boundary
      || c.op != RunDefaults.operatorName || !c.parameters.isEmpty || c.hamiltonian != nil || c.operatorText != nil
      || steps != nil || prefix != nil
  }

  /// The initial state and the forecaster; problems that do not stop the app become messages.
  ///
  /// `preferences` (the explorer's saved settings; `render` passes none) give the system when
  /// the command line chooses none, the theme when it names none, and the chart's view.
  func prepare(preferences: ExplorerPreferences? = nil) throws -> (ExplorerController, Theme, ThemeCatalog) {
    var state = ExplorerState()
    var problems: [String] = []
    state.settings = SystemSettings(chain: try system.system())
    let defaults = RunDefaults.of(system.spins)
    state.settings.steps = steps ?? defaults.steps
    state.settings.prefix = prefix ?? defaults.prefix
    if let preferences, !choosesSystem {
      let saved = preferences.settings()
      if let settings = saved.settings { state.settings = settings }
      if let problem = saved.problem { problems.append(problem) }
    }
    if let view = preferences?.view { state.coefficientView = view }
    state.blockGlyphs = blocks || ProcessInfo.processInfo.environment["KRYLOV_GLYPHS"] == "blocks"
    // `render` prints text: with NO_COLOR the attention map is drawn in shades (the explorer
    // asks its terminal instead, once open).
    state.monochrome = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    // A named checkpoint forecasts every system; otherwise each kind of spins gets its embedded model.
    var forecasters: [SpinKind: (model: Forecaster, name: String)] = [:]
    if let checkpoint {
      do {
        let f = try Checkpoint.load(path: checkpoint)
        for kind in SpinKind.allCases { forecasters[kind] = (f, checkpoint) }
      } catch { problems.append("\(error)") }
    } else {
      for kind in SpinKind.allCases {
        let domain = DefaultModel.Domain(kind)
        do { forecasters[kind] = (try DefaultModel.load(domain), domain.displayName) } catch { problems.append("\(error)") }
      }
    }
    let catalog = ThemeCatalog()
    // The bundled dark theme by default, quietly falling back to the built-in one when the
    // binary runs away from the Themes folder; a theme the user named is reported if missing.
    let name = theme ?? preferences?.theme ?? (catalog.files["krylov-dark"] != nil ? "krylov-dark" : "Default")
    let loaded = catalog.load(name)
    problems += loaded.problems
    state.themeName =
      loaded.problems.isEmpty ? (name as NSString).lastPathComponent.replacingOccurrences(of: ".theme", with: "") : "Default"
    let controller = ExplorerController(state: state, forecasters: forecasters, missingModelName: checkpoint ?? "none")
    if !problems.isEmpty { controller.showMessage(problems.joined(separator: "; ")) }
    return (controller, loaded.theme, catalog)
  }
}

struct ExploreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explore",
    abstract: "The interactive explorer (the default command): choose a chain, watch b_n and the forecasts.",
    discussion: """
      Opens a full-screen view: the system's settings, b_n streaming in as they are computed \
      with the transformer's forecast from the prefix k, the best asymptotic fit and the linear \
      AR baseline; C(t) and K(t) from each; the attention of any layer and head; and every \
      head as a switch, with the forecast error before and after. Press ? inside for the keys. \
      Themes are btop-style files (docs/themes.md); NO_COLOR is honoured.
      """
  )

  @OptionGroup var options: ExplorerOptions

  @Flag(help: "Do not capture the mouse (keeps the terminal's own text selection).")
  var noMouse = false

  func run() throws {
    guard isatty(0) != 0 && isatty(1) != 0 else {
      printError("error: the explorer needs a terminal; for scripts use 'krylov render', 'krylov lanczos' or 'krylov forecast'")
      throw ExitCode(1)
    }
    // Saved settings: read forgivingly (a bad file is reported once and ignored), written back
    // at the end with the theme and the system on screen.
    let path = ExplorerPreferences.path()
    let saved = path.map { ExplorerPreferences.load(from: $0) } ?? (preferences: nil, problem: nil)
    let (controller, theme, catalog) = try options.prepare(preferences: saved.preferences)
    if let problem = saved.problem {
      controller.showMessage([controller.state.message, problem].compactMap { $0 }.joined(separator: "; "))
    }
    let signal = ExplorerApp.run(controller: controller, theme: theme, catalog: catalog, mouse: !noMouse)
    if let path {
      let state = controller.state
      let preferences = ExplorerPreferences(settings: state.settings, theme: state.themeName, view: state.coefficientView)
      do { try preferences.save(to: path) } catch {
        printError("krylov: the settings were not saved to \(path): \(InputFile.reason(error))")
      }
    }
    // The terminal is restored; leave without exit-time clean-up, which could free OpenBLAS
    // buffers under a worker still finishing a forecast or an eigendecomposition.
    exitLeavingWorkersAlone(status: signal.map { 128 + $0 } ?? 0)
  }
}
