import ArgumentParser
import Foundation
import KrylovEngine
import KrylovExplorer
import KrylovForecaster
import KrylovTUI

struct RenderCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "render",
    abstract: "Print one explorer frame as text, after the run, its forecast and (classical) its simulation complete.",
    discussion: """
      The headless explorer: the same frame the terminal shows, rendered into a buffer and \
      printed line by line (no colour), so the screen can be checked from a script.
      """
  )

  @OptionGroup var options: ExplorerOptions

  @Option(help: "Frame width in cells.")
  var width: Int = 120

  @Option(help: "Frame height in cells.")
  var height: Int = 36

  @Option(
    help:
      "Keys to press before rendering, e.g. 'Tab Tab space ?' (names: Tab, Up, Down, Left, Right, S-Up, S-Down, S-Left, S-Right, Enter, Esc, or single characters)."
  )
  var keys: String = ""

  @Option(help: "Seconds to wait for the run, the forecast, a head ranking and (classical) the simulation.")
  var timeout: Double = 120

  func run() throws {
    guard width >= 1 && height >= 1 && width <= 1000 && height <= 1000 else {
      throw ValidationError("--width and --height must be between 1 and 1000")
    }
    guard timeout.isFinite, timeout >= 0, timeout <= 86_400 else {
      throw ValidationError("--timeout must be a number of seconds from 0 to 86400 (got \(timeout))")
    }
    let (controller, theme, _) = try options.prepare()
    controller.startRun()
    controller.waitUntilIdle(timeout: timeout)
    for name in keys.split(separator: " ") {
      guard let key = parseKeyName(String(name)) else { throw ValidationError("--keys: unknown key '\(name)'") }
      if controller.state.editing != nil, case .character(let c) = key {
        controller.handle(.type(c))
      } else if let action = Keymap.action(for: key) {
        controller.handle(action)
      }
      controller.waitUntilIdle(timeout: timeout)
    }
    var buffer = CellBuffer(width: width, height: height)
    ExplorerFrame.render(controller.state, theme: theme, into: &buffer)
    print(buffer.lines.joined(separator: "\n"))
    // A run cut short by --timeout may still be inside OpenBLAS: stop it, and leave without the
    // exit-time clean-up that would free its buffers under it.
    controller.shutdown()
    exitLeavingWorkersAlone(status: 0)
  }

  private func parseKeyName(_ name: String) -> Key? {
    switch name.lowercased() {
    case "tab": .tab
    case "backtab": .backTab
    case "up": .up
    case "down": .down
    case "left": .left
    case "right": .right
    case "s-up": .shiftUp
    case "s-down": .shiftDown
    case "s-left": .shiftLeft
    case "s-right": .shiftRight
    case "enter": .enter
    case "esc": .escape
    case "space": .character(" ")
    default: name.count == 1 ? name.first.map(Key.character) : nil
    }
  }
}
