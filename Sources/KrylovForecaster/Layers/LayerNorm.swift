import RealModule

// Layer normalization over the channels of each row: out = (x − mean)·rstd·weight + bias.
// The forward saves mean and rstd (R) for the backward, as llm.c does.

let layerNormEpsilon = 1e-5

/// out (R, C), mean (R), rstd (R) from inp (R, C), weight (C), bias (C).
public func layerNormForward<S: ForecastScalar>(
  _ out: UnsafeMutablePointer<S>, _ mean: UnsafeMutablePointer<S>, _ rstd: UnsafeMutablePointer<S>,
  _ inp: UnsafePointer<S>, _ weight: UnsafePointer<S>, _ bias: UnsafePointer<S>, rows R: Int, C: Int
) {
  let eps = S(layerNormEpsilon)
  for r in 0..<R {
    let x = inp + r * C
    var m: S = 0
    for i in 0..<C { m += x[i] }
    m /= S(C)
    var v: S = 0
    for i in 0..<C {
      let d = x[i] - m
      v += d * d
    }
    v /= S(C)
    let s = 1 / S.sqrt(v + eps)
    let o = out + r * C
    for i in 0..<C { o[i] = (x[i] - m) * s * weight[i] + bias[i] }
    mean[r] = m
    rstd[r] = s
  }
}

/// Accumulates dinp (R, C), dweight (C), dbias (C) from dout (R, C) and the saved mean and rstd.
public func layerNormBackward<S: ForecastScalar>(
  _ dinp: UnsafeMutablePointer<S>, _ dweight: UnsafeMutablePointer<S>, _ dbias: UnsafeMutablePointer<S>,
  _ dout: UnsafePointer<S>, _ inp: UnsafePointer<S>, _ weight: UnsafePointer<S>,
  _ mean: UnsafePointer<S>, _ rstd: UnsafePointer<S>, rows R: Int, C: Int
) {
  for r in 0..<R {
    let x = inp + r * C
    let dy = dout + r * C
    let dx = dinp + r * C
    let m = mean[r]
    let s = rstd[r]
    // Two reductions: mean of dnorm and mean of dnorm·norm.
    var dnormMean: S = 0
    var dnormNormMean: S = 0
    for i in 0..<C {
      let norm = (x[i] - m) * s
      let dnorm = weight[i] * dy[i]
      dnormMean += dnorm
      dnormNormMean += dnorm * norm
    }
    dnormMean /= S(C)
    dnormNormMean /= S(C)
    for i in 0..<C {
      let norm = (x[i] - m) * s
      let dnorm = weight[i] * dy[i]
      dbias[i] += dy[i]
      dweight[i] += norm * dy[i]
      dx[i] += (dnorm - dnormMean - norm * dnormNormMean) * s
    }
  }
}
