import Foundation
import Synchronization

/// What a running Lanczos job reports.
public enum LanczosEvent: Sendable {
  /// The set-up's fraction done, at most once per percent.
  case setupProgress(Double)
  /// The sector is built and the recursion is about to start.
  case started(sector: String, dimensions: [Int], setupSeconds: Double)
  /// One more coefficient.
  case step(LanczosStep)
  /// The run ended (completed, exhausted, conserved or cancelled).
  case finished(LanczosResult)
  /// The run could not start.
  case failed(String)
  /// The run was refused because it would not fit in memory (found while building its space).
  case refused(String)
}

/// A Lanczos run on its own thread, streaming each coefficient as an event; cancellable.
///
/// The caller's thread never waits on the computation: events arrive on `events`, and
/// `cancel()` stops the run between two steps, after which its memory is released.
public final class LanczosJob: Sendable {
  public let events: AsyncStream<LanczosEvent>
  private let cancelled = CancellationFlag()

  /// Starts `plan` with `options` on a background thread.
  ///
  /// - Parameter observer: if given, receives every event on the job's thread instead of
  ///   `events` (which then ends at once). For callers that are not async, such as a UI run
  ///   loop on its own thread, so nothing depends on the cooperative thread pool.
  public init(plan: RunPlan, options: LanczosOptions, observer: (@Sendable (LanczosEvent) -> Void)? = nil) {
    let (stream, continuation) = AsyncStream.makeStream(of: LanczosEvent.self, bufferingPolicy: .unbounded)
    events = stream
    if observer != nil { continuation.finish() }
    let emit: @Sendable (LanczosEvent) -> Void = { event in
      if let observer { observer(event) } else { continuation.yield(event) }
    }
    let thread = Thread { [cancelled] in
      let setupStart = Date()
      let space: any KrylovOperatorSpace
      let gate = PercentGate()
      let progress: SetupProgress = { fraction in
        if let percent = gate.admit(fraction) { emit(.setupProgress(Double(percent) / 100)) }
      }
      do { space = try plan.buildSpace(isCancelled: { cancelled.isSet }, progress: progress) } catch {
        if case LevelSearchError.cancelled = error {
          // Stopped before the first step: a run with nothing computed, as a cancel between
          // steps would end (what callers write out, they write).
          emit(
            .finished(
              LanczosResult(
                coefficients: [], trustedCount: 0, stopReason: .cancelled, krylovDimension: nil,
                exhaustionTrusted: false, probeDeviations: [], stepSeconds: [],
                totalSeconds: Date().timeIntervalSince(setupStart))))
        } else if case InfiniteChainSpace.BuildError.memory = error {
          emit(.refused("\(error)"))
        } else {
          emit(.failed("\(error)"))
        }
        continuation.finish()
        return
      }
      emit(
        .started(
          sector: space.sectorDescription, dimensions: space.blockDimensions,
          setupSeconds: Date().timeIntervalSince(setupStart)))
      let driver = LanczosDriver(space: space, options: options)
      let result = driver.run(isCancelled: { cancelled.isSet }) { step in
        emit(.step(step))
      }
      emit(.finished(result))
      continuation.finish()
    }
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// Asks the run to stop before its next step.
  public func cancel() { cancelled.set() }

  public var isCancelled: Bool { cancelled.isSet }
}

/// A flag one thread raises and others poll: how long-running work learns it should stop.
public final class CancellationFlag: Sendable {
  private let value = Atomic<Bool>(false)
  public init() {}
  public func set() { value.store(true, ordering: .relaxed) }
  public var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Lets each whole percent of a set-up through once: workers report from several threads, out
/// of order, and far more often than a screen or a log wants to hear.
final class PercentGate: Sendable {
  private let last = Atomic<Int>(0)

  /// The new whole percent `fraction` reaches, or nil when it is not above the last one let through.
  func admit(_ fraction: Double) -> Int? {
    let percent = Int(min(max(fraction, 0), 1) * 100)
    return last.max(percent, ordering: .relaxed).oldValue < percent ? percent : nil
  }
}
