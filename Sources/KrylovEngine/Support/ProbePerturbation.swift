/// The trust probe's nearby operator: each element of a Liouvillian scaled by a fixed hash.
///
/// Element k is scaled by 1 + p·u_k, with u_k in [-1, 1) a fixed hash of k, so the probe costs
/// no memory and is the same on every run. Every sparse format the probe runs on (quantum rows,
/// classical columns) uses this one hash.
enum ProbePerturbation {
  /// 1 + u_k · `scale`, where `scale` is the perturbation p times 2^-52.
  @inline(__always)
  static func factor(_ k: Int, scale: Double) -> Double {
    let h = (UInt64(k) &+ 0x9E37_79B9) &* 0x9E37_79B9_7F4A_7C15
    return 1 + Double(Int64(bitPattern: h) >> 11) * scale
  }
}
