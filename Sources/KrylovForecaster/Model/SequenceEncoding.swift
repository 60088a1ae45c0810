import Foundation

/// How a sequence of Lanczos coefficients becomes the model's inputs and targets.
///
/// b_n is divided by the RMS of its first `scaleWindow` values, so the model never sees the
/// energy scale of H (which only multiplies every b_n) and every prefix it will be given
/// contains the whole normalizing window. At each position the features are the scaled
/// value x_n, the last step g·(x_n − x_{n−1}) and log x_n; the model predicts the next step
/// g·(x_{n+1} − x_n). Predicting steps rather than values starts every forecast from
/// "persistence", the right prior for a slowly varying sequence. See docs/model.md.
public enum SequenceEncoding {
  public static let featureCount = 3

  /// The normalizing scale: RMS of b_1..b_w, w = min(window, count).
  public static func scale(of b: [Double], window: Int) -> Double {
    let w = min(window, b.count)
    guard w > 0 else { return 1 }
    var sum = 0.0
    for i in 0..<w { sum += b[i] * b[i] }
    let s = (sum / Double(w)).squareRoot()
    return s > 0 && s.isFinite ? s : 1
  }

  /// The features of position t given the scaled value there and the one before.
  @inline(__always)
  public static func features(x: Double, previous: Double?, stepGain: Double) -> (Double, Double, Double) {
    let step = previous.map { stepGain * (x - $0) } ?? 0
    return (x, step, Foundation.log(max(x, 1e-3)))
  }

  /// Writes the (T, F) features of the scaled values `x` into `out`.
  public static func writeFeatures<S: ForecastScalar>(
    _ x: ArraySlice<Double>, stepGain: Double, into out: UnsafeMutablePointer<S>
  ) {
    var previous: Double?
    for (t, value) in x.enumerated() {
      let f = features(x: value, previous: previous, stepGain: stepGain)
      out[t * featureCount] = S(f.0)
      out[t * featureCount + 1] = S(f.1)
      out[t * featureCount + 2] = S(f.2)
      previous = value
    }
  }
}
