import Foundation
import KrylovForecaster
import Testing

/// Deterministic pseudo-random values in [-1, 1).
func randomValues(_ n: Int, seed: UInt64) -> [Double] {
  var rng = RandomSource(seed: seed)
  return (0..<n).map { _ in 2 * rng.uniform() - 1 }
}

/// The largest |a − b| / max(1, |b|) over two arrays: a relative error robust near zero.
func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
  zip(a, b).map { abs($0 - $1) / max(1e-3, abs($1)) }.max() ?? 0
}

/// Central finite differences of `f` with respect to every entry of `x`.
func numericalGradient(_ x: inout [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
  var g = [Double](repeating: 0, count: x.count)
  for i in x.indices {
    let saved = x[i]
    x[i] = saved + h
    let up = f(x)
    x[i] = saved - h
    let down = f(x)
    x[i] = saved
    g[i] = (up - down) / (2 * h)
  }
  return g
}

@Suite("Forecaster layers: fast kernels against references, gradients against finite differences")
struct LayerTests {
  @Test("BLAS matmul equals the naive loops", arguments: [(1, 3, 5), (1, 64, 192), (7, 4, 12), (33, 16, 48)])
  func matmulMatchesNaive(shape: (Int, Int, Int)) {
    let (R, C, OC) = shape
    let inp = randomValues(R * C, seed: 1).map(Float.init)
    let w = randomValues(OC * C, seed: 2).map(Float.init)
    let bias = randomValues(OC, seed: 3).map(Float.init)
    var fast = [Float](repeating: 0, count: R * OC)
    var slow = fast
    matmulForward(&fast, inp, w, bias, rows: R, C: C, OC: OC)
    matmulForwardNaive(&slow, inp, w, bias, rows: R, C: C, OC: OC)
    let diff = zip(fast, slow).map { abs($0 - $1) }.max()!
    #expect(diff < 1e-5)
  }

  @Test(
    "BLAS attention equals the naive loops, with ablation switches",
    arguments: [
      AttentionSwitches.none,
      AttentionSwitches(headEnabled: [true, false, true], history: .all),
      AttentionSwitches(history: .window(2)),
      AttentionSwitches(history: .excluding(1..<3)),
      AttentionSwitches(headEnabled: [false, true, true], history: .only(0..<2)),
    ])
  func attentionMatchesNaive(switches: AttentionSwitches) {
    let (B, T, C, NH) = (2, 6, 9, 3)
    let qkv = randomValues(B * T * 3 * C, seed: 4)
    let slopes: [Double] = alibiSlopes(heads: NH)
    var out1 = [Double](repeating: 0, count: B * T * C)
    var out2 = out1
    var att1 = [Double](repeating: 0, count: B * NH * T * T)
    var att2 = att1
    attentionForward(&out1, &att1, qkv, B: B, T: T, C: C, NH: NH, slopes: slopes, switches: switches)
    attentionForwardNaive(&out2, &att2, qkv, B: B, T: T, C: C, NH: NH, slopes: slopes, switches: switches)
    #expect(maxRelativeDifference(out1, out2) < 1e-12)
    #expect(maxRelativeDifference(att1, att2) < 1e-12)
    // Rows are distributions over allowed keys, zero above the diagonal.
    for b in 0..<B {
      for h in 0..<NH {
        for t in 0..<T {
          let row = att1[((b * NH + h) * T + t) * T..<((b * NH + h) * T + t + 1) * T]
          let enabled = switches.headEnabled?[h] ?? true
          #expect(abs(row.reduce(0, +) - (enabled ? 1 : 0)) < 1e-12)
          for s in 0..<T where s > t || !switches.history.allows(query: t, key: s) {
            #expect(row[row.startIndex + s] == 0)
          }
        }
      }
    }
  }

  @Test("A one-position window makes every query attend to itself only")
  func windowOfOne() {
    let (B, T, C, NH) = (1, 5, 4, 2)
    let qkv = randomValues(B * T * 3 * C, seed: 5)
    var out = [Double](repeating: 0, count: B * T * C)
    var att = [Double](repeating: 0, count: B * NH * T * T)
    attentionForward(
      &out, &att, qkv, B: B, T: T, C: C, NH: NH, slopes: alibiSlopes(heads: NH), switches: AttentionSwitches(history: .window(1)))
    for t in 0..<T {
      for i in 0..<C { #expect(abs(out[t * C + i] - qkv[t * 3 * C + 2 * C + i]) < 1e-14) }
    }
  }

  @Test("matmul backward equals finite differences")
  func matmulGradient() {
    let (R, C, OC) = (5, 4, 3)
    var inp = randomValues(R * C, seed: 6)
    var w = randomValues(OC * C, seed: 7)
    var bias = randomValues(OC, seed: 8)
    let probe = randomValues(R * OC, seed: 9)
    func loss(_ inp: [Double], _ w: [Double], _ bias: [Double]) -> Double {
      var out = [Double](repeating: 0, count: R * OC)
      matmulForwardNaive(&out, inp, w, bias, rows: R, C: C, OC: OC)
      return zip(out, probe).map(*).reduce(0, +)
    }
    var dinp = [Double](repeating: 0, count: R * C)
    var dw = [Double](repeating: 0, count: OC * C)
    var db = [Double](repeating: 0, count: OC)
    matmulBackward(&dinp, &dw, &db, probe, inp, w, rows: R, C: C, OC: OC)
    let (w0, b0, i0) = (w, bias, inp)
    #expect(maxRelativeDifference(dinp, numericalGradient(&inp) { loss($0, w0, b0) }) < 1e-7)
    #expect(maxRelativeDifference(dw, numericalGradient(&w) { loss(i0, $0, b0) }) < 1e-7)
    #expect(maxRelativeDifference(db, numericalGradient(&bias) { loss(i0, w0, $0) }) < 1e-7)
  }

  @Test("layer norm backward equals finite differences")
  func layerNormGradient() {
    let (R, C) = (3, 6)
    var inp = randomValues(R * C, seed: 10).map { 3 * $0 + 0.5 }
    var w = randomValues(C, seed: 11)
    var bias = randomValues(C, seed: 12)
    let probe = randomValues(R * C, seed: 13)
    func loss(_ inp: [Double], _ w: [Double], _ bias: [Double]) -> Double {
      var out = [Double](repeating: 0, count: R * C)
      var mean = [Double](repeating: 0, count: R)
      var rstd = mean
      layerNormForward(&out, &mean, &rstd, inp, w, bias, rows: R, C: C)
      return zip(out, probe).map(*).reduce(0, +)
    }
    var out = [Double](repeating: 0, count: R * C)
    var mean = [Double](repeating: 0, count: R)
    var rstd = mean
    layerNormForward(&out, &mean, &rstd, inp, w, bias, rows: R, C: C)
    var dinp = [Double](repeating: 0, count: R * C)
    var dw = [Double](repeating: 0, count: C)
    var db = dw
    layerNormBackward(&dinp, &dw, &db, probe, inp, w, mean, rstd, rows: R, C: C)
    let (w0, b0, i0) = (w, bias, inp)
    #expect(maxRelativeDifference(dinp, numericalGradient(&inp) { loss($0, w0, b0) }) < 1e-6)
    #expect(maxRelativeDifference(dw, numericalGradient(&w) { loss(i0, $0, b0) }) < 1e-6)
    #expect(maxRelativeDifference(db, numericalGradient(&bias) { loss(i0, w0, $0) }) < 1e-6)
  }

  @Test("GELU backward equals finite differences, and GELU has its known values")
  func geluGradient() {
    var inp = randomValues(20, seed: 14).map { 4 * $0 }
    let probe = randomValues(20, seed: 15)
    func loss(_ x: [Double]) -> Double {
      var out = [Double](repeating: 0, count: x.count)
      geluForward(&out, x, count: x.count)
      return zip(out, probe).map(*).reduce(0, +)
    }
    var dinp = [Double](repeating: 0, count: 20)
    geluBackward(&dinp, probe, inp, count: 20)
    #expect(maxRelativeDifference(dinp, numericalGradient(&inp, loss)) < 1e-6)
    var out = [Double](repeating: 0, count: 3)
    geluForward(&out, [0, 10, -10], count: 3)
    #expect(out[0] == 0 && abs(out[1] - 10) < 1e-12 && abs(out[2]) < 1e-12)
    // The exp-based tanh against the library's, over the range activations take.
    let xs = (0...400).map { Double($0 - 200) / 20 }
    var fast = [Double](repeating: 0, count: xs.count)
    geluForward(&fast, xs, count: xs.count)
    let k = (2 / Double.pi).squareRoot()
    let exact = xs.map { $0 / 2 * (1 + tanh(k * ($0 + 0.044715 * $0 * $0 * $0))) }
    #expect(zip(fast, exact).map { abs($0 - $1) }.max()! < 1e-14)
  }

  @Test(
    "attention backward equals finite differences, with and without a history mask",
    arguments: [HistoryMask.all, .window(3)])
  func attentionGradient(history: HistoryMask) {
    let (B, T, C, NH) = (2, 5, 6, 2)
    var qkv = randomValues(B * T * 3 * C, seed: 16)
    let probe = randomValues(B * T * C, seed: 17)
    let slopes: [Double] = alibiSlopes(heads: NH)
    let switches = AttentionSwitches(history: history)
    func loss(_ qkv: [Double]) -> Double {
      var out = [Double](repeating: 0, count: B * T * C)
      var att = [Double](repeating: 0, count: B * NH * T * T)
      attentionForwardNaive(&out, &att, qkv, B: B, T: T, C: C, NH: NH, slopes: slopes, switches: switches)
      return zip(out, probe).map(*).reduce(0, +)
    }
    var out = [Double](repeating: 0, count: B * T * C)
    var att = [Double](repeating: 0, count: B * NH * T * T)
    attentionForward(&out, &att, qkv, B: B, T: T, C: C, NH: NH, slopes: slopes, switches: switches)
    var dqkv = [Double](repeating: 0, count: qkv.count)
    attentionBackward(&dqkv, probe, qkv, att, B: B, T: T, C: C, NH: NH)
    #expect(maxRelativeDifference(dqkv, numericalGradient(&qkv, loss)) < 1e-6)
  }

  @Test("residual backward passes the gradient to both inputs")
  func residualGradient() {
    var da = [Double](repeating: 1, count: 4)
    var db = [Double](repeating: 0, count: 4)
    residualBackward(&da, &db, [1, 2, 3, 4], count: 4)
    #expect(da == [2, 3, 4, 5])
    #expect(db == [1, 2, 3, 4])
  }
}
