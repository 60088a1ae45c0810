import Foundation
import KrylovEngine
import KrylovForecaster

/// What background work posts to the UI thread.
enum JobMessage: Sendable {
  case runStarted(runID: Int, sector: String)
  case runStep(runID: Int, LanczosStep)
  case runFinished(runID: Int, LanczosResult)
  case runFailed(runID: Int, String)
  case forecast(generation: Int, ForecastData)
  case forecastFailed(generation: Int, String)
  case ranking(generation: Int, [HeadID: Double])
  case observables(generation: Int, ObservableCurves)
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
