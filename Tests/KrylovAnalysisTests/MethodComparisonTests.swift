import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster
import Testing

/// The analysis layer's own arithmetic, against values computed by hand.
@Suite("Method comparison: errors, the two meanings of a fit, band coverage")
struct MethodComparisonTests {
  /// A sequence whose continuation every method can be judged on: linear growth b_n = n.
  let truth = (1...40).map(Double.init)

  @Test("a transformer forecast equal to the truth has zero error; the baselines are all there")
  func exactForecast() throws {
    let k = 20
    let methods = MethodForecasts(prefix: Array(truth[0..<k]), horizon: 40, transformer: Array(truth[k..<40]))
    #expect(methods.all.map(\.name) == ["transformer"] + MethodForecasts.baselineNames)
    let errors = try MethodErrors(methods: methods, truth: truth)
    #expect(errors.coefficients["transformer"] == 0)
    #expect(errors.autocorrelation["transformer"] ?? 1 < 1e-12)
    // A straight line continues b_n = n exactly: the linear fit is the better one in hindsight.
    #expect(errors.coefficients["linear_fit"] ?? 1 < 1e-9)
    #expect(errors.betterFitInHindsightCoefficients <= (errors.coefficients["log_corrected_fit"] ?? .infinity))
    #expect(
      errors.betterFitInHindsightCoefficients
        == min(errors.coefficients["linear_fit"]!, errors.coefficients["log_corrected_fit"]!))
  }

  @Test("the fits' parameters are the law's: b_n = 0.5 n + 2 gives a = 0.5, c = 2, and says so")
  func fitParameters() throws {
    let law = (1...30).map { 0.5 * Double($0) + 2 }
    let fit = try #require(AsymptoticFit.fit(law, form: .linear, window: 11...30))
    let named = Dictionary(uniqueKeysWithValues: fit.namedParameters.map { ($0.name, $0.value) })
    #expect(abs(named["a"]! - 0.5) < 1e-9 && abs(named["c"]! - 2) < 1e-9)
    #expect(fit.formula == "0.5n+2")
    // The comparison carries both fits and the chosen one.
    let methods = MethodForecasts(prefix: law, horizon: 40, transformer: Array(repeating: 1, count: 10))
    #expect(methods.fits.map(\.form) == [.linear, .logCorrected])
    #expect(methods.bestFit.map { methods.fits.contains($0) } == true)
    #expect(methods.bestFit?.form.rawValue == methods.bestFitForm)
  }

  @Test("relative RMS error by hand: a forecast 10% high everywhere is 10% off")
  func relativeError() {
    let q = [2.0, 4, 8]
    #expect(abs(relativeRMSError(q.map { $0 * 1.1 }, q) - 0.1) < 1e-12)
  }

  @Test("band coverage counts the truths inside [lower, upper], edges included")
  func coverage() {
    let band = ForecastBand(level: 0.8, lower: [1, 2, 3, 4], upper: [2, 3, 4, 5], regime: "finite")
    // Inside, on the lower edge, above, below.
    let c = MethodErrors.coverage(of: band, truth: [1.5, 2, 4.5, 3.9][...])
    #expect(c == 0.5)
    #expect(MethodErrors.coverage(of: nil, truth: [1][...]) == nil)
  }
}
