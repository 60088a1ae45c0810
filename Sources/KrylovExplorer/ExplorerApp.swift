import Foundation
import KrylovForecaster
import KrylovTUI
import Synchronization

/// Themes by name: the built-in default plus every `.theme` file in the search path.
public struct ThemeCatalog: Sendable {
  /// Name → file path.
  public private(set) var files: [String: String] = [:]

  /// Searches `KRYLOV_THEMES`, `./Themes`, the `Themes` folder beside the package the binary
  /// was built in, and `~/.config/krylov/themes`.
  public init() {
    var directories: [String] = []
    let env = ProcessInfo.processInfo.environment
    if let d = env["KRYLOV_THEMES"] { directories.append(d) }
    directories.append(FileManager.default.currentDirectoryPath + "/Themes")
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var up = executable.deletingLastPathComponent()
    for _ in 0..<4 {
      directories.append(up.appendingPathComponent("Themes").path)
      up = up.deletingLastPathComponent()
    }
    if let home = env["HOME"] { directories.append(home + "/.config/krylov/themes") }
    for directory in directories {
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
      for name in names.sorted() where name.hasSuffix(".theme") {
        let stem = String(name.dropLast(6))
        if files[stem] == nil { files[stem] = directory + "/" + name }
      }
    }
  }

  /// "Default" first, then the files' names.
  public var names: [String] { ["Default"] + files.keys.sorted() }

  /// Loads a theme by name or path; problems in the file are returned, with the default used
  /// for what could not be read.
  public func load(_ nameOrPath: String) -> (theme: Theme, problems: [String]) {
    if nameOrPath == "Default" { return (Theme.builtIn, []) }
    let path = files[nameOrPath] ?? files[(nameOrPath as NSString).lastPathComponent.replacingOccurrences(of: ".theme", with: "")]
      ?? nameOrPath
    guard FileManager.default.fileExists(atPath: path) else {
      return (Theme.builtIn, ["theme '\(nameOrPath)' not found (known: \(names.joined(separator: ", "))); using the default"])
    }
    do {
      let (theme, issues) = try ThemeLoader.load(path: path)
      return (theme, issues.map { "\($0)" })
    } catch {
      return (Theme.builtIn, ["\(error); using the default"])
    }
  }
}

/// The interactive explorer: the run loop on the main thread, everything else in the background.
public enum ExplorerApp {
  /// Runs until the user quits or a SIGTERM/SIGINT/SIGHUP arrives; the terminal is restored on
  /// every path. Returns the signal that ended it, if one did.
  @discardableResult
  public static func run(controller: ExplorerController, theme initial: Theme, catalog: ThemeCatalog, mouse: Bool = true) -> Int32? {
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
