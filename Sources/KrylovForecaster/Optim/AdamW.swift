import RealModule

/// AdamW (decoupled weight decay) over a whole parameter slab, as one flat loop.
public struct AdamW<S: ForecastScalar> {
  public var beta1: S = 0.9
  public var beta2: S = 0.95
  public var epsilon: S = 1e-8
  public var weightDecay: S = 0.01
  /// Moments, same layout as the parameters.
  private var m: [S]
  private var v: [S]
  public private(set) var step = 0

  public init(count: Int, weightDecay: S = 0.01) {
    m = Array(repeating: 0, count: count)
    v = Array(repeating: 0, count: count)
    self.weightDecay = weightDecay
  }

  /// One update of `params` from `grads` with learning rate `lr`.
  public mutating func update(
    params: UnsafeMutableBufferPointer<S>, grads: UnsafeMutableBufferPointer<S>, lr: S
  ) {
    precondition(params.count == m.count && grads.count == m.count)
    step += 1
    let correction1 = 1 - S.pow(beta1, step)
    let correction2 = 1 - S.pow(beta2, step)
    let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
    m.withUnsafeMutableBufferPointer { m in
      v.withUnsafeMutableBufferPointer { v in
        for i in 0..<params.count {
          let g = grads[i]
          m[i] = b1 * m[i] + (1 - b1) * g
          v[i] = b2 * v[i] + (1 - b2) * g * g
          let mHat = m[i] / correction1
          let vHat = v[i] / correction2
          params[i] -= lr * (mHat / (S.sqrt(vHat) + eps) + wd * params[i])
        }
      }
    }
  }
}

/// Scales `grads` so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradients<S: ForecastScalar>(_ grads: UnsafeMutableBufferPointer<S>, maxNorm: S) -> S {
  var sum: S = 0
  for g in grads { sum += g * g }
  let norm = S.sqrt(sum)
  if norm > maxNorm && norm > 0 {
    let f = maxNorm / norm
    for i in 0..<grads.count { grads[i] *= f }
  }
  return norm
}

/// Linear warm-up to the peak rate, then cosine decay to `floor`·peak at the last step.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
  public var peak: Double
  public var warmupSteps: Int
  public var totalSteps: Int
  public var floor: Double

  public init(peak: Double, warmupSteps: Int, totalSteps: Int, floor: Double = 0.1) {
    self.peak = peak
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
    self.floor = floor
  }

  /// The rate at 1-based `step`.
  public func rate(at step: Int) -> Double {
    if step <= warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
    let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
    let cosine = 0.5 * (1 + Double.cos(Double.pi * min(1, progress)))
    return peak * (floor + (1 - floor) * cosine)
  }
}
