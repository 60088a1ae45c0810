// The residual connection: out = a + b over N values.

public func residualForward<S: ForecastScalar>(
  _ out: UnsafeMutablePointer<S>, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, count N: Int
) {
  for i in 0..<N { out[i] = a[i] + b[i] }
}

/// Accumulates da += dout and db += dout.
public func residualBackward<S: ForecastScalar>(
  _ da: UnsafeMutablePointer<S>, _ db: UnsafeMutablePointer<S>, _ dout: UnsafePointer<S>, count N: Int
) {
  for i in 0..<N {
    da[i] += dout[i]
    db[i] += dout[i]
  }
}
