import Foundation
import KrylovTUI

/// Timing of the render path, inside the module so it runs specialized as the app does.
public enum ExplorerBenchmarks {
  /// Seconds to render the whole frame for `state` and diff it against the previous one, for
  /// `count` frames alternating between two states (so every diff has work to do).
  public static func frameSeconds(
    states: [ExplorerState], theme: Theme, width: Int, height: Int, count: Int
  ) -> (render: [Double], cellsSent: Int) {
    var terminal = Terminal(backend: MemoryBackend(width: width, height: height))
    var times: [Double] = []
    var sent = 0
    for i in 0..<count {
      let state = states[i % states.count]
      let start = DispatchTime.now()
      sent += terminal.draw { ExplorerFrame.render(state, theme: theme, into: &$0) }
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
    }
    return (times, sent)
  }
}
