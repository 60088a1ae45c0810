import Foundation

/// The time a job that reports its progress still needs, extrapolated from its rate so far, and
/// durations as the screen shows them.
public enum RemainingTime {
  /// Seconds left when `done` of `total` took `elapsed` seconds at a steady rate; nil before
  /// anything is done (no rate yet).
  public static func seconds(done: Int, total: Int, elapsed: Double) -> Double? {
    guard done > 0, total >= done, elapsed.isFinite, elapsed >= 0 else { return nil }
    return elapsed * Double(total - done) / Double(done)
  }

  /// Seconds left when a fraction `fraction` of a job took `elapsed` seconds at a steady rate;
  /// nil before a percent is done (too early for a rate).
  public static func seconds(fraction: Double, elapsed: Double) -> Double? {
    guard fraction >= 0.01, fraction <= 1, elapsed.isFinite, elapsed >= 0 else { return nil }
    return elapsed * (1 - fraction) / fraction
  }

  /// A duration in whole units: "<1 s", "12 s", "3 min", "2 h".
  public static func text(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    if seconds < 1 { return "<1 s" }
    if seconds < 90 { return "\(Int(seconds.rounded())) s" }
    if seconds < 90 * 60 { return "\(Int((seconds / 60).rounded())) min" }
    return "\(Int((seconds / 3600).rounded())) h"
  }
}
