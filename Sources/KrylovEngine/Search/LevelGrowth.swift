import Foundation

/// The extrapolation of a breadth-first search's level sizes beyond those measured, for the
/// memory estimates: the levels grow geometrically (physics.md §6, docs/benchmarks.md).
enum LevelGrowth {
  /// The growth per level: the geometric mean over the last `back` levels, times `margin`, and
  /// at least 1 (1 when fewer than two levels are known).
  static func factor(_ sizes: [Double], over back: Int, margin: Double = 1) -> Double {
    let k = sizes.count - 1
    let span = min(back, k)
    guard span > 0, sizes[k - span] > 0 else { return 1 }
    return max(1, margin * pow(sizes[k] / sizes[k - span], 1 / Double(span)))
  }

  /// `sizes` continued to `count` levels, each `factor` times the one before.
  static func extended(_ sizes: [Double], to count: Int, factor: Double) -> [Double] {
    var out = sizes
    while out.count < count { out.append((out.last ?? 0) * factor) }
    return out
  }
}
