/// Where frames go: the ncurses backend in the app, a memory backend in tests.
public protocol TerminalBackend {
  /// The screen size in cells.
  var size: (width: Int, height: Int) { get }
  /// Draws the given cells (only those that changed).
  mutating func draw(_ cells: [(x: Int, y: Int, cell: Cell)])
  /// Makes everything drawn so far visible, in one write.
  mutating func flush()
}

/// Double-buffered immediate-mode drawing: render a whole frame, send only what changed.
///
/// Each frame is rendered from scratch into a fresh buffer; `draw` diffs it against the previous
/// frame and hands the backend only the changed cells, then flushes once. A size change starts
/// over with a full redraw.
public struct Terminal<Backend: TerminalBackend> {
  public private(set) var backend: Backend
  private var previous: CellBuffer?

  public init(backend: Backend) { self.backend = backend }

  /// Renders one frame with `render` and sends the difference.
  ///
  /// Returns the number of cells sent.
  @discardableResult
  public mutating func draw(_ render: (inout CellBuffer) -> Void) -> Int {
    let size = backend.size
    var frame = CellBuffer(width: size.width, height: size.height)
    render(&frame)
    let changes = Self.diff(from: previous, to: frame)
    backend.draw(changes)
    backend.flush()
    previous = frame
    return changes.count
  }

  /// Gives the backend to `body` (to resize it, say); the next draw notices a new size.
  public mutating func withBackend(_ body: (inout Backend) -> Void) { body(&backend) }

  /// Forgets the previous frame, so the next draw repaints every cell (after the screen was cleared).
  public mutating func invalidate() { previous = nil }

  /// The cells of `next` that differ from `previous` (all of them when sizes differ).
  public static func diff(from previous: CellBuffer?, to next: CellBuffer) -> [(x: Int, y: Int, cell: Cell)] {
    var changes: [(x: Int, y: Int, cell: Cell)] = []
    let width = next.area.width
    // The previous frame's cells when it had the same size; otherwise every cell is sent.
    let before = previous.flatMap { $0.area == next.area ? $0.cells : nil }
    for (i, cell) in next.cells.enumerated() where before?[i] != cell {
      changes.append((i % max(width, 1), i / max(width, 1), cell))
    }
    return changes
  }
}

/// A backend that keeps the screen in memory: for tests and the headless renderer.
public struct MemoryBackend: TerminalBackend {
  public var screen: CellBuffer
  public private(set) var cellsDrawn = 0
  public private(set) var flushes = 0

  public init(width: Int, height: Int) { screen = CellBuffer(width: width, height: height) }

  public var size: (width: Int, height: Int) { (screen.area.width, screen.area.height) }

  public mutating func draw(_ cells: [(x: Int, y: Int, cell: Cell)]) {
    for (x, y, cell) in cells { screen[x, y] = cell }
    cellsDrawn += cells.count
  }

  public mutating func flush() { flushes += 1 }

  /// A new screen size, as after a terminal resize.
  public mutating func resize(width: Int, height: Int) { screen = CellBuffer(width: width, height: height) }
}
