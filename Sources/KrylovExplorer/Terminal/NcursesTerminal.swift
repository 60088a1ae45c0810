import CNcursesw
import Foundation
import KrylovTUI

/// The only code that talks to ncurses: screen set-up and restore, drawing cells, reading keys.
///
/// Colours go to the terminal at the richest depth it reports (direct RGB, the 256-colour
/// palette, or the 16 standard colours; pairs allocated on demand with `alloc_pair`) and are
/// never used when NO_COLOR is set; bold, dim and reverse still carry meaning then.
final class NcursesTerminal: TerminalBackend {
  private(set) var size: (width: Int, height: Int) = (0, 0)
  private(set) var depth = ColorDepth.none
  private var isOpen = false
  /// The standard screen, as `initscr` returns it (ncurses is used from the main thread only).
  private var window: UnsafeMutablePointer<WINDOW>?

  /// Whether clicks and the wheel are reported (`--no-mouse` switches them off, leaving the
  /// terminal's own selection alone).
  var mouse = true

  func open() {
    setlocale(LC_ALL, "")
    CrashRestore.install()
    let environment = ProcessInfo.processInfo.environment
    // A terminal that says it takes 24-bit colour (COLORTERM) under a 256-colour TERM gets the
    // matching direct-colour terminfo entry, so themes' RGB colours go through unchanged.
    if let direct = ColorDepth.directCandidates(term: environment["TERM"], colorterm: environment["COLORTERM"])
      .first(where: Self.hasTerminfo)
    {
      setenv("TERM", direct, 1)
    }
    window = initscr()
    raw()
    set_escdelay(25)  // Esc answers at once instead of after a second
    noecho()
    keypad(window, true)
    wtimeout(window, 33)
    curs_set(0)
    let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
    if has_colors() && !noColor {
      start_color()
      use_default_colors()
      // Direct-colour terminfo (e.g. TERM=xterm-direct) reports 2^24 colours: RGB goes straight
      // through; else the 256-colour palette; else the 16 (or 8) standard colours.
      depth = ColorDepth.forTerminal(colors: Int(krylov_colors()), noColor: false)
    }
    if mouse {
      mousemask(krylov_mouse_events(), nil)
      mouseinterval(0)
    }
    isOpen = true
    refreshSize()
  }

  /// Whether the terminfo database has an entry `name`, searched where ncurses looks
  /// ($TERMINFO, ~/.terminfo, $TERMINFO_DIRS, then the system directories).
  static func hasTerminfo(_ name: String) -> Bool {
    guard let first = name.first, !name.contains("/") else { return false }
    let environment = ProcessInfo.processInfo.environment
    var directories: [String] = []
    if let dir = environment["TERMINFO"] { directories.append(dir) }
    if let home = environment["HOME"] { directories.append(home + "/.terminfo") }
    directories += (environment["TERMINFO_DIRS"] ?? "").split(separator: ":").map(String.init)
    directories += ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo"]
    let hex = String(format: "%02x", first.asciiValue ?? 0)
    return directories.contains { dir in
      FileManager.default.fileExists(atPath: "\(dir)/\(first)/\(name)")
        || FileManager.default.fileExists(atPath: "\(dir)/\(hex)/\(name)")
    }
  }

  /// Restores the terminal; safe to call more than once.
  func close() {
    guard isOpen else { return }
    isOpen = false
    endwin()
    CrashRestore.uninstall()
  }

  func refreshSize() {
    var h: Int32 = 0
    var w: Int32 = 0
    krylov_getmaxyx(window, &h, &w)
    size = (Int(w), Int(h))
  }

  func clearScreen() {
    wclear(window)
  }

  func draw(_ cells: [(x: Int, y: Int, cell: Cell)]) {
    for (x, y, cell) in cells {
      var attributes: attr_t = 0
      if cell.style.bold { attributes |= krylov_attr_bold() }
      if cell.style.dim { attributes |= krylov_attr_dim() }
      if cell.style.reverse { attributes |= krylov_attr_reverse() }
      if cell.style.underline { attributes |= krylov_attr_underline() }
      var pair: Int32 = 0
      if depth != .none {
        let fg = Int32(depth.index(of: cell.style.foreground) ?? -1)
        let bg = Int32(depth.index(of: cell.style.background) ?? -1)
        if fg != -1 || bg != -1 { pair = max(0, alloc_pair(fg, bg)) }
      }
      var wide: [wchar_t] = cell.symbol.unicodeScalars.prefix(4).map { wchar_t(bitPattern: $0.value) } + [0]
      var character = cchar_t()
      // The pair goes through the extension argument, so pairs beyond 32767 work too.
      _ = withUnsafeMutablePointer(to: &pair) { setcchar(&character, &wide, attributes, 0, $0) }
      mvwadd_wch(window, Int32(y), Int32(x), &character)
    }
  }

  func flush() { wrefresh(window) }

  /// The next key, or nil when none came within the input timeout.
  func readKey() -> Key? {
    var value: wint_t = 0
    let kind = wget_wch(window, &value)
    if kind == ERR { return nil }
    let code = Int32(value)
    if kind == KEY_CODE_YES {
      switch code {
      case KEY_UP: return .up
      case KEY_DOWN: return .down
      case KEY_LEFT: return .left
      case KEY_RIGHT: return .right
      case KEY_SR: return .shiftUp
      case KEY_SF: return .shiftDown
      case KEY_SLEFT: return .shiftLeft
      case KEY_SRIGHT: return .shiftRight
      case KEY_ENTER: return .enter
      case KEY_BACKSPACE: return .backspace
      case KEY_BTAB: return .backTab
      case KEY_RESIZE: return .resize
      case KEY_MOUSE:
        var event = MEVENT()
        guard getmouse(&event) == OK else { return nil }
        if event.bstate & krylov_wheel_up() != 0 { return .wheel(up: true, x: Int(event.x), y: Int(event.y)) }
        if event.bstate & krylov_wheel_down() != 0 { return .wheel(up: false, x: Int(event.x), y: Int(event.y)) }
        if event.bstate & krylov_button1() != 0 { return .click(x: Int(event.x), y: Int(event.y)) }
        return nil
      default: return nil
      }
    }
    switch code {
    case 3: return .controlC
    case 9: return .tab
    case 10, 13: return .enter
    case 27: return .escape
    case 8, 127: return .backspace
    default:
      guard let scalar = Unicode.Scalar(UInt32(value)) else { return nil }
      return .character(Character(scalar))
    }
  }
}

/// Puts the terminal back when the process dies of a trap, then lets the signal take its default course.
///
/// A Swift runtime error is SIGILL or SIGTRAP, an abort SIGABRT, a bad access SIGSEGV or SIGBUS.
/// Without it a crash leaves the shell in raw mode with the alternate screen up. The handler only
/// calls what is safe in a signal handler: `tcsetattr` with the modes saved before ncurses changed
/// them, and one `write` of the escape sequences that leave the alternate screen, show the cursor,
/// reset attributes and stop mouse reporting.
enum CrashRestore {
  static let signals = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE]

  static func install() {
    guard tcgetattr(STDIN_FILENO, &savedModes) == 0 else { return }
    haveSavedModes = true
    // The bytes are laid out now: the handler must not allocate or run lazy initialization.
    if restoreBytes == nil {
      let bytes = Array("\u{1b}[?1049l\u{1b}[?25h\u{1b}[0m\u{1b}[?1000l\u{1b}[?1002l\u{1b}[?1006l\r\n".utf8)
      let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
      _ = buffer.initialize(from: bytes)
      restoreBytes = UnsafeBufferPointer(buffer)
    }
    for sig in signals {
      let previous = signal(sig) { received in
        if haveSavedModes { tcsetattr(STDIN_FILENO, TCSANOW, &savedModes) }
        if let bytes = restoreBytes { _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
        signal(received, SIG_DFL)
        raise(received)
      }
      previousHandlers.append((sig, previous))
    }
  }

  /// Puts back the handlers that were there before `install` (the runtime's, if any).
  static func uninstall() {
    for (sig, handler) in previousHandlers { signal(sig, handler) }
    previousHandlers = []
    haveSavedModes = false
  }
}

/// The terminal modes before ncurses took over (read by the crash handler only).
nonisolated(unsafe) private var savedModes = termios()
nonisolated(unsafe) private var haveSavedModes = false
/// Leave the alternate screen, show the cursor, plain attributes, mouse reporting off: made
/// once by `install`, read by the handler.
nonisolated(unsafe) private var restoreBytes: UnsafeBufferPointer<UInt8>?
/// The handlers `install` replaced, restored by `uninstall` (main thread only).
nonisolated(unsafe) private var previousHandlers: [(Int32, __sighandler_t?)] = []
