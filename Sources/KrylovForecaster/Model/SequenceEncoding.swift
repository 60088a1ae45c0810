import Foundation

/// How a sequence of Lanczos coefficients becomes the model's inputs and targets.
///
/// b_n is divided by the RMS of its first `scaleWindow` values, so the model never sees the
/// energy scale of H (which only multiplies every b_n) and every prefix it will be given
/// contains the whole normalizing window. At each position the features are the scaled
/// value x_n, the last step g·(x_n − x_{n−1}) and log x_n, followed, for a model with system
/// inputs, by the `SystemContext` features; the model predicts the next step
/// g·(x_{n+1} − x_n). Predicting steps rather than values starts every forecast from
/// "persistence", the right prior for a slowly varying sequence. See docs/model.md.
public enum SequenceEncoding {
  /// Features read from the sequence itself.
  public static let sequenceFeatureCount = 3

  /// F for a model with or without the system features.
  public static func featureCount(systemInputs: Bool) -> Int {
    sequenceFeatureCount + (systemInputs ? SystemContext.featureCount : 0)
  }

  /// The normalizing scale: RMS of b_1..b_w, w = min(window, count), computed without overflow.
  public static func scale(of b: [Double], window: Int) -> Double {
    let w = min(window, b.count)
    guard w > 0 else { return 1 }
    let largest = b[0..<w].reduce(0) { max($0, abs($1)) }
    guard largest > 0 && largest.isFinite else { return 1 }
    var sum = 0.0
    for i in 0..<w { sum += (b[i] / largest) * (b[i] / largest) }
    let s = largest * (sum / Double(w)).squareRoot()
    return s > 0 && s.isFinite ? s : 1
  }

  /// Writes the F features of the position holding b_n (scaled value `x`, the one before
  /// `previous`) into `out`: the one encoding training, the full forward and the rollout share.
  @inline(__always)
  public static func write<S: ForecastScalar>(
    x: Double, previous: Double?, n: Int, context: SystemContext, config: ForecasterConfig,
    into out: UnsafeMutablePointer<S>
  ) {
    out[0] = S(x)
    out[1] = S(previous.map { config.stepGain * (x - $0) } ?? 0)
    out[2] = S(Foundation.log(max(x, 1e-3)))
    if config.systemInputs {
      let s = context.features(n: n)
      out[3] = S(s.0)
      out[4] = S(s.1)
      out[5] = S(s.2)
      out[6] = S(s.3)
    }
  }

  /// Writes the (T, F) features of the scaled values `x` (x[0] holds b_1) into `out`.
  public static func write<S: ForecastScalar>(
    _ x: ArraySlice<Double>, context: SystemContext, config: ForecasterConfig, into out: UnsafeMutablePointer<S>
  ) {
    var previous: Double?
    for (t, value) in x.enumerated() {
      write(x: value, previous: previous, n: t + 1, context: context, config: config, into: out + t * config.features)
      previous = value
    }
  }
}
