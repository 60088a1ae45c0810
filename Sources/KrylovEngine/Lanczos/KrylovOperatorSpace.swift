/// An operator space the Lanczos driver can run in: an orthonormal basis, split into blocks.
///
/// The basis is orthonormal, so the inner product is the plain dot product of coefficient
/// vectors. The Liouvillian maps block `b` into block `(b + 1) % blockCount`: with two blocks
/// (time-reversal parity) successive Krylov vectors alternate and each is orthogonal to every
/// vector of the other block for free. Quantum sectors are one implementation; classical spin
/// spaces are another.
public protocol KrylovOperatorSpace: Sendable {
  /// Dimension of each block.
  var blockDimensions: [Int] { get }
  /// The block holding the initial operator.
  var initialBlock: Int { get }
  /// The initial operator's coefficients in `initialBlock` (not necessarily normalized).
  var initialVector: [Double] { get }
  /// A scale for the Liouvillian's size, used to tell a conserved operator (b_1 = 0) from a small b_1.
  var liouvillianScale: Double { get }
  /// Bytes held by the space itself (basis tables, matrices).
  var storageBytes: Int { get }
  /// `output = L input` for `input` in block `block`; `output` lies in the next block.
  ///
  /// With `perturbation` > 0 each matrix element is scaled by a fixed pseudo-random factor
  /// in `1 ± perturbation`: the probe the trust estimate runs beside the exact recursion.
  func applyLiouvillian(
    block: Int, input: UnsafeBufferPointer<Double>, output: UnsafeMutableBufferPointer<Double>,
    perturbation: Double)
  /// One line saying which sector the space is.
  var sectorDescription: String { get }
  /// How many leading entries of its block vector `n` (O_0 is vector 0) can occupy.
  ///
  /// A space that orders its basis by the step at which each element is first reached (the
  /// infinite chain, classical chains) lets vector n live in a prefix that grows with n, so early
  /// vectors cost only what they hold. `applyLiouvillian` then receives vector n's prefix and
  /// writes vector n + 1's (`output.count`); entries beyond a prefix are zero by construction.
  func vectorLength(step n: Int) -> Int
  /// Part `part` of `parts` of applying L to both runs' vectors at once (the run's, exact, and
  /// the probe's, perturbed). The driver calls every part concurrently. A space that can read
  /// its Liouvillian once for both runs does so; the default gives each part one run.
  /// `interleaved` holds both inputs entry by entry (run, probe, run, probe, ...), so one
  /// random read fetches both.
  func applyLiouvillianPair(
    block: Int, inputs: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>),
    interleaved: UnsafeBufferPointer<Double>,
    outputs: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>),
    perturbation: Double, part: Int, parts: Int)
}

extension KrylovOperatorSpace {
  /// The whole block: the basis is not ordered by reach.
  public func vectorLength(step n: Int) -> Int {
    blockDimensions[(initialBlock + n) % blockDimensions.count]
  }

  public func applyLiouvillianPair(
    block: Int, inputs: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>),
    interleaved: UnsafeBufferPointer<Double>,
    outputs: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>),
    perturbation: Double, part: Int, parts: Int
  ) {
    if part == 0 { applyLiouvillian(block: block, input: inputs.0, output: outputs.0, perturbation: 0) }
    if part == parts - 1 {
      applyLiouvillian(block: block, input: inputs.1, output: outputs.1, perturbation: perturbation)
    }
  }
}
