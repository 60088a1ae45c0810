import Foundation
import KrylovEngine
import Testing

@Suite("Baselines: asymptotic fits and the linear autoregressive model")
struct FitTests {
  @Test("fits, the AR baseline and the relative error are the same at any scale of b, 2^±1000 included")
  func scaleEquivariance() throws {
    let b: [Double] = (1...40).map { (n: Int) -> Double in
      let x = Double(n)
      return 0.7 * x / Foundation.log(x + 2) + 2 + 0.3 * sin(x)
    }
    let window = AsymptoticFit.trailingWindow(prefixLength: 30)
    let linear = try #require(AsymptoticFit.fit(b, form: .linear, window: window))
    let logFit = try #require(AsymptoticFit.fit(b, form: .logCorrected, window: window))
    let ar = try #require(LinearAutoregression.fit(Array(b[0..<30])))
    let error = relativeRMSError(linear.extrapolate(from: 31, through: 40), Array(b[30..<40]))
    #expect(error.isFinite && error > 0)
    for s in [0x1p-1000, 0x1p1000] {
      // Multiplying by a power of two is exact, so everything must agree exactly, scaled.
      let scaled = b.map { $0 * s }
      let linearS = try #require(AsymptoticFit.fit(scaled, form: .linear, window: window))
      #expect(linearS.parameters == linear.parameters.map { $0 * s })
      let logS = try #require(AsymptoticFit.fit(scaled, form: .logCorrected, window: window))
      #expect(logS.parameters == [logFit.parameters[0] * s, logFit.parameters[1], logFit.parameters[2] * s])
      // The AR model rescales only far from 1, to a power of two of its own, and its ridge term
      // weighs the intercept by that scale: close (1e-5 here), not equal.
      let arS = try #require(LinearAutoregression.fit(Array(scaled[0..<30])))
      for (x, y) in zip(arS.coefficients, ar.coefficients) { #expect(abs(x - y) <= 1e-4 * max(1, abs(y))) }
      #expect(abs(arS.intercept / s - ar.intercept) <= 1e-4 * max(1, abs(ar.intercept)))
      #expect(
        relativeRMSError(linearS.extrapolate(from: 31, through: 40), Array(scaled[30..<40])) == error)
    }
  }

  @Test("The linear fit recovers an exact line and extrapolates it")
  func linearExact() throws {
    let b = (1...30).map { 0.7 * Double($0) + 1.1 }
    let fit = try #require(AsymptoticFit.fit(b, form: .linear, window: AsymptoticFit.trailingWindow(prefixLength: 30)))
    #expect(abs(fit.parameters[0] - 0.7) < 1e-12 && abs(fit.parameters[1] - 1.1) < 1e-10)
    #expect(abs(fit.value(at: 200) - (0.7 * 200 + 1.1)) < 1e-9)
    #expect(fit.window == 16...30)
  }

  @Test("The log-corrected fit recovers A n / ln(B n) + c", arguments: [(1.3, 0.7, 0.2), (2.0, 3.0, -0.5)])
  func logExact(p: (Double, Double, Double)) throws {
    let (A, B, c) = p
    let b = (1...40).map { n in A * Double(n) / log(B * Double(n)) + c }
    let fit = try #require(AsymptoticFit.fit(b, form: .logCorrected, window: 20...40))
    #expect(abs(fit.parameters[0] - A) < 1e-5 * A)
    #expect(abs(fit.parameters[1] - B) < 1e-4 * B)
    #expect(abs(fit.value(at: 150) - (A * 150 / log(B * 150) + c)) < 1e-4)
  }

  @Test("The best fit picks the form the data follow")
  func bestPicksForm() throws {
    let line = (1...30).map { 0.5 * Double($0) + 2 }
    #expect(try #require(AsymptoticFit.best(prefix: line)).best.form == .linear)
    let logs: [Double] = (2...31).map { (n: Int) -> Double in
      let x = Double(n)
      return 1.5 * x / log(0.9 * x) + 0.3
    }
    #expect(try #require(AsymptoticFit.best(prefix: logs)).best.form == .logCorrected)
  }

  @Test("The AR model recovers an exact recursion and continues it exactly")
  func autoregressionExact() throws {
    var b = [1.0, 1.5]
    for _ in 0..<38 { b.append(0.2 + 0.9 * b[b.count - 1] + 0.15 * b[b.count - 2]) }
    let ar = try #require(LinearAutoregression.fit(Array(b[0..<25]), order: 2))
    #expect(abs(ar.coefficients[0] - 0.9) < 1e-6 && abs(ar.coefficients[1] - 0.15) < 1e-6)
    let next = ar.rollout(history: Array(b[0..<25]), count: 15)
    for (p, t) in zip(next, b[25...]) { #expect(abs(p - t) < 1e-6 * t) }
  }

  @Test("The AR model continues a straight line")
  func autoregressionLine() throws {
    let b = (1...30).map { 0.4 * Double($0) + 1 }
    let ar = try #require(LinearAutoregression.fit(b))
    let next = ar.rollout(history: b, count: 50)
    #expect(abs(next.last! - (0.4 * 80 + 1)) < 1e-3)
  }

  @Test("C(t) error: zero for the truth, the sech² closed form sets the window")
  func observableComparison() throws {
    // b_n = α√(n(n+1)) ⇔ C(t) = sech²(αt) (physics.md §4, η = 2).
    let b = (1...60).map { n in 0.5 * (Double(n) * Double(n + 1)).squareRoot() }
    let comparison = try ObservableComparison(truth: b)
    #expect(comparison.windowEnd > 0)
    #expect(try comparison.maxError(predicted: b) == 0)
    var off = b
    for i in 40..<60 { off[i] *= 1.1 }
    let changed = try comparison.maxError(predicted: off)
    // Within the converged window the last coefficients barely matter; a wrong early one does.
    var early = b
    early[2] *= 1.1
    #expect(try comparison.maxError(predicted: early) > changed)
    let chain = try KrylovChainDynamics(coefficients: b)
    let t = comparison.windowEnd / 2
    #expect(abs(chain.autocorrelation(at: t) - pow(1 / cosh(0.5 * t), 2)) < 1e-6)
  }

  @Test("the truncation shows in K(t) once the spread reaches the chain's end, in C(t) once it has come back")
  func convergenceOfBoth() throws {
    // b_n = 1: the spread moves out at speed 2, so the 80-site prefix of 100 is reached near
    // t = 40 and the reflection is back near t = 80.
    let b = [Double](repeating: 1, count: 100)
    let times = (0...240).map { 0.5 * Double($0) }
    let both = try KrylovChainDynamics.convergence(coefficients: b, times: times, tolerance: 1e-3)
    #expect(both.autocorrelation == (try KrylovChainDynamics.convergenceTime(coefficients: b, times: times, tolerance: 1e-3)))
    #expect((25...45).contains(both.complexity), "\(both)")
    #expect((60...85).contains(both.autocorrelation), "\(both)")
  }
}
