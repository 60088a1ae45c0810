import COpenBLAS
import Foundation

/// Splits `0..<count` into one contiguous range per core and runs `body` on each concurrently.
///
/// The layers parallelize themselves this way (over rows, output channels or (batch, head)
/// pairs, so no two workers write the same element) and keep BLAS single-threaded: the
/// split is deterministic, so training is reproducible from its seed.
@inline(__always)
func parallelRanges(_ count: Int, minimumPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
  let workers = min(Parallelism.workers, max(1, count / max(1, minimumPerWorker)))
  if workers <= 1 {
    body(0..<count)
    return
  }
  // Each worker touches its own range only; the closure and what it captures are shared
  // read-only, so handing it to the workers is safe though the compiler cannot prove it.
  withoutActuallyEscaping(body) { body in
    let shared = UncheckedSendable(body)
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      shared.value((count * w / workers)..<(count * (w + 1) / workers))
    }
  }
}

struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// How many workers the layers use; BLAS itself stays on one thread.
public enum Parallelism {
  nonisolated(unsafe) public private(set) static var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

  /// Sets the number of workers (at least one) and pins BLAS to a single thread.
  public static func configure(workers count: Int? = nil) {
    workers = max(1, count ?? ProcessInfo.processInfo.activeProcessorCount)
    openblas_set_num_threads(1)
  }
}
