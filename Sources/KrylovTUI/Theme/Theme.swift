import Foundation

/// Colours by name, with 101-step gradients, loaded from btop-style theme files.
///
/// Keys are btop's generic ones (`main_bg`, `main_fg`, `title`, `hi_fg`, `selected_bg`,
/// `selected_fg`, `inactive_fg`, `graph_text`, `meter_bg`, `div_line`) plus krylov's own
/// (pane outlines and the gradients `coeff`, `forecast`, `fit`, `observable`, `md`, `attention`,
/// `delta`). A missing key falls back to a btop alias (so a btop theme works
/// unchanged), then to the built-in default.
public struct Theme: Sendable {
  public var name: String
  private var colors: [String: Color]
  private var gradients: [String: [Color]]

  /// krylov keys and the btop key each falls back to.
  public static let aliases: [String: String] = [
    "coeff": "cpu", "forecast": "upload", "fit": "download", "observable": "free", "attention": "temp",
    "md": "cached", "delta": "used",
    "system_box": "cpu_box", "coeff_box": "cpu_box", "observable_box": "mem_box", "attention_box": "net_box",
    "heads_box": "proc_box",
  ]

  public static let gradientNames = ["coeff", "forecast", "fit", "observable", "md", "attention", "delta"]

  /// The built-in default (dark) theme's values.
  public static let defaults: [String: String] = [
    "main_bg": "", "main_fg": "#cccccc", "title": "#ffffff", "hi_fg": "#5fafff", "selected_bg": "#303a4a",
    "selected_fg": "#ffffff", "inactive_fg": "#6c6c6c", "graph_text": "#9e9e9e", "meter_bg": "#3a3a3a",
    "div_line": "#444444", "system_box": "#5f87af", "coeff_box": "#5f87af", "observable_box": "#5f87af",
    "attention_box": "#5f87af", "heads_box": "#5f87af",
    "coeff_start": "#5fafff", "coeff_mid": "#87d7ff", "coeff_end": "#ffffff",
    "forecast_start": "#ffaf5f", "forecast_mid": "#ffd787", "forecast_end": "#ffffaf",
    "fit_start": "#af87ff", "fit_mid": "#d7afff", "fit_end": "#ffd7ff",
    "observable_start": "#5fd787", "observable_mid": "#87ffaf", "observable_end": "#d7ffd7",
    "md_start": "#2f6f5a", "md_mid": "#4fa78a", "md_end": "#5fd7af",
    "attention_start": "#1c1c3a", "attention_mid": "#d75f5f", "attention_end": "#ffff87",
    "delta_start": "#5fd75f", "delta_mid": "#d7d75f", "delta_end": "#ff5f5f",
  ]

  /// The built-in default theme.
  public static var builtIn: Theme {
    (try? ThemeLoader.parse("", name: "Default"))?.theme ?? Theme(name: "Default", colors: [:], gradients: [:])
  }

  init(name: String, colors: [String: Color], gradients: [String: [Color]]) {
    self.name = name
    self.colors = colors
    self.gradients = gradients
  }

  /// A named colour (terminal default if unknown).
  public func color(_ key: String) -> Color { colors[key] ?? .terminalDefault }

  /// A gradient of 101 colours, index 0 through 100.
  public func gradient(_ name: String) -> [Color] {
    gradients[name] ?? Array(repeating: color("main_fg"), count: 101)
  }
}

/// A problem in a theme file, with its line.
public struct ThemeIssue: Sendable, Equatable, CustomStringConvertible {
  public var line: Int
  public var message: String
  public var description: String { "line \(line): \(message)" }
}

/// A theme file that cannot be read at all.
public struct ThemeFileError: Error, Sendable, CustomStringConvertible {
  public var description: String
}

/// Reads btop's theme syntax: `theme[key]="value"` per line, `#` comments.
public enum ThemeLoader {
  /// Loads a theme file; its name is the file's stem.
  ///
  /// Only a regular file of at most 1 MiB is read (a theme is a few hundred bytes): a device or
  /// a huge file is refused instead of read without end.
  public static func load(path: String) throws -> (theme: Theme, issues: [ThemeIssue]) {
    var status = stat()
    guard stat(path, &status) == 0 else { throw ThemeFileError(description: "\(path): cannot read it") }
    guard status.st_mode & S_IFMT == S_IFREG else {
      throw ThemeFileError(description: "\(path): not a regular file")
    }
    guard status.st_size <= 1 << 20 else {
      throw ThemeFileError(description: "\(path): larger than the 1 MiB a theme file may be")
    }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    return try parse(text, name: stem)
  }

  /// Parses `text`; malformed lines are reported and skipped, never fatal.
  public static func parse(_ text: String, name: String) throws -> (theme: Theme, issues: [ThemeIssue]) {
    var given: [String: String] = [:]
    var issues: [ThemeIssue] = []
    // Any line ending: "\r\n" is one Character in Swift, so splitting on "\n" alone would keep a
    // Windows file as one line.
    let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else {
        issues.append(ThemeIssue(line: index + 1, message: "expected theme[key]=\"value\""))
        continue
      }
      let key = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
      var rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
      guard rest.hasPrefix("=") else {
        issues.append(ThemeIssue(line: index + 1, message: "expected '=' after theme[\(key)]"))
        continue
      }
      rest = rest.dropFirst().trimmingCharacters(in: .whitespaces)
      guard rest.count >= 2, rest.hasPrefix("\""), rest.hasSuffix("\"") else {
        issues.append(ThemeIssue(line: index + 1, message: "the value of theme[\(key)] must be in double quotes"))
        continue
      }
      let value = String(rest.dropFirst().dropLast())
      if !value.isEmpty && parseColor(value) == nil {
        issues.append(ThemeIssue(line: index + 1, message: "theme[\(key)]: '\(value)' is not #RRGGBB, #GG or 'R G B'"))
        continue
      }
      given[key] = value
    }
    func lookup(_ key: String) -> String? {
      if let v = given[key] { return v }
      // krylov key → btop alias (prefix for gradient parts).
      for (ours, theirs) in Theme.aliases where key == ours || key.hasPrefix(ours + "_") {
        if let v = given[theirs + key.dropFirst(ours.count)] { return v }
      }
      return Theme.defaults[key]
    }
    var colors: [String: Color] = [:]
    for key in Set(Theme.defaults.keys).union(given.keys) {
      if let v = lookup(key), let c = parseColor(v) { colors[key] = c } else { colors[key] = .terminalDefault }
    }
    var gradients: [String: [Color]] = [:]
    for g in Theme.gradientNames {
      // The gradient comes whole from one source: the theme's own keys, else its btop alias,
      // else the default. Within it an empty or missing _mid / _end gives a one- or two-colour
      // gradient, as in btop.
      let parts = ["_start", "_mid", "_end"]
      let alias = Theme.aliases[g] ?? g
      let source: (String) -> String? =
        if parts.contains(where: { given[g + $0] != nil }) {
          { given[g + $0] }
        } else if parts.contains(where: { given[alias + $0] != nil }) {
          { given[alias + $0] }
        } else {
          { Theme.defaults[g + $0] }
        }
      let start = source("_start").flatMap(parseColor) ?? colors["main_fg"] ?? .terminalDefault
      gradients[g] = expand(start: start, mid: source("_mid").flatMap(parseColor), end: source("_end").flatMap(parseColor))
    }
    return (Theme(name: name, colors: colors, gradients: gradients), issues)
  }

  /// `#RRGGBB`, `#GG` (grey), `R G B` decimal; nil for anything else (including empty).
  public static func parseColor(_ text: String) -> Color? {
    let t = text.trimmingCharacters(in: .whitespaces)
    if t.hasPrefix("#") {
      let hex = t.dropFirst()
      guard hex.allSatisfy(\.isHexDigit) else { return nil }
      if hex.count == 6, let v = UInt32(hex, radix: 16) {
        return .rgb(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
      }
      if hex.count == 2, let v = UInt8(hex, radix: 16) { return .rgb(v, v, v) }
      return nil
    }
    let parts = t.split(separator: " ").compactMap { UInt8($0) }
    if parts.count == 3, t.split(separator: " ").count == 3 { return .rgb(parts[0], parts[1], parts[2]) }
    return nil
  }

  /// 101 colours by piecewise-linear RGB interpolation.
  static func expand(start: Color, mid: Color?, end: Color?) -> [Color] {
    guard case .rgb(let r0, let g0, let b0) = start else { return Array(repeating: start, count: 101) }
    let stops: [(Double, Double, Double)] = [start, mid, end].compactMap {
      if case .rgb(let r, let g, let b)? = $0 { return (Double(r), Double(g), Double(b)) }
      return nil
    }
    if stops.count == 1 { return Array(repeating: .rgb(r0, g0, b0), count: 101) }
    return (0...100).map { i in
      let position = Double(i) / 100 * Double(stops.count - 1)
      let k = min(Int(position), stops.count - 2)
      let f = position - Double(k)
      let (a, b) = (stops[k], stops[k + 1])
      func mix(_ x: Double, _ y: Double) -> UInt8 { UInt8((x + (y - x) * f).rounded()) }
      return .rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
  }
}
