import Foundation

/// A sequence of Lanczos coefficients read from a file, with what the file says about trust.
public struct CoefficientSequence: Sendable, Equatable {
  /// b_1, b_2, ...
  public var coefficients: [Double]
  /// Leading entries the file marks as trusted; nil when the file says nothing about trust.
  public var trustedCount: Int?
  /// Whether the file says the Krylov space was exhausted after the last coefficient.
  public var exhausted: Bool
  /// The system, when the file names one (files written by `krylov lanczos`, dataset sequences).
  public var system: SpinChain?
  /// The file's `format_version`: 1 for files written before it was recorded, nil for files
  /// that are not krylov's own.
  public var formatVersion: Int?

  public init(
    coefficients: [Double], trustedCount: Int? = nil, exhausted: Bool = false, system: SpinChain? = nil,
    formatVersion: Int? = nil
  ) {
    self.coefficients = coefficients
    self.trustedCount = trustedCount
    self.exhausted = exhausted
    self.system = system
    self.formatVersion = formatVersion
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
/// CSV: `#` lines are comments (`# trusted: K`, `# exhausted: true` and the system block are
/// understood), an optional header, then rows `n,b_n[,trusted]` with n = 1, 2, 3, ... in order.
/// Line endings may be LF or CRLF, and a UTF-8 byte-order mark is skipped.
public enum CoefficientFile {
  /// The version written into every file's `format_version` (docs/formats.md).
  ///
  /// Version 1 is every file written before the field existed; it still reads.
  public static let formatVersion = 2

  /// The `#` lines that open a CSV file written by `tool` (`lanczos`, `simulate`): the format
  /// version and the system block.
  public static func csvPreamble(tool: String, system: SpinChain) -> String {
    var lines = ["# krylov \(tool)", "# format_version: \(formatVersion)"]
    for (key, value) in SystemRecord(system).metadata { lines.append("# \(key): \(value)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// A document as pretty JSON with a final newline; a value JSON cannot hold (NaN, ±∞) is an
  /// error naming where it is, never an empty or truncated file.
  public static func json<T: Encodable>(_ value: T, pretty: Bool = true) throws(CoefficientFileError) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    do { return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n" } catch let EncodingError.invalidValue(
      v, context)
    {
      let place = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      throw CoefficientFileError(
        path: "<output>", line: nil,
        message: "cannot write \(v) at \(place.isEmpty ? "top level" : place): JSON has no such number")
    } catch {
      throw CoefficientFileError(path: "<output>", line: nil, message: "cannot encode the output: \(error)")
    }
  }

  /// The largest coefficient file read: far beyond any sequence the engine or the forecaster
  /// can use (the forecaster's horizon is 5000), small enough to refuse a wrong file at once.
  public static let maximumFileBytes = 256 << 20

  public static func read(path: String) throws(CoefficientFileError) -> CoefficientSequence {
    let data: Data
    do { data = try InputFile.read(path: path, limit: maximumFileBytes) } catch {
      throw CoefficientFileError(path: path, line: nil, message: "cannot read the file: \(error.reason)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw CoefficientFileError(path: path, line: nil, message: "the file is not UTF-8 text")
    }
    return try parse(text, path: path)
  }

  public static func parse(_ text: String, path: String = "<input>") throws(CoefficientFileError)
    -> CoefficientSequence
  {
    let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    let trimmed = text.drop { $0.isWhitespace }
    if trimmed.first == "{" { return try parseJSON(text, path: path) }
    return try parseCSV(text, path: path)
  }

  /// JSON is decoded with `JSONDecoder`, which reads every double exactly; `JSONSerialization`
  /// rounds about a third of them by one unit in the last place, which the coefficients
  /// (printed to full precision) cannot afford.
  private static func parseJSON(_ text: String, path: String) throws(CoefficientFileError) -> CoefficientSequence {
    func fail(_ m: String) -> CoefficientFileError { CoefficientFileError(path: path, line: nil, message: m) }
    let file: CoefficientDocumentFields
    do { file = try JSONDecoder().decode(CoefficientDocumentFields.self, from: Data(text.utf8)) } catch let error as DecodingError
    {
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
    let version = file.formatVersion ?? (file.system == nil ? nil : 1)
    return CoefficientSequence(
      coefficients: file.b, trustedCount: file.trusted, exhausted: file.exhausted ?? false,
      system: try system(file.system, version: version, fail: fail), formatVersion: version)
  }

  /// A system block: required to be valid from format 2 on; a format-1 block that does not
  /// describe a system (written by another tool) is passed over.
  private static func system(
    _ record: SystemRecord?, version: Int?, fail: (String) -> CoefficientFileError
  ) throws(CoefficientFileError) -> SpinChain? {
    guard let record else { return nil }
    do { return try record.chain() } catch {
      if (version ?? 1) >= 2 { throw fail(error.description) }
      return nil
    }
  }

  private static func parseCSV(_ text: String, path: String) throws(CoefficientFileError) -> CoefficientSequence {
    var b: [Double] = []
    var trustedFlags: [Bool] = []
    var hasTrustColumn = false
    var trustedComment: Int?
    var exhausted = false
    var metadata: [String: String] = [:]
    var firstComment: String?
    var sawHeader = false
    // Split on every line ending: Swift reads CRLF as one Character, which "\n" does not match.
    for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
      let lineNumber = index + 1
      func fail(_ m: String) -> CoefficientFileError { CoefficientFileError(path: path, line: lineNumber, message: m) }
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty { continue }
      if line.hasPrefix("#") {
        let comment = line.dropFirst().trimmingCharacters(in: .whitespaces)
        if firstComment == nil { firstComment = comment }
        if let colon = comment.firstIndex(of: ":") {
          let key = comment[..<colon].trimmingCharacters(in: .whitespaces)
          let value = comment[comment.index(after: colon)...].trimmingCharacters(in: .whitespaces)
          switch key {
          case "trusted":
            guard let k = Int(value), k >= 0 else { throw fail("'# trusted: \(value)' is not a count of coefficients") }
            trustedComment = k
          case "exhausted": exhausted = value == "true"
          default: metadata[key] = value
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
    if let t = trusted, t > b.count {
      throw CoefficientFileError(
        path: path, line: nil, message: "'# trusted: \(t)' counts more coefficients than the file's \(b.count)")
    }
    if hasTrustColumn { trusted = trustedFlags.firstIndex(of: false) ?? trustedFlags.count }
    // A system block is read from krylov's own files: those that say so on their first line.
    let ownFile = firstComment?.hasPrefix("krylov ") == true || metadata["format_version"] != nil
    var version: Int?
    if let text = metadata["format_version"] {
      guard let v = Int(text), v >= 1 else {
        throw CoefficientFileError(path: path, line: nil, message: "'# format_version: \(text)' is not a version number")
      }
      version = v
    } else if ownFile {
      version = 1
    }
    var system: SpinChain?
    if ownFile {
      func fail(_ m: String) -> CoefficientFileError { CoefficientFileError(path: path, line: nil, message: m) }
      let record: SystemRecord?
      do { record = try SystemRecord(metadata: metadata) } catch {
        if (version ?? 1) >= 2 { throw fail(error.description) }
        record = nil
      }
      system = try Self.system(record, version: version, fail: fail)
    }
    return CoefficientSequence(
      coefficients: b, trustedCount: trusted, exhausted: exhausted, system: system, formatVersion: version)
  }
}

/// The JSON coefficient file, as every writer of coefficients stores it (docs/formats.md).
///
/// `b`, and optionally `trusted`, `exhausted`, the system and what the run that computed them
/// reports. `krylov lanczos` and dataset sequences write it; every reader reads it.
public struct CoefficientDocument: Codable, Sendable {
  public var formatVersion: Int?
  public var system: SystemRecord?
  public var b: [Double]
  public var trusted: Int?
  public var exhausted: Bool?
  public var steps: Int?
  public var sector: Sector?
  public var conserved: Bool?
  public var krylovDimension: Int?
  public var exhaustionTrusted: Bool?
  public var stop: String?
  public var probeDeviation: [Double]?
  public var reorthogonalization: ReorthogonalizationRecord?
  public var timings: Timings?
  /// The approximate infinite chain (`--truncate`): the classes kept, and the last exact step.
  public var approximate: Bool?
  public var truncation: Int?
  public var exactUntil: Int?
  public var classes: [Int]?
  /// A dataset sequence's manifest entry (the cache reads it back).
  public var entry: DatasetEntry?

  public init(system: SpinChain?, b: [Double], trusted: Int?, exhausted: Bool?) {
    self.formatVersion = CoefficientFile.formatVersion
    self.system = system.map(SystemRecord.init)
    self.b = b
    self.trusted = trusted
    self.exhausted = exhausted
  }

  public struct Sector: Codable, Sendable {
    public var symmetry: String
    public var dimensions: [Int]
    /// Classical chains: the size of the whole basis.
    public var basisSize: Int?
    public init(symmetry: String, dimensions: [Int], basisSize: Int? = nil) {
      self.symmetry = symmetry
      self.dimensions = dimensions
      self.basisSize = basisSize
    }
    enum CodingKeys: String, CodingKey {
      case symmetry, dimensions
      case basisSize = "basis_size"
    }
  }

  public struct ReorthogonalizationRecord: Codable, Sendable {
    public var mode: String
    public var precision: String
    public var reorthogonalizedSteps: Int
    public init(mode: String, precision: String, reorthogonalizedSteps: Int) {
      self.mode = mode
      self.precision = precision
      self.reorthogonalizedSteps = reorthogonalizedSteps
    }
    enum CodingKeys: String, CodingKey {
      case mode, precision
      case reorthogonalizedSteps = "reorthogonalized_steps"
    }
  }

  public struct Timings: Codable, Sendable {
    public var setupSeconds: Double?
    public var totalSeconds: Double
    public var stepSeconds: [Double]?
    public init(setupSeconds: Double? = nil, totalSeconds: Double, stepSeconds: [Double]? = nil) {
      self.setupSeconds = setupSeconds
      self.totalSeconds = totalSeconds
      self.stepSeconds = stepSeconds
    }
    enum CodingKeys: String, CodingKey {
      case setupSeconds = "setup_seconds"
      case totalSeconds = "total_seconds"
      case stepSeconds = "step_seconds"
    }
  }

  enum CodingKeys: String, CodingKey {
    case formatVersion = "format_version"
    case system, b, trusted, exhausted, steps, sector, conserved
    case krylovDimension = "krylov_dimension"
    case exhaustionTrusted = "exhaustion_trusted"
    case stop
    case probeDeviation = "probe_deviation"
    case reorthogonalization, timings, approximate, truncation
    case exactUntil = "exact_until"
    case classes, entry
  }
}

/// The fields of a JSON coefficient file that readers use; the rest is passed over, so a
/// file with more (or other tools' extra keys) still reads.
private struct CoefficientDocumentFields: Decodable {
  var formatVersion: Int?
  var system: SystemRecord?
  var b: [Double]
  var trusted: Int?
  var exhausted: Bool?
  enum CodingKeys: String, CodingKey {
    case formatVersion = "format_version"
    case system, b, trusted, exhausted
  }
}
