import Foundation
import KrylovForecaster
import KrylovTUI
import Synchronization

/// The interactive explorer: the run loop on the main thread, everything else in the background.
public enum ExplorerApp {
  /// Runs until the user quits or a SIGTERM/SIGINT/SIGHUP arrives.
  ///
  /// The terminal is restored on every path. Returns the signal that ended it, if one did.
  @discardableResult
  public static func run(controller: ExplorerController, theme initial: Theme, catalog: ThemeCatalog, mouse: Bool = true)
    -> Int32?
  {
    let terminal = NcursesTerminal()
    terminal.mouse = mouse
    // A plain signal handler that only stores the signal: a dispatch signal source would need a
    // free worker thread, and a running Lanczos job can keep every one of them busy.
    pendingSignal.store(0, ordering: .relaxed)
    for sig in [SIGTERM, SIGINT, SIGHUP] {
      signal(sig) { pendingSignal.store($0, ordering: .relaxed) }
    }
    // The run loop's thread takes them even if the process started with them blocked.
    var set = sigset_t()
    sigemptyset(&set)
    for sig in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, sig) }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    terminal.open()
    controller.setMonochrome(terminal.depth == .none)
    defer {
      terminal.close()
      for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig, SIG_DFL) }
    }
    var theme = initial
    controller.themes = catalog.names
    controller.onThemeChange = { name in
      let loaded = catalog.load(name)
      theme = loaded.theme
    }
    controller.screenText = {
      var buffer = CellBuffer(width: terminal.size.width, height: terminal.size.height)
      ExplorerFrame.render(controller.state, theme: theme, into: &buffer)
      return buffer.trimmedLines
    }
    var screen = Terminal(backend: terminal)
    controller.startRun()
    var dirty = true
    var lastDraw = Date.distantPast
    while !controller.state.quit && pendingSignal.load(ordering: .relaxed) == 0 {
      if controller.pump() { dirty = true }
      // Cap redraws at ~30 per second while data streams in.
      if dirty && Date().timeIntervalSince(lastDraw) > 0.03 {
        let state = controller.state
        screen.draw { ExplorerFrame.render(state, theme: theme, into: &$0) }
        dirty = false
        lastDraw = Date()
      }
      guard let key = terminal.readKey() else { continue }
      if key == .resize {
        terminal.refreshSize()
        terminal.clearScreen()
        screen.invalidate()
        dirty = true
        continue
      }
      switch key {
      case .click, .wheel:
        // The mouse resolves to the same actions as keys, through the frame's own layout.
        guard controller.state.editing == nil else { continue }
        let screenArea = Rect(x: 0, y: 0, width: terminal.size.width, height: terminal.size.height)
        for action in ExplorerFrame.actions(for: key, screen: screenArea, state: controller.state) { controller.handle(action) }
        dirty = true
        continue
      default:
        break
      }
      let action: Action?
      if controller.state.editing != nil, case .character(let c) = key {
        action = .type(c)
      } else {
        action = Keymap.action(for: key)
      }
      if let action {
        controller.handle(action)
        dirty = true
      }
    }
    controller.shutdown()
    let received = pendingSignal.load(ordering: .relaxed)
    return received == 0 ? nil : received
  }
}

/// The signal that asked the explorer to stop (0: none); written by the signal handler, which
/// may only do lock-free stores, read by the run loop.
let pendingSignal = Atomic<Int32>(0)
