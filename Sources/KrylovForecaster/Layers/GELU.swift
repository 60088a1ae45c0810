import RealModule

// GELU in its tanh form (GPT-2's), elementwise over N values.

/// out = x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³))).
public func geluForward<S: ForecastScalar>(_ out: UnsafeMutablePointer<S>, _ inp: UnsafePointer<S>, count N: Int) {
  let k = S.sqrt(2 / S.pi)
  for i in 0..<N {
    let x = inp[i]
    out[i] = x / 2 * (1 + S.tanh(k * (x + S(0.044715) * x * x * x)))
  }
}

/// Accumulates dinp += gelu'(inp) · dout.
public func geluBackward<S: ForecastScalar>(
  _ dinp: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, _ inp: UnsafePointer<S>, count N: Int
) {
  let k = S.sqrt(2 / S.pi)
  for i in 0..<N {
    let x = inp[i]
    let u = k * (x + S(0.044715) * x * x * x)
    let t = S.tanh(u)
    let sech2 = 1 - t * t
    let local = (1 + t) / 2 + x / 2 * sech2 * k * (1 + 3 * S(0.044715) * x * x)
    dinp[i] += local * dout[i]
  }
}
