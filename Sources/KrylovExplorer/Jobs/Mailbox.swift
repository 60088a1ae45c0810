import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

/// What background work posts to the UI thread.
enum JobMessage: Sendable {
  case runSetupProgress(runID: Int, fraction: Double)
  case runStarted(runID: Int, sector: String)
  case runStep(runID: Int, LanczosStep)
  case runFinished(runID: Int, LanczosResult)
  case runFailed(runID: Int, String)
  case forecast(generation: Int, ForecastData)
  case forecastFailed(generation: Int, String)
  case ranking(generation: Int, HeadRanking?)
  case observables(generation: Int, ObservableCurves)
  /// Molecular dynamics of a classical run, tagged with the run it belongs to.
  case simulationProgress(runID: Int, samples: Int)
  case simulation(runID: Int, SimulatedCorrelation)
  case simulationFailed(runID: Int, String)
}

/// A lock-protected queue of messages: background work appends, the run loop drains.
final class Mailbox: @unchecked Sendable {
  private let lock = NSLock()
  private var messages: [JobMessage] = []

  func post(_ message: JobMessage) { lock.withLock { messages.append(message) } }

  func drain() -> [JobMessage] {
    lock.withLock {
      defer { messages.removeAll(keepingCapacity: true) }
      return messages
    }
  }
}
