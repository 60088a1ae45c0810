import ArgumentParser

/// The one check of a whole-number option against its range, so every command words the
/// refusal alike and no count from the command line reaches an allocation unchecked.
func requireRange(_ option: String, _ value: Int, _ range: ClosedRange<Int>, why: String? = nil) throws {
  guard range.contains(value) else {
    throw ValidationError(
      "\(option) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))" + (why.map { ": \($0)" } ?? ""))
  }
}
