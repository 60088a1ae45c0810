// A fully connected layer, llm.c's matmul: out (R, OC) = inp (R, C) · weight (OC, C)ᵀ + bias (OC),
// where R = B·T rows. The BLAS version is the one the model uses; the naive one is its reference.

/// out (R, OC) = inp (R, C) · weightᵀ + bias, through BLAS, rows split over the workers.
public func matmulForward<S: ForecastScalar>(
  _ out: UnsafeMutablePointer<S>, _ inp: UnsafePointer<S>, _ weight: UnsafePointer<S>,
  _ bias: UnsafePointer<S>?, rows R: Int, C: Int, OC: Int
) {
  if R == 1 {
    if let bias { out.update(from: bias, count: OC) }
    S.gemv(m: OC, n: C, alpha: 1, a: weight, lda: C, x: inp, beta: bias == nil ? 0 : 1, y: out)
    return
  }
  parallelRanges(R, minimumPerWorker: 16) { range in
    guard !range.isEmpty else { return }
    let out_r = out + range.lowerBound * OC
    if let bias {
      for r in 0..<range.count { (out_r + r * OC).update(from: bias, count: OC) }
    }
    S.gemm(
      transA: false, transB: true, m: range.count, n: OC, k: C, alpha: 1,
      a: inp + range.lowerBound * C, lda: C, b: weight, ldb: C,
      beta: bias == nil ? 0 : 1, c: out_r, ldc: OC)
  }
}

/// The same product with plain loops: the reference the BLAS version is tested against.
public func matmulForwardNaive<S: ForecastScalar>(
  _ out: UnsafeMutablePointer<S>, _ inp: UnsafePointer<S>, _ weight: UnsafePointer<S>,
  _ bias: UnsafePointer<S>?, rows R: Int, C: Int, OC: Int
) {
  for r in 0..<R {
    let inp_r = inp + r * C
    for o in 0..<OC {
      let w_o = weight + o * C
      var sum: S = bias?[o] ?? 0
      for i in 0..<C { sum += inp_r[i] * w_o[i] }
      out[r * OC + o] = sum
    }
  }
}

/// Accumulates dinp (R, C) += dout · weight, dweight (OC, C) += doutᵀ · inp, dbias (OC) += Σ_r dout.
public func matmulBackward<S: ForecastScalar>(
  _ dinp: UnsafeMutablePointer<S>, _ dweight: UnsafeMutablePointer<S>, _ dbias: UnsafeMutablePointer<S>?,
  _ dout: UnsafePointer<S>, _ inp: UnsafePointer<S>, _ weight: UnsafePointer<S>,
  rows R: Int, C: Int, OC: Int
) {
  // Input gradient: rows are independent.
  parallelRanges(R, minimumPerWorker: 16) { range in
    guard !range.isEmpty else { return }
    S.gemm(
      transA: false, transB: false, m: range.count, n: C, k: OC, alpha: 1,
      a: dout + range.lowerBound * OC, lda: OC, b: weight, ldb: C,
      beta: 1, c: dinp + range.lowerBound * C, ldc: C)
  }
  // Weight and bias gradients: split over output channels, each worker summing all rows.
  parallelRanges(OC, minimumPerWorker: 8) { range in
    guard !range.isEmpty else { return }
    S.gemm(
      transA: true, transB: false, m: range.count, n: C, k: R, alpha: 1,
      a: dout + range.lowerBound, lda: OC, b: inp, ldb: C,
      beta: 1, c: dweight + range.lowerBound * C, ldc: C)
    if let dbias {
      for r in 0..<R {
        let dout_r = dout + r * OC
        for o in range { dbias[o] += dout_r[o] }
      }
    }
  }
}
