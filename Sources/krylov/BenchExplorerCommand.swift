import ArgumentParser
import Foundation
import KrylovExplorer
import KrylovTUI

struct BenchExplorerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-explorer",
    abstract: "Measure the explorer's frame: render the whole screen and diff it, in memory.",
    discussion: """
      Runs the default system (or the one given) to the end with its forecast, then renders \
      full frames of the given size into a memory backend, alternating the focused pane so \
      every frame differs from the last, and reports the median and worst time per frame.
      """
  )

  @OptionGroup var options: ExplorerOptions

  @Option(help: "Frame width.")
  var width: Int = 200

  @Option(help: "Frame height.")
  var height: Int = 60

  @Option(help: "Frames timed.")
  var frames: Int = 200

  func validate() throws {
    try requireRange("--width", width, 20...2000)
    try requireRange("--height", height, 10...1000)
    try requireRange("--frames", frames, 1...1_000_000)
  }

  func run() throws {
    let (controller, theme, _) = try options.prepare()
    controller.startRun()
    controller.waitUntilIdle(timeout: 300)
    var second = controller.state
    second.focus = .ablation
    second.logY = true
    let (times, sent) = ExplorerBenchmarks.frameSeconds(
      states: [controller.state, second], theme: theme, width: width, height: height, count: frames)
    let sorted = times.sorted()
    print(
      String(
        format: "frame %d×%d (%d b_n, forecast to %d): median %.2f ms, max %.2f ms, %.0f cells sent per frame",
        width, height, controller.state.run.coefficients.count, controller.state.settings.horizon,
        sorted[sorted.count / 2] * 1e3, (sorted.last ?? .nan) * 1e3, Double(sent) / Double(frames)))
  }
}
