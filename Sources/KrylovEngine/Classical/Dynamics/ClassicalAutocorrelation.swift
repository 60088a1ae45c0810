import Dispatch
import Foundation
import Synchronization

/// C(t) = ⟨O(t) O(0)⟩ / ⟨O O⟩ of a classical spin chain by molecular dynamics: the average over
/// independent uniformly random initial spins (the infinite-temperature ensemble, physics.md §6)
/// of O along each trajectory, with its standard error.
///
/// **Normalization.** The estimate is the ratio of two sample means over the same trajectories,
/// C(t) ≈ mean(O(t)O(0)) / mean(O(0)²), not the mean divided by the exact ⟨O²⟩. Numerator and
/// denominator fluctuate together, so the ratio has C(0) = 1 exactly and an error that vanishes
/// as t → 0 (like t), where the short-time checks look; dividing by the exact ⟨O²⟩ would leave
/// the full sampling error of O(0)² at every t. The ratio's bias is O(1/samples), far below its
/// standard error. The standard error is the delta-method one for a ratio of means,
/// sqrt(Var[X − C·Y] / n) / mean(Y) with X = O(t)O(0), Y = O(0)², estimated from the same samples.
///
/// **Reproducibility.** Samples come in fixed chunks of `chunkSize`; chunk k draws its spins from
/// its own generator seeded by `SphereSampler.streamSeed(seed, stream: k)`, and chunk sums are
/// folded in chunk order, so the result depends on the seed and the sample count only, not on the
/// number of threads. Workers claim chunks in order and finish each chunk they claim, so a
/// cancelled run has completed exactly the first chunks: its estimate is that of a shorter run.
public struct ClassicalAutocorrelation: Sendable {
  public static let chunkSize = 256

  public let hamiltonian: SpinMonomialSum
  public let observable: SpinMonomialSum
  public let integrator: ColourSplitIntegrator
  public let samples: Int
  /// Output interval.
  public let dt: Double
  /// Number of intervals: times 0, dt, …, steps·dt.
  public let steps: Int
  public let seed: UInt64

  public init(
    hamiltonian: SpinMonomialSum, observable: SpinMonomialSum, samples: Int, dt: Double, steps: Int, seed: UInt64,
    order: ColourSplitIntegrator.Order = .fourth, substeps: Int = 1
  ) {
    precondition(hamiltonian.siteCount == observable.siteCount, "Hamiltonian and observable live on different chains")
    precondition(samples >= 1 && steps >= 0 && dt > 0 && dt.isFinite)
    self.hamiltonian = hamiltonian
    self.observable = observable
    self.integrator = ColourSplitIntegrator(hamiltonian: hamiltonian, order: order, substeps: substeps)
    self.samples = samples
    self.dt = dt
    self.steps = steps
    self.seed = seed
  }

  /// The simulation of a finite classical chain's Hamiltonian and operator (an infinite chain
  /// has no trajectories: simulate the ring `RingStandIn` chooses instead).
  public init(
    chain: SpinChain, samples: Int, dt: Double, steps: Int, seed: UInt64, order: ColourSplitIntegrator.Order = .fourth,
    substeps: Int = 1
  ) throws(SystemError) {
    guard chain.spins == .classical else { throw .classicalChain("molecular dynamics needs classical spins") }
    guard !chain.isInfinite else {
      throw .classicalChain("the infinite chain has no trajectories: simulate a ring that stands in for it")
    }
    let h = try SpinMonomialSum.hamiltonian(of: chain)
    // A step turns a spin by about its field × dt: beyond a few radians the integrator's
    // steps mean nothing (and at 1e308 they overflow). Refused, with what to change.
    let largest = h.coefficients.reduce(0.0) { max($0, abs($1)) }
    guard largest.isFinite, largest * dt <= 10 else {
      throw .classicalChain(
        "the Hamiltonian's largest coupling, \(largest), turns a spin by about \(largest * dt) radians in one "
          + "step of dt = \(dt): use a smaller time step or smaller couplings (at most 10 radians a step)")
    }
    self.init(
      hamiltonian: h, observable: try SpinMonomialSum.observable(of: chain),
      samples: samples, dt: dt, steps: steps, seed: seed, order: order, substeps: substeps)
  }

  public var times: [Double] { (0...steps).map { Double($0) * dt } }

  /// What a run returns.
  public struct Estimate: Sendable {
    public var times: [Double]
    public var values: [Double]
    public var standardErrors: [Double]
    /// Samples averaged (fewer than requested when cancelled).
    public var samples: Int
    public var requested: Int
    public var cancelled: Bool
    /// The exact ⟨O²⟩ of the inner product and its sample estimate, for comparison.
    public var exactMeanSquare: Double
    public var sampleMeanSquare: Double
  }

  /// Running sums over samples: X = O(t)O(0) per time, Y = O(0)².
  struct Sums {
    var count = 0
    var y = 0.0
    var yy = 0.0
    var x: [Double]
    var xx: [Double]
    var xy: [Double]

    init(points: Int) {
      x = Array(repeating: 0, count: points)
      xx = x
      xy = x
    }

    mutating func add(_ other: Sums) {
      count += other.count
      y += other.y
      yy += other.yy
      for i in x.indices {
        x[i] += other.x[i]
        xx[i] += other.xx[i]
        xy[i] += other.xy[i]
      }
    }
  }

  var chunkCount: Int { (samples + Self.chunkSize - 1) / Self.chunkSize }

  /// Runs the samples on `threads` workers (default: every core).
  ///
  /// `isCancelled` is polled before each chunk; `progress` is called with the number of samples
  /// done after each chunk, from worker threads.
  public func run(
    threads: Int = ProcessInfo.processInfo.activeProcessorCount,
    isCancelled: @Sendable () -> Bool = { false },
    progress: @Sendable (Int) -> Void = { _ in }
  ) -> Estimate {
    let points = steps + 1
    let chunks = chunkCount
    let workers = max(1, min(threads, chunks))
    let next = Atomic<Int>(0)
    let fold = Mutex(Fold(points: points))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      var state = [SIMD4<Double>](repeating: .zero, count: 3 * hamiltonian.siteCount)
      var one = [Double](repeating: 0, count: 3 * hamiltonian.siteCount)
      while !isCancelled() {
        let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if chunk >= chunks { break }
        let sums = runChunk(chunk, points: points, state: &state, scratch: &one)
        let done = fold.withLock { $0.commit(chunk, sums) }
        progress(done)
      }
    }
    let total = fold.withLock { $0.total }
    return estimate(total)
  }

  /// The samples of one chunk, in order, four at a time in SIMD lanes (the same arithmetic per
  /// lane as one at a time; sums are taken lane by lane, in sample order).
  func runChunk(_ chunk: Int, points: Int, state: inout [SIMD4<Double>], scratch: inout [Double]) -> Sums {
    let first = chunk * Self.chunkSize
    let count = min(Self.chunkSize, samples - first)
    var generator = SplitMix64(seed: SphereSampler.streamSeed(seed, stream: UInt64(chunk)))
    var sums = Sums(points: points)
    sums.count = count
    let n = hamiltonian.siteCount
    hamiltonian.withKernel { h in
      observable.withKernel { o in
        state.withUnsafeMutableBufferPointer { buffer in
          scratch.withUnsafeMutableBufferPointer { one in
            // Both hold 3 · siteCount ≥ 3 entries (a sum has at least one site).
            guard let s = buffer.baseAddress, let sample = one.baseAddress else {
              preconditionFailure("state buffers of a chain with sites have base addresses")
            }
            for group in stride(from: 0, to: count, by: 4) {
              let lanes = min(4, count - group)
              // Sample by sample from the chunk's stream, then into lanes; unused lanes repeat the last sample.
              for lane in 0..<4 {
                if lane < lanes { SphereSampler.fill(sample, count: n, generator: &generator) }
                for slot in 0..<(3 * n) { s[slot][lane] = one[slot] }
              }
              let start = o.value(s)
              let y = start * start
              for lane in 0..<lanes {
                sums.y += y[lane]
                sums.yy += y[lane] * y[lane]
              }
              for k in 0..<points {
                if k > 0 { integrator.advance(s, by: dt, kernel: h) }
                let x = o.value(s) * start
                for lane in 0..<lanes {
                  sums.x[k] += x[lane]
                  sums.xx[k] += x[lane] * x[lane]
                  sums.xy[k] += x[lane] * y[lane]
                }
              }
            }
          }
        }
      }
    }
    return sums
  }

  /// The ratio estimate and its delta-method standard error.
  func estimate(_ total: Sums) -> Estimate {
    let n = Double(total.count)
    let meanY = total.count > 0 ? total.y / n : .nan
    var values: [Double] = []
    var errors: [Double] = []
    for k in 0...steps {
      let c = total.x[k] / total.y
      values.append(c)
      if total.count > 1 {
        // Σ (X − cY)² = ΣXX − 2cΣXY + c²ΣYY; its mean, Σ(X − cY)/n, is zero by the choice of c.
        let residual = max(0, total.xx[k] - 2 * c * total.xy[k] + c * c * total.yy)
        errors.append((residual / (n - 1) / n).squareRoot() / meanY)
      } else {
        errors.append(.nan)
      }
    }
    return Estimate(
      times: times, values: values, standardErrors: errors, samples: total.count, requested: samples,
      cancelled: total.count < samples, exactMeanSquare: observable.meanSquare, sampleMeanSquare: meanY)
  }

  /// Chunk sums folded in chunk order, whatever order they finish in.
  struct Fold {
    var total: Sums
    var nextChunk = 0
    var pending: [Int: Sums] = [:]

    init(points: Int) { total = Sums(points: points) }

    mutating func commit(_ chunk: Int, _ sums: Sums) -> Int {
      pending[chunk] = sums
      while let ready = pending.removeValue(forKey: nextChunk) {
        total.add(ready)
        nextChunk += 1
      }
      return total.count
    }
  }
}

/// The periodic ring that stands in for the infinite chain in molecular dynamics.
///
/// For t ≤ 3 a ring of 16 sites is as good as infinitely many (physics.md §6). Finite-size
/// effects reach a site after a transit time proportional to the ring's length, so a longer
/// window takes a proportionally longer ring, 16 sites per 3 time units, up to 30 sites (the
/// cost grows like N × window); past what 30 sites represent, the window is cut.
public enum RingStandIn {
  public static let sites = 16
  /// The time up to which `sites` sites represent the infinite chain.
  public static let time = 3.0
  public static let largestRing = 30

  /// The ring's size for a window [0, window], and the end of the part of the window it represents.
  public static func ring(for window: Double) -> (sites: Int, end: Double) {
    let needed = Int((Double(sites) * window / time).rounded(.up))
    let chosen = min(largestRing, max(sites, needed + needed % 2))
    return (chosen, min(window, time * Double(chosen) / Double(sites)))
  }
}
