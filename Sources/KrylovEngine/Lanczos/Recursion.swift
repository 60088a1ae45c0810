import COpenBLAS
import Foundation

/// One recursion's state: the two latest Krylov vectors in Double, every stored vector per
/// block, and (for partial reorthogonalization) the estimated loss of orthogonality.
final class Recursion: @unchecked Sendable {
  let space: any KrylovOperatorSpace
  let perturbation: Double
  let mode: Reorthogonalization
  let precision: VectorPrecision
  let dims: [Int]
  let blockCount: Int
  let firstBlock: Int
  let stores: [KrylovVectorStore]
  /// A_n while it is built, then O_n once accepted.
  let work: UnsafeMutablePointer<Double>
  /// O_{n-1} and O_{n-2}: the recursion's inputs.
  var latest: UnsafeMutablePointer<Double>
  var older: UnsafeMutablePointer<Double>
  /// Vectors accepted so far (O_0 to O_{accepted-1}).
  var accepted = 1
  var previousB = 0.0
  var lastNorm = 0.0
  private(set) var reorthogonalizedAt: [Int] = []
  var rng: SplitMix64
  /// b_1 to b_{accepted-1}, with b_0 = 0 in front.
  private var b: [Double] = [0]
  /// ω_{n-1, j} and ω_{n-2, j}: estimated overlaps of the two latest vectors with each earlier one.
  private var omega: [Double] = [1]
  private var omegaOld: [Double] = []
  private var pendingOmega: [Double] = []
  private var reorthogonalizeNext = false

  init(space: any KrylovOperatorSpace, options: LanczosOptions, perturbation: Double, seed: UInt64) {
    self.space = space
    self.perturbation = perturbation
    self.mode = options.reorthogonalization
    self.precision = options.precision
    self.dims = space.blockDimensions
    self.blockCount = dims.count
    self.firstBlock = space.initialBlock
    let blocks = space.blockDimensions
    let planned = Self.plannedLengths(space: space, steps: options.steps)
    stores = blocks.indices.map {
      KrylovVectorStore(precision: options.precision, dimension: blocks[$0], lengths: planned[$0])
    }
    let maxDim = max(1, dims.max() ?? 1)
    work = .allocate(capacity: maxDim)
    latest = .allocate(capacity: maxDim)
    older = .allocate(capacity: maxDim)
    rng = SplitMix64(seed: seed)
    // O_0 = O / ||O||.
    let v = space.initialVector
    // Scaled by the largest entry, so an operator of 1e±200 neither overflows nor underflows.
    let largest = v.reduce(0) { max($0, abs($1)) }
    let norm = largest > 0 ? largest * v.reduce(0) { $0 + ($1 / largest) * ($1 / largest) }.squareRoot() : 0
    let length = space.vectorLength(step: 0)
    for i in 0..<length { latest[i] = i < v.count ? v[i] / norm : 0 }
    stores[firstBlock].append(latest, length: length, scale: 1)
  }

  /// The lengths of the vectors each block will store, O_0 to O_steps.
  static func plannedLengths(space: any KrylovOperatorSpace, steps: Int) -> [[Int]] {
    let blocks = space.blockDimensions.count
    var lengths = [[Int]](repeating: [], count: blocks)
    for n in 0...max(steps, 0) { lengths[(space.initialBlock + n) % blocks].append(space.vectorLength(step: n)) }
    return lengths
  }

  deinit {
    work.deallocate()
    latest.deallocate()
    older.deallocate()
  }

  private func block(ofVector n: Int) -> Int { (firstBlock + n) % blockCount }

  /// Computes A_n = L O_{n-1} + b_{n-1} O_{n-2}, reorthogonalized as the mode asks; leaves ||A_n|| in lastNorm.
  ///
  /// The sign is physics.md's recursion carried over to the real map L = i[H, .]: that map is
  /// antisymmetric, and with R_n = i^n O_n the recursion for the self-adjoint [H, .] becomes
  /// L R_{n-1} = b_n R_n - b_{n-1} R_{n-2}. The b_n are the same.
  func advance(to n: Int) {
    space.applyLiouvillian(
      block: block(ofVector: n - 1), input: liouvillianInput(n), output: liouvillianOutput(n),
      perturbation: perturbation)
    completeStep(n)
  }

  /// O_{n-1}: what L is applied to at step n.
  func liouvillianInput(_ n: Int) -> UnsafeBufferPointer<Double> {
    UnsafeBufferPointer(start: latest, count: space.vectorLength(step: n - 1))
  }

  /// Where L O_{n-1} goes at step n.
  func liouvillianOutput(_ n: Int) -> UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(start: work, count: space.vectorLength(step: n))
  }

  /// The rest of step n once `work` holds L O_{n-1}.
  func completeStep(_ n: Int) {
    let target = block(ofVector: n)
    let length = space.vectorLength(step: n)
    if perturbation > 0 {
      for i in 0..<length { work[i] *= 1 + perturbation * rng.nextSigned() }
    }
    if n >= 2 {
      // O_{n-2} lies in the target block: blocks alternate, or there is one.
      cblas_daxpy(Int32(space.vectorLength(step: n - 2)), previousB, older, 1, work, 1)
    }
    switch mode {
    case .full:
      stores[target].orthogonalize(work, length: length)
      reorthogonalizedAt.append(n)
      lastNorm = norm(length)
    case .partial:
      lastNorm = norm(length)
      guard lastNorm > 0 else { return }
      let estimate = estimateOrthogonality(n: n, norm: lastNorm, length: length)
      let worst = sameBlockIndices(n).reduce(0.0) { max($0, abs(estimate[$1])) }
      if reorthogonalizeNext || worst > Self.semiOrthogonality {
        // Simon's rule: reorthogonalize this vector and the next, whose estimate still carries
        // the loss of the vector before.
        reorthogonalizeNext = !reorthogonalizeNext
        stores[target].orthogonalize(work, length: length)
        reorthogonalizedAt.append(n)
        lastNorm = norm(length)
        for j in sameBlockIndices(n) { pendingOmega[j] = reorthogonalizedFloor(length) }
      }
    }
  }

  private func norm(_ length: Int) -> Double { length > 0 ? cblas_dnrm2(Int32(length), work, 1) : 0 }

  /// √ε: below it the basis is semi-orthogonal and the b_n are accurate to working precision (Simon 1984).
  static let semiOrthogonality = Double.ulpOfOne.squareRoot()

  /// The size of the rounding (or probe perturbation) each step adds to an overlap.
  private func noiseUnit(_ length: Int) -> Double {
    max(Double.ulpOfOne, perturbation) * 0.5 * Double(max(length, 1)).squareRoot()
  }

  /// What is left of each overlap after reorthogonalizing.
  ///
  /// Against Float copies, each projection also adds the copy's rounding (about 6e-8 per entry,
  /// weighed by the new vector): about 6e-8 / √length, far above Double rounding, so the
  /// estimate restarts there.
  private func reorthogonalizedFloor(_ length: Int) -> Double {
    let unit = noiseUnit(length)
    guard precision == .single else { return unit }
    return max(unit, Double(Float.ulpOfOne) / Double(max(length, 1)).squareRoot())
  }

  /// Earlier vectors that share vector n's block (the others are orthogonal exactly).
  private func sameBlockIndices(_ n: Int) -> StrideTo<Int> {
    stride(from: n % blockCount, to: n - 1, by: blockCount)
  }

  /// Simon's recurrence for ω_{n, j} ≈ (O_n, O_j), from L's antisymmetry:
  /// b_n ω_{n,j} = −b_{j+1} ω_{n−1,j+1} + b_j ω_{n−1,j−1} + b_{n−1} ω_{n−2,j}, plus the worst-case rounding.
  private func estimateOrthogonality(n: Int, norm bn: Double, length: Int) -> [Double] {
    var w = [Double](repeating: 0, count: n + 1)
    let unit = noiseUnit(length)
    for j in sameBlockIndices(n) {
      var x = b[n - 1] * (j < omegaOld.count ? omegaOld[j] : 0)
      x -= b[j + 1] * omega[j + 1]
      if j >= 1 { x += b[j] * omega[j - 1] }
      x += (x >= 0 ? 1 : -1) * unit * (b[j + 1] + bn)
      w[j] = x / bn
    }
    if blockCount == 1 && n >= 1 { w[n - 1] = unit }
    w[n] = 1
    pendingOmega = w
    return w
  }

  /// Stores O_n = A_n / b_n and makes it the latest vector.
  func accept(_ bn: Double) {
    let n = accepted
    let length = space.vectorLength(step: n)
    stores[block(ofVector: n)].append(work, length: length, scale: 1 / bn)
    // Rotate: O_{n-1} becomes the older input, O_n the latest.
    let freed = older
    older = latest
    latest = freed
    let inverse = 1 / bn
    for i in 0..<length { latest[i] = work[i] * inverse }
    previousB = bn
    accepted += 1
    if mode == .partial {
      b.append(bn)
      omegaOld = omega
      omega = pendingOmega
    }
  }
}
