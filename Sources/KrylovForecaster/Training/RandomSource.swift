import Foundation

/// A small seeded generator (SplitMix64) with uniform and Gaussian draws.
///
/// Training, batch order, noise and initialization all draw from it, so a seed reproduces a run.
public struct RandomSource: RandomNumberGenerator, Sendable {
  private var state: UInt64
  private var spare: Double?

  public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1).
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// Standard normal (Box–Muller, both values used).
  public mutating func gaussian() -> Double {
    if let s = spare {
      spare = nil
      return s
    }
    var u = uniform()
    while u <= 0 { u = uniform() }
    let v = uniform()
    let r = (-2 * _log(u)).squareRoot()
    spare = r * _sin(2 * Double.pi * v)
    return r * _cos(2 * Double.pi * v)
  }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
