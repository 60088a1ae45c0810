/// Text shortened on purpose to fit a width: whole parts or whole words are left out and "…"
/// says so, so a number is never cut in half (a cut "M = 850" would read "M = 85").
public enum TextFit {
  /// The parts joined by `separator`, as many whole leading parts as fit in `width` cells,
  /// followed by "…" when some were left out; the first part alone is truncated if it must be.
  public static func join(_ parts: [String], separator: String = " · ", width: Int) -> String {
    let parts = parts.filter { !$0.isEmpty }
    guard width > 0, let first = parts.first else { return "" }
    if parts.joined(separator: separator).count <= width { return parts.joined(separator: separator) }
    if first.count > width { return truncate(first, width: width) }
    var text = first
    var included = 1
    for (i, part) in parts.enumerated().dropFirst() {
      let candidate = text + separator + part
      // Room for the candidate, and for an ellipsis after it unless nothing would be left out.
      let leavesSomeOut = i < parts.count - 1
      guard candidate.count + (leavesSomeOut ? ellipsis(after: candidate).count : 0) <= width else { break }
      text = candidate
      included = i + 1
    }
    if included == parts.count { return text }
    let mark = ellipsis(after: text)
    return text.count + mark.count <= width ? text + mark : truncate(text, width: width)
  }

  /// "…", spaced from a digit so that "M = 8…" never reads as a cut number.
  static func ellipsis(after text: String) -> String { text.last?.isNumber == true ? " …" : "…" }

  /// `text`, or when it is longer than `width` cells its words up to the last space that
  /// leaves room for "…", then "…" (a single long word is cut, still ending in "…").
  public static func truncate(_ text: String, width: Int) -> String {
    guard width > 0 else { return "" }
    guard text.count > width else { return text }
    if width == 1 { return "…" }
    let head = String(text.prefix(width - 1))
    if let space = head.lastIndex(of: " "), head.distance(from: head.startIndex, to: space) > 0 {
      let words = String(head[..<space])
      let mark = ellipsis(after: words)
      if words.count + mark.count <= width { return words + mark }
    }
    return head + "…"
  }
}
