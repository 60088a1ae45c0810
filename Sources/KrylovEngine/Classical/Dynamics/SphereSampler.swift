import Foundation

/// Independent spins uniformly distributed on the unit sphere: the infinite-temperature
/// ensemble of physics.md §6.
///
/// The generator is the engine's `SplitMix64`: small, fast, and with unrelated streams for
/// nearby seeds.
public enum SphereSampler {
  /// A uniform number in [0, 1) with 53 random bits.
  @inline(__always)
  public static func unit(_ generator: inout SplitMix64) -> Double { Double(generator.next() >> 11) * 0x1p-53 }

  /// The seed of the `index`-th independent stream derived from `seed`: two rounds of mixing, so
  /// streams of consecutive indices (or seeds) are unrelated.
  public static func streamSeed(_ seed: UInt64, stream index: UInt64) -> UInt64 {
    var a = SplitMix64(seed: seed)
    let base = a.next()
    var b = SplitMix64(seed: base ^ (index &* 0xD1B5_4A32_D192_ED03))
    return b.next()
  }

  /// Fills `count` unit vectors into `state` (flat `[x0, y0, z0, …]`): z uniform in [−1, 1]
  /// and the azimuth uniform (Archimedes: equal heights cut equal areas).
  public static func fill(_ state: UnsafeMutablePointer<Double>, count: Int, generator: inout SplitMix64) {
    for j in 0..<count {
      let z = 2 * unit(&generator) - 1
      let phi = 2 * Double.pi * unit(&generator)
      let r = max(0, 1 - z * z).squareRoot()
      state[3 * j] = r * cos(phi)
      state[3 * j + 1] = r * sin(phi)
      state[3 * j + 2] = z
    }
  }

  /// `count` uniform unit vectors as a flat array.
  public static func sample(count: Int, generator: inout SplitMix64) -> [Double] {
    var state = [Double](repeating: 0, count: 3 * count)
    state.withUnsafeMutableBufferPointer { buffer in
      // No vectors, nothing to draw.
      guard let base = buffer.baseAddress else { return }
      fill(base, count: count, generator: &generator)
    }
    return state
  }
}
