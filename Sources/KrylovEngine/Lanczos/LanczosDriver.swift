import COpenBLAS
import Dispatch
import Foundation

/// Settings of one Lanczos run.
public struct LanczosOptions: Sendable, Codable, Equatable {
  /// Number of coefficients b_1 ... b_steps to compute (fewer if the space is exhausted).
  public var steps: Int
  /// The Krylov space is exhausted when b_n < exhaustionTolerance * max(b) (physics.md §2).
  public var exhaustionTolerance: Double = 1e-10
  /// A coefficient is trusted while the probe run agrees with it to this relative difference.
  public var trustTolerance: Double = 1e-11
  /// Relative size of the perturbations the probe run carries (matrix elements and each new vector).
  public var probePerturbation: Double = 1e-14
  /// An untrusted b_n below this times max(b) is taken as a blurred exhaustion point: the run
  /// stops there and reports the exhaustion as not trusted.
  public var suspectedExhaustion: Double = 1e-5

  public init(steps: Int) { self.steps = steps }
}

/// One computed coefficient, delivered as soon as it exists.
public struct LanczosStep: Sendable, Equatable {
  /// The index n of b_n (1-based, physics.md §2).
  public var n: Int
  public var b: Double
  /// Whether b_n and every earlier coefficient passed the trust test.
  public var trusted: Bool
  /// Relative difference |b_n - b'_n| / b_n between the run and its perturbed probe.
  public var probeDeviation: Double
  /// Wall time of this step, seconds.
  public var seconds: Double
}

/// Why a run stopped.
public enum LanczosStopReason: String, Sendable, Codable {
  case completed, exhausted, conserved, cancelled
}

/// Everything a finished (or cancelled) run produced.
public struct LanczosResult: Sendable, Equatable {
  /// b_1, b_2, ... as computed.
  public var coefficients: [Double]
  /// How many leading coefficients are trusted to 1e-10 relative (see docs/physics.md).
  public var trustedCount: Int
  public var stopReason: LanczosStopReason
  /// Dimension of the Krylov space when it was exhausted (coefficients.count + 1), else nil.
  public var krylovDimension: Int?
  /// Whether the exhaustion point itself is trusted (the probe exhausted at the same step).
  public var exhaustionTrusted: Bool
  public var probeDeviations: [Double]
  public var stepSeconds: [Double]
  public var totalSeconds: Double

  public var exhausted: Bool { stopReason == .exhausted || stopReason == .conserved }
  public var conserved: Bool { stopReason == .conserved }
}

/// The Lanczos recursion of physics.md §2 with full reorthogonalization, run twice in lockstep.
///
/// The second ("probe") run is the same recursion on a copy of the Liouvillian whose elements
/// are perturbed by a relative 1e-14 and whose every new vector is perturbed likewise: far
/// above the rounding errors of the first run. Whatever amplifies rounding errors (components
/// in directions the exact Krylov space never reaches) amplifies the probe's perturbations at
/// least as much, so |b_n - b'_n| bounds the error of b_n with a wide margin. A coefficient is
/// trusted while that difference stays below `trustTolerance` (1e-11) relative, a hundred times
/// tighter than the 1e-10 the trust promises. The two runs share nothing but the operator space
/// and use one core each.
public final class LanczosDriver: @unchecked Sendable {
  public let space: any KrylovOperatorSpace
  public let options: LanczosOptions

  public init(space: any KrylovOperatorSpace, options: LanczosOptions) {
    self.space = space
    self.options = options
  }

  /// Bytes the run holds beyond the space itself: both runs' Krylov vectors and work vectors.
  public static func vectorBytes(blockDimensions: [Int], initialBlock: Int, steps: Int) -> Int {
    Int(min(estimatedVectorBytes(blockDimensions: blockDimensions, initialBlock: initialBlock, steps: steps), 0x1p61))
  }

  /// `vectorBytes` in floating point, for estimates of requests far too large to run.
  public static func estimatedVectorBytes(blockDimensions: [Int], initialBlock: Int, steps: Int) -> Double {
    let blocks = blockDimensions.count
    // Vector n lives in block (initialBlock + n) % blocks: count each block's share of the steps + 1 vectors.
    let stored = blockDimensions.enumerated().reduce(0.0) { total, entry in
      let (b, dim) = entry
      let offset = (b - initialBlock + blocks) % blocks
      let vectors = steps >= offset ? (steps - offset) / blocks + 1 : 0
      return total + Double(dim) * Double(vectors)
    }
    let work = Double(blockDimensions.max() ?? 0) * 2
    return 2 * (stored + work) * Double(MemoryLayout<Double>.size)
  }

  /// Runs to completion on the calling thread, reporting each coefficient through `onStep`.
  ///
  /// `isCancelled` is polled between steps; a cancelled run returns what it has, and its
  /// vectors are released when this returns.
  public func run(
    isCancelled: () -> Bool = { false }, onStep: (LanczosStep) -> Void = { _ in }
  ) -> LanczosResult {
    let start = DispatchTime.now()
    openblas_set_num_threads(1)  // one core per run: the two runs fill the machine
    let main = Recursion(space: space, steps: options.steps, perturbation: 0, seed: 0)
    let probe = Recursion(
      space: space, steps: options.steps, perturbation: options.probePerturbation, seed: 0x5EED)
    let runs = [main, probe]
    var coefficients: [Double] = []
    var deviations: [Double] = []
    var seconds: [Double] = []
    var trusted = 0
    var reason = LanczosStopReason.completed
    var exhaustionTrusted = false
    let referenceScale = space.liouvillianScale
    var maxB = 0.0

    for n in stride(from: 1, through: options.steps, by: 1) {
      if isCancelled() {
        reason = .cancelled
        break
      }
      let stepStart = DispatchTime.now()
      DispatchQueue.concurrentPerform(iterations: 2) { i in runs[i].advance(to: n) }
      let b = main.lastNorm
      let bProbe = probe.lastNorm
      // b_1 has no earlier coefficient to compare with: measure it against the Liouvillian's size.
      let threshold = options.exhaustionTolerance * (n == 1 ? referenceScale : maxB)
      if b < threshold {
        reason = n == 1 ? .conserved : .exhausted
        // The probe carries perturbations ~100x the run's rounding errors (1e-14 against ~1e-16),
        // so its residual at a true exhaustion point is ~100x the run's: allow that factor.
        let probeThreshold = threshold * max(1, options.probePerturbation / 1e-16)
        exhaustionTrusted = trusted == n - 1 && bProbe < probeThreshold
        break
      }
      let deviation = abs(b - bProbe) / b
      if trusted == n - 1 && deviation <= options.trustTolerance { trusted = n }
      // A residual far below the coefficients, at the very step where trust ends, is an exhaustion
      // point blurred by amplified rounding (components the sector does not exclude, such as
      // those of conserved charges of integrable models): nothing after it can be trusted.
      if trusted == n - 1 && n > 1 && b < options.suspectedExhaustion * maxB {
        reason = .exhausted
        exhaustionTrusted = false
        break
      }
      maxB = max(maxB, b)
      main.accept(b)
      probe.accept(bProbe)
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - stepStart.uptimeNanoseconds) / 1e9
      coefficients.append(b)
      deviations.append(deviation)
      seconds.append(elapsed)
      onStep(LanczosStep(n: n, b: b, trusted: trusted == n, probeDeviation: deviation, seconds: elapsed))
    }
    let total = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let dimension: Int? = (reason == .exhausted || reason == .conserved) ? coefficients.count + 1 : nil
    return LanczosResult(
      coefficients: coefficients, trustedCount: trusted, stopReason: reason, krylovDimension: dimension,
      exhaustionTrusted: exhaustionTrusted, probeDeviations: deviations, stepSeconds: seconds,
      totalSeconds: total)
  }
}

/// One recursion's state: its Krylov vectors, one contiguous column-major matrix per block.
final class Recursion: @unchecked Sendable {
  let space: any KrylovOperatorSpace
  let perturbation: Double
  let dims: [Int]
  let blockCount: Int
  let firstBlock: Int
  /// basis[b] holds capacity[b] columns of length dims[b].
  var basis: [UnsafeMutablePointer<Double>]
  var stored: [Int]
  let work: UnsafeMutablePointer<Double>
  let overlaps: UnsafeMutablePointer<Double>
  let overlaps2: UnsafeMutablePointer<Double>
  var previousB = 0.0
  var lastNorm = 0.0
  var rng: SplitMix64

  static func capacities(blocks: Int, initialBlock: Int, steps: Int) -> [Int] {
    var c = [Int](repeating: 0, count: blocks)
    for n in 0...max(steps, 0) { c[(initialBlock + n) % blocks] += 1 }
    return c
  }

  init(space: any KrylovOperatorSpace, steps: Int, perturbation: Double, seed: UInt64) {
    self.space = space
    self.perturbation = perturbation
    self.dims = space.blockDimensions
    self.blockCount = dims.count
    self.firstBlock = space.initialBlock
    let caps = Self.capacities(blocks: blockCount, initialBlock: firstBlock, steps: steps)
    basis = zip(dims, caps).map { UnsafeMutablePointer<Double>.allocate(capacity: max(1, $0 * $1)) }
    stored = Array(repeating: 0, count: blockCount)
    let maxDim = dims.max() ?? 1
    work = .allocate(capacity: max(1, maxDim))
    overlaps = .allocate(capacity: max(1, caps.max() ?? 1))
    overlaps2 = .allocate(capacity: max(1, caps.max() ?? 1))
    rng = SplitMix64(seed: seed)
    // O_0 = O / ||O||.
    let v = space.initialVector
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let column = basis[firstBlock]
    for i in 0..<v.count { column[i] = v[i] / norm }
    stored[firstBlock] = 1
  }

  deinit {
    for p in basis { p.deallocate() }
    work.deallocate()
    overlaps.deallocate()
    overlaps2.deallocate()
  }

  private func column(block b: Int, _ j: Int) -> UnsafeMutablePointer<Double> { basis[b] + j * dims[b] }

  /// Computes A_n = L O_{n-1} + b_{n-1} O_{n-2}, reorthogonalized twice; leaves ||A_n|| in lastNorm.
  ///
  /// The sign is physics.md's recursion carried over to the real map L = i[H, .]: that map is
  /// antisymmetric, and with R_n = i^n O_n the recursion for the self-adjoint [H, .] becomes
  /// L R_{n-1} = b_n R_n - b_{n-1} R_{n-2}. The b_n are the same.
  func advance(to n: Int) {
    let source = (firstBlock + n - 1) % blockCount
    let target = (firstBlock + n) % blockCount
    let dim = dims[target]
    let previous = column(block: source, stored[source] - 1)
    space.applyLiouvillian(
      block: source, input: UnsafeBufferPointer(start: previous, count: dims[source]),
      output: UnsafeMutableBufferPointer(start: work, count: dim), perturbation: perturbation)
    if perturbation > 0 {
      for i in 0..<dim { work[i] *= 1 + perturbation * rng.nextSigned() }
    }
    if n >= 2 {
      // O_{n-2} is the newest vector of the target block (blocks alternate, or there is one block).
      let older = column(block: target, stored[target] - (blockCount == 1 ? 2 : 1))
      cblas_daxpy(Int32(dim), previousB, older, 1, work, 1)
    }
    reorthogonalize(block: target)
    lastNorm = dim > 0 ? cblas_dnrm2(Int32(dim), work, 1) : 0
  }

  /// Classical Gram-Schmidt, twice, against every stored vector of the block, in three sweeps:
  /// c1 = V^T a; then a -= V c1 and c2 = V^T a on each cache-sized slab of rows while it is
  /// hot; then a -= V c2. Every product goes through BLAS.
  private func reorthogonalize(block b: Int) {
    let k = stored[b]
    let dim = dims[b]
    guard k > 0, dim > 0 else { return }
    let lda = Int32(dim)
    let m = basis[b]
    let a = work
    let c1 = overlaps
    let c2 = overlaps2
    let kk = Int32(k)
    cblas_dgemv(CblasColMajor, CblasTrans, lda, kk, 1, m, lda, a, 1, 0, c1, 1)
    for j in 0..<k { c2[j] = 0 }
    // About 256 KiB of V per slab, so it is still in cache for the second overlaps.
    let slab = max(64, 32768 / k)
    var start = 0
    while start < dim {
      let rows = Int32(min(slab, dim - start))
      cblas_dgemv(CblasColMajor, CblasNoTrans, rows, kk, -1, m + start, lda, c1, 1, 1, a + start, 1)
      cblas_dgemv(CblasColMajor, CblasTrans, rows, kk, 1, m + start, lda, a + start, 1, 1, c2, 1)
      start += slab
    }
    cblas_dgemv(CblasColMajor, CblasNoTrans, lda, kk, -1, m, lda, c2, 1, 1, a, 1)
  }

  /// Stores O_n = A_n / b_n.
  func accept(_ b: Double) {
    let n = stored.reduce(0, +)  // vectors so far = index of the new one
    let target = (firstBlock + n) % blockCount
    let dest = column(block: target, stored[target])
    let dim = dims[target]
    let inverse = 1 / b
    for i in 0..<dim { dest[i] = work[i] * inverse }
    stored[target] += 1
    previousB = b
  }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): reproducible probes.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [-1, 1).
  public mutating func nextSigned() -> Double { Double(Int64(bitPattern: next()) >> 11) * 0x1p-52 }
}
