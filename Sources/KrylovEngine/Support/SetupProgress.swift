import Synchronization

/// How far a long set-up (a sector's enumeration and matrices, a breadth-first search) has
/// come, as a fraction of its work, reported from whichever thread did the work.
public typealias SetupProgress = @Sendable (_ fraction: Double) -> Void

/// The share `range` of a set-up's progress, for one of its phases to report its own fraction in.
public func setupPhase(_ progress: SetupProgress?, _ range: ClosedRange<Double>) -> SetupProgress? {
  guard let progress else { return nil }
  return { fraction in
    progress(range.lowerBound + (range.upperBound - range.lowerBound) * min(max(fraction, 0), 1))
  }
}

/// The share of a finite chain's set-up spent enumerating its sector; the matrices take the
/// rest, one block after the other (measured 16% for mfim at N = 12 and 14% at N = 13:
/// docs/benchmarks.md, "Set-up progress").
let sectorEnumerationShare = 0.15

/// The phases of a sector's set-up: the enumeration, then each block's matrix.
func sectorPhases(_ progress: SetupProgress?, matrices: Int) -> (enumeration: SetupProgress?, matrix: (Int) -> SetupProgress?) {
  let share = (1 - sectorEnumerationShare) / Double(max(1, matrices))
  return (
    setupPhase(progress, 0...sectorEnumerationShare),
    { b in
      setupPhase(progress, sectorEnumerationShare + share * Double(b)...sectorEnumerationShare + share * Double(b + 1))
    }
  )
}

/// Completed units of a parallel loop, reported as a fraction as each one finishes.
final class ProgressCounter: Sendable {
  private let done = Atomic<Int>(0)
  private let total: Int
  private let report: SetupProgress

  init?(total: Int, report: SetupProgress?) {
    guard let report else { return nil }
    self.total = max(1, total)
    self.report = report
  }

  func complete() {
    let finished = done.add(1, ordering: .relaxed).newValue
    report(min(1, Double(finished) / Double(total)))
  }
}
