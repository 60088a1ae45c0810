import RealModule

// GELU in its tanh form (GPT-2's), elementwise over N values.
//
// tanh is computed as 1 − 2/(e^{2u} + 1): one exp instead of the library tanh (which goes
// through expm1 and was a fifth of a training step). Exact at both tails (e^{2u} → ∞ gives 1,
// → 0 gives −1); near u = 0 its absolute error is that of the exp, ~1e-7 in Float.

@inline(__always)
func fastTanh<S: ForecastScalar>(_ u: S) -> S { 1 - 2 / (S.exp(2 * u) + 1) }

/// out = x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³))).
public func geluForward<S: ForecastScalar>(_ out: UnsafeMutablePointer<S>, _ inp: UnsafePointer<S>, count N: Int) {
  let k = S.sqrt(2 / S.pi)
  for i in 0..<N {
    let x = inp[i]
    out[i] = x / 2 * (1 + fastTanh(k * (x + S(0.044715) * x * x * x)))
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
    let t = fastTanh(u)
    let sech2 = 1 - t * t
    let local = (1 + t) / 2 + x / 2 * sech2 * k * (1 + 3 * S(0.044715) * x * x)
    dinp[i] += local * dout[i]
  }
}
