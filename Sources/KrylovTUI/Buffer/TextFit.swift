import Foundation

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

  /// `text` broken into lines of at most `width` cells at spaces.
  ///
  /// At most `maxLines` of them (the last ends in "…" when words are left over); a word
  /// longer than the width is cut.
  /// Newlines in `text` end lines, and a line that fits is kept as it is, leading spaces
  /// included (a parser's caret under its column stays there).
  public static func wrap(_ text: String, width: Int, maxLines: Int = .max) -> [String] {
    guard width > 0, maxLines > 0 else { return [] }
    var lines: [String] = []
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if paragraph.count <= width {
        if !paragraph.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(paragraph) }
        continue
      }
      var current = ""
      for word in paragraph.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
        let candidate = current.isEmpty ? word : current + " " + word
        if candidate.count <= width {
          current = candidate
          continue
        }
        if !current.isEmpty { lines.append(current) }
        current = word.count <= width ? word : String(word.prefix(width))
      }
      if !current.isEmpty { lines.append(current) }
    }
    guard lines.count > maxLines else { return lines }
    // The last line kept takes what is left, shortened with "…".
    var kept = Array(lines.prefix(maxLines - 1))
    kept.append(truncate(lines[(maxLines - 1)...].joined(separator: " "), width: width))
    return kept
  }

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
