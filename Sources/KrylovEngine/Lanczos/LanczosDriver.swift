import COpenBLAS
import Dispatch
import Foundation

/// Settings of one Lanczos run.
public struct LanczosOptions: Sendable, Codable, Equatable {
  /// Number of coefficients b_1 to b_steps to compute (fewer if the space is exhausted).
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
  /// Against which stored vectors, and when, each new vector is reorthogonalized.
  public var reorthogonalization: Reorthogonalization = .full
  /// How the stored Krylov vectors are kept.
  public var precision: VectorPrecision = .double
  /// Each b_n is reported multiplied by this: the energy scale a `RunPlan` divided out of H
  /// (a power of two, so the division and the product are exact).
  public var coefficientScale: Double = 1

  public init(steps: Int, reorthogonalization: Reorthogonalization = .full, precision: VectorPrecision = .double) {
    self.steps = steps
    self.reorthogonalization = reorthogonalization
    self.precision = precision
  }
}

/// When the recursion reorthogonalizes (docs/physics.md, "Reorthogonalization").
public enum Reorthogonalization: String, Sendable, Codable, CaseIterable {
  /// Every new vector, twice, against every stored vector of its block.
  case full
  /// Simon's partial reorthogonalization: the loss of orthogonality is estimated by its
  /// recurrence, and a vector (and the next one) is reorthogonalized only when the estimate
  /// passes √ε. Semi-orthogonality keeps the b_n at working accuracy.
  case partial
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
  /// A coefficient came out NaN or infinite (an input beyond double precision's range): the
  /// run stops before reporting it.
  case nonFinite = "non_finite"
}

/// Everything a finished (or cancelled) run produced.
public struct LanczosResult: Sendable, Equatable {
  /// b_1, b_2, … as computed.
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
  /// Steps n at which the run's new vector O_n was reorthogonalized (all of them with `.full`).
  public var reorthogonalizedAt: [Int] = []
  /// The same for the probe run.
  public var probeReorthogonalizedAt: [Int] = []
  public var reorthogonalizedSteps: Int { reorthogonalizedAt.count }

  public var exhausted: Bool { stopReason == .exhausted || stopReason == .conserved }
  public var conserved: Bool { stopReason == .conserved }
}

/// The Lanczos recursion of physics.md §2, reorthogonalized as `LanczosOptions` says, run twice in lockstep.
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
  public static func vectorBytes(
    blockDimensions: [Int], initialBlock: Int, steps: Int, precision: VectorPrecision = .double
  ) -> Int {
    Int(
      min(
        estimatedVectorBytes(
          blockDimensions: blockDimensions, initialBlock: initialBlock, steps: steps, precision: precision),
        0x1p61))
  }

  /// `vectorBytes` in floating point, for estimates of requests far too large to run.
  public static func estimatedVectorBytes(
    blockDimensions: [Int], initialBlock: Int, steps: Int, precision: VectorPrecision = .double
  ) -> Double {
    let blocks = blockDimensions.count
    guard blocks > 0 else { return 0 }
    // Vector n lives in block (initialBlock + n) % blocks, at the block's full length.
    var lengths = [[Int]](repeating: [], count: blocks)
    for n in 0...max(steps, 0) {
      let b = (initialBlock + n) % blocks
      lengths[b].append(blockDimensions[b])
    }
    let stored = lengths.reduce(0.0) { $0 + KrylovVectorStore.bytes(lengths: $1, precision: precision) }
    // The new vector and the two latest, in Double.
    let work = Double(blockDimensions.max() ?? 0) * 3 * 8
    let pair = Double(blockDimensions.max() ?? 0) * 2 * 8
    return 2 * (stored + work) + pair
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
    let main = Recursion(space: space, options: options, perturbation: 0, seed: 0)
    let probe = Recursion(space: space, options: options, perturbation: options.probePerturbation, seed: 0x5EED)
    let runs = [main, probe]
    let pair = PairBuffer(count: 2 * (space.blockDimensions.max() ?? 1))
    // Below a few tens of thousands of entries a step takes tens of microseconds, about what
    // handing work to a second thread costs: small sectors run both halves on this thread.
    let parallel = (space.blockDimensions.max() ?? 0) >= 32_768
    let inParallel = { (parts: Int, body: @Sendable (Int) -> Void) in
      if parallel {
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
      } else {
        for part in 0..<parts { body(part) }
      }
    }
    var coefficients: [Double] = []
    var deviations: [Double] = []
    var seconds: [Double] = []
    var trusted = 0
    var reason = LanczosStopReason.completed
    var exhaustionTrusted = false
    let referenceScale = space.liouvillianScale
    var maxB = 0.0
    // A small sector's Krylov dimension, known exactly, replaces the floating-point signs of
    // exhaustion, which rounding in an integrable chain's hidden conserved charges blurs. It is
    // computed once, when it can matter: at the first untrusted coefficient or the first sign
    // of exhaustion (while every coefficient is trusted, the probe already decides).
    var exact: ExactKrylovDimension.Finding?
    var exactAsked = false
    // b_n = 0 exactly: the space ends here, whatever rounding would make of it.
    func endsExactly(at n: Int) -> Bool {
      guard exact == .exhausted(dimension: n) else { return false }
      reason = n == 1 ? .conserved : .exhausted
      exhaustionTrusted = true  // exact arithmetic found it
      return true
    }

    for n in stride(from: 1, through: options.steps, by: 1) {
      if isCancelled() {
        reason = .cancelled
        break
      }
      if endsExactly(at: n) { break }
      let stepStart = DispatchTime.now()
      // L for both runs in one pass over the Liouvillian, then the rest of each run on its core.
      let source = (space.initialBlock + n - 1) % space.blockDimensions.count
      let inputLength = space.vectorLength(step: n - 1)
      inParallel(2) { part in
        let (a, b) = (main.liouvillianInput(n), probe.liouvillianInput(n))
        for i in inputLength * part / 2..<inputLength * (part + 1) / 2 {
          pair[2 * i] = a[i]
          pair[2 * i + 1] = b[i]
        }
      }
      inParallel(2) { part in
        space.applyLiouvillianPair(
          block: source, inputs: (main.liouvillianInput(n), probe.liouvillianInput(n)),
          interleaved: UnsafeBufferPointer(start: pair.base, count: 2 * inputLength),
          outputs: (main.liouvillianOutput(n), probe.liouvillianOutput(n)), perturbation: options.probePerturbation,
          part: part, parts: 2)
      }
      inParallel(2) { i in runs[i].completeStep(n) }
      let b = main.lastNorm
      let bProbe = probe.lastNorm
      guard b.isFinite && bProbe.isFinite else {
        reason = .nonFinite
        break
      }
      // b_1 has no earlier coefficient to compare with: measure it against the Liouvillian's size.
      let threshold = options.exhaustionTolerance * (n == 1 ? referenceScale : maxB)
      let deviation = abs(b - bProbe) / b
      let agrees = trusted == n - 1 && deviation <= options.trustTolerance
      if !exactAsked && (!agrees || b < options.suspectedExhaustion * maxB || b < threshold) {
        exactAsked = true
        if let exactSpace = space as? any ExactlyRepresentedSpace {
          exact = ExactKrylovDimension.compute(space: exactSpace, steps: options.steps, isCancelled: isCancelled)
        }
        if endsExactly(at: n) { break }
      }
      if exact == nil && b < threshold {
        reason = n == 1 ? .conserved : .exhausted
        // The probe carries perturbations ~100x the run's rounding errors (1e-14 against ~1e-16),
        // so its residual at a true exhaustion point is ~100x the run's: allow that factor.
        let probeThreshold = threshold * max(1, options.probePerturbation / 1e-16)
        exhaustionTrusted = trusted == n - 1 && bProbe < probeThreshold
        break
      }
      if agrees { trusted = n }
      // A residual far below the coefficients, at the very step where trust ends, is an exhaustion
      // point blurred by amplified rounding (components the sector does not exclude, such as
      // those of conserved charges of integrable models): nothing after it can be trusted.
      if exact == nil && trusted == n - 1 && n > 1 && b < options.suspectedExhaustion * maxB {
        reason = .exhausted
        exhaustionTrusted = false
        break
      }
      maxB = max(maxB, b)
      main.accept(b)
      probe.accept(bProbe)
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - stepStart.uptimeNanoseconds) / 1e9
      let reported = b * options.coefficientScale
      guard reported.isFinite else {
        reason = .nonFinite
        break
      }
      coefficients.append(reported)
      deviations.append(deviation)
      seconds.append(elapsed)
      onStep(LanczosStep(n: n, b: reported, trusted: trusted == n, probeDeviation: deviation, seconds: elapsed))
    }
    let total = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let dimension: Int? = (reason == .exhausted || reason == .conserved) ? coefficients.count + 1 : nil
    return LanczosResult(
      coefficients: coefficients, trustedCount: min(trusted, coefficients.count), stopReason: reason,
      krylovDimension: dimension,
      exhaustionTrusted: exhaustionTrusted, probeDeviations: deviations, stepSeconds: seconds,
      totalSeconds: total, reorthogonalizedAt: main.reorthogonalizedAt,
      probeReorthogonalizedAt: probe.reorthogonalizedAt)
  }
}

/// Both runs' inputs, interleaved, for the shared product (freed with the run).
final class PairBuffer: @unchecked Sendable {
  let base: UnsafeMutablePointer<Double>
  init(count: Int) { base = .allocate(capacity: max(1, count)) }
  deinit { base.deallocate() }
  subscript(i: Int) -> Double {
    get { base[i] }
    set { base[i] = newValue }
  }
}
