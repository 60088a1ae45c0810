import Foundation

/// A sequence of Lanczos coefficients read from a file, with what the file says about trust.
public struct CoefficientSequence: Sendable, Equatable {
  /// b_1, b_2, ...
  public var coefficients: [Double]
  /// Leading entries the file marks as trusted; nil when the file says nothing about trust.
  public var trustedCount: Int?
  /// Whether the file says the Krylov space was exhausted after the last coefficient.
  public var exhausted: Bool
  /// The system description, when the file carries one (files written by `krylov lanczos`).
  public var system: [String: String]

  public init(coefficients: [Double], trustedCount: Int? = nil, exhausted: Bool = false, system: [String: String] = [:]) {
    self.coefficients = coefficients
    self.trustedCount = trustedCount
    self.exhausted = exhausted
    self.system = system
  }
}

/// A coefficients file that cannot be used, with the line (1-based) at fault when there is one.
public struct CoefficientFileError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var line: Int?
  public var message: String
  public var description: String {
    line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
  }
}

/// Reads what `krylov lanczos` writes (CSV or JSON), or any CSV of `n,b_n` rows.
///
/// CSV: `#` lines are comments (`# trusted: K` and `# exhausted: true` are understood), an
/// optional header, then rows `n,b_n[,trusted]` with n = 1, 2, 3, ... in order.
public enum CoefficientFile {
  public static func read(path: String) throws(CoefficientFileError) -> CoefficientSequence {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CoefficientFileError(path: path, line: nil, message: "cannot read the file: no such file")
    }
    if isDirectory.boolValue {
      throw CoefficientFileError(path: path, line: nil, message: "cannot read the file: it is a directory")
    }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw CoefficientFileError(path: path, line: nil, message: "cannot read the file: permission denied or unreadable")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw CoefficientFileError(path: path, line: nil, message: "the file is not UTF-8 text")
    }
    return try parse(text, path: path)
  }

  public static func parse(_ text: String, path: String = "<input>") throws(CoefficientFileError)
    -> CoefficientSequence
  {
    let trimmed = text.drop { $0.isWhitespace }
    if trimmed.first == "{" { return try parseJSON(text, path: path) }
    return try parseCSV(text, path: path)
  }

  /// JSON is decoded with `JSONDecoder`, which reads every double exactly; `JSONSerialization`
  /// rounds about a third of them by one unit in the last place, which the coefficients
  /// (printed to full precision) cannot afford.
  private static func parseJSON(_ text: String, path: String) throws(CoefficientFileError) -> CoefficientSequence {
    func fail(_ m: String) -> CoefficientFileError { CoefficientFileError(path: path, line: nil, message: m) }
    let file: JSONCoefficients
    do { file = try JSONDecoder().decode(JSONCoefficients.self, from: Data(text.utf8)) } catch let error as DecodingError {
      switch error {
      case .keyNotFound(let key, _) where key.stringValue == "b": throw fail("no array \"b\" of coefficients")
      case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
        if let index = ctx.codingPath.last?.intValue, ctx.codingPath.first?.stringValue == "b" {
          throw fail("b[\(index)] (b_\(index + 1)) is not a finite, non-negative number")
        }
        if ctx.codingPath.isEmpty { throw fail("not valid JSON (expected an object with an array \"b\")") }
        throw fail("bad value at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
      default: throw fail("not valid JSON")
      }
    } catch { throw fail("not valid JSON") }
    for (i, x) in file.b.enumerated() where !(x.isFinite && x >= 0) {
      throw fail("b[\(i)] (b_\(i + 1)) is not a finite, non-negative number")
    }
    if let k = file.trusted, k < 0 || k > file.b.count {
      throw fail("\"trusted\" must be a count between 0 and \(file.b.count)")
    }
    return CoefficientSequence(
      coefficients: file.b, trustedCount: file.trusted, exhausted: file.exhausted ?? false,
      system: (file.system ?? [:]).mapValues(\.description))
  }

  private static func parseCSV(_ text: String, path: String) throws(CoefficientFileError) -> CoefficientSequence {
    var b: [Double] = []
    var trustedFlags: [Bool] = []
    var hasTrustColumn = false
    var trustedComment: Int?
    var exhausted = false
    var system: [String: String] = [:]
    var sawHeader = false
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let lineNumber = index + 1
      func fail(_ m: String) -> CoefficientFileError { CoefficientFileError(path: path, line: lineNumber, message: m) }
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty { continue }
      if line.hasPrefix("#") {
        let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
        if let colon = body.firstIndex(of: ":") {
          let key = body[..<colon].trimmingCharacters(in: .whitespaces)
          let value = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
          switch key {
          case "trusted": trustedComment = Int(value)
          case "exhausted": exhausted = value == "true"
          default: system[key] = value
          }
        }
        continue
      }
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if b.isEmpty && !sawHeader && fields.count >= 2 && Double(fields[0]) == nil {
        sawHeader = true  // a header such as `n,b_n`
        hasTrustColumn = fields.count >= 3 && fields[2].lowercased() == "trusted"
        continue
      }
      guard fields.count >= 2 else { throw fail("expected 'n,b_n', found '\(line)'") }
      guard let n = Int(fields[0]) else { throw fail("'\(fields[0])' is not a whole number n") }
      guard n == b.count + 1 else {
        throw fail("rows must run n = 1, 2, 3, ... in order; expected n = \(b.count + 1), found n = \(n)")
      }
      guard let value = Double(fields[1]), value.isFinite, value >= 0 else {
        throw fail("b_\(n) = '\(fields[1])' is not a finite, non-negative number")
      }
      b.append(value)
      if hasTrustColumn {
        guard fields.count >= 3, let flag = Int(fields[2]), flag == 0 || flag == 1 else {
          throw fail("the trusted column must be 0 or 1")
        }
        trustedFlags.append(flag == 1)
      }
    }
    guard !b.isEmpty else {
      throw CoefficientFileError(path: path, line: nil, message: "no coefficients found (expected rows 'n,b_n')")
    }
    var trusted = trustedComment
    if hasTrustColumn { trusted = trustedFlags.firstIndex(of: false) ?? trustedFlags.count }
    if let t = trusted { trusted = min(t, b.count) }
    return CoefficientSequence(coefficients: b, trustedCount: trusted, exhausted: exhausted, system: system)
  }
}

/// The JSON coefficient file: `b`, and optionally `trusted`, `exhausted` and `system`.
private struct JSONCoefficients: Decodable {
  var b: [Double]
  var trusted: Int?
  var exhausted: Bool?
  var system: [String: JSONScalar]?
}

/// A value in the `system` object, kept as text.
private enum JSONScalar: Decodable, CustomStringConvertible {
  case text(String)
  case other(String)

  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let s = try? c.decode(String.self) {
      self = .text(s)
    } else if let i = try? c.decode(Int.self) {
      self = .other("\(i)")
    } else if let d = try? c.decode(Double.self) {
      self = .other("\(d)")
    } else if let b = try? c.decode(Bool.self) {
      self = .other("\(b)")
    } else {
      self = .other("")
    }
  }

  var description: String {
    switch self {
    case .text(let s), .other(let s): s
    }
  }
}
