import Foundation
import KrylovEngine
import Testing

/// Files written by krylov before `format_version` existed (format 1), kept as they were.
private func fixture(_ name: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/format-v1/\(name)").path
}

@Suite("The system codec: one typed description in every file")
struct SystemRecordTests {
  /// One of each kind of system the engine runs.
  static func systems() throws -> [SpinChain] {
    [
      try SpinChain(model: .mfim, parameters: ["g": -1.2], size: 8, operator: .szTotal),
      try SpinChain(model: .xxz, size: 7, boundary: .obc, operator: .x0),
      try SpinChain.infiniteChain(model: .j1j2, parameters: ["J2": 0.3], operator: .zzTotal),
      try SpinChain.infiniteChain(model: .tfim, operator: .sxTotal, spins: .classical),
      try SpinChain(
        model: nil, hamiltonianText: "1.0*Z0Z1 + -1.05*X0", size: 6, boundary: .pbc, operator: nil, operatorText: "Z0"),
      try SpinChain.infiniteChain(
        model: nil, hamiltonianText: "1.0*Z0X1 + 0.6*X0", operator: nil, operatorText: "0.5*X0X1", translateOperator: true),
      try SpinChain(model: .mfim, size: 5, boundary: .obc, operator: .z0, spins: .classical),
    ]
  }

  @Test("every kind of system survives JSON and CSV, field for field")
  func roundTrip() throws {
    for chain in try Self.systems() {
      let data = try JSONEncoder().encode(chain)
      #expect(try JSONDecoder().decode(SpinChain.self, from: data) == chain, "\(chain.label)")
      let csv = CoefficientFile.csvPreamble(tool: "lanczos", system: chain) + "n,b_n\n1,0.5\n"
      let read = try CoefficientFile.parse(csv)
      #expect(read.system == chain && read.formatVersion == CoefficientFile.formatVersion, "\(chain.label)")
    }
  }

  @Test("files of format 1 read with their system: lanczos CSV and JSON, custom texts, simulate, dataset sequences")
  func formatOne() throws {
    let mfim5 = try SpinChain(model: .mfim, size: 5, operator: .szTotal)
    let expected: [(String, SpinChain)] = [
      ("lanczos-v1.csv", mfim5),
      ("lanczos-v1.json", mfim5),
      ("lanczos-inf-v1.json", try SpinChain.infiniteChain(model: .mfim, operator: .sxTotal)),
      ("lanczos-classical-v1.csv", try SpinChain.infiniteChain(model: .mfim, operator: .szTotal, spins: .classical)),
      (
        "lanczos-custom-v1.csv",
        try SpinChain(
          model: nil, hamiltonianText: "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0", size: 6, boundary: .obc, operator: nil,
          operatorText: "0.5*X0X1", translateOperator: true)
      ),
      (
        "lanczos-custom-v1.json",
        try SpinChain(
          model: nil, hamiltonianText: "1.0*Z0Z1 + -1.05*X0 + 0.5*Z0", size: 6, boundary: .pbc, operator: nil,
          operatorText: "Z0")
      ),
      (
        "sequence-v1-64403b546f974ebc.json",
        try SpinChain(model: .mfim, parameters: ["g": -1.1492], size: 5, operator: .szTotal)
      ),
      ("sequence-v1-59a9240d46f397d8.json", try SpinChain.infiniteChain(model: .tfim, operator: .sxTotal, spins: .classical)),
    ]
    for (name, chain) in expected {
      let read = try CoefficientFile.read(path: fixture(name))
      #expect(read.system == chain && read.formatVersion == 1, "\(name): \(read.system?.label ?? "no system")")
      #expect(!read.coefficients.isEmpty)
    }
    // The simulate CSV's system block is the same codec (its rows are C(t), not coefficients).
    let simulate = try String(contentsOfFile: fixture("simulate-v1.csv"), encoding: .utf8)
    var metadata: [String: String] = [:]
    for line in simulate.split(separator: "\n") where line.hasPrefix("# ") {
      let parts = line.dropFirst(2).split(separator: ":", maxSplits: 1)
      if parts.count == 2 { metadata[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    let record = try #require(try SystemRecord(metadata: metadata))
    #expect(try record.chain() == SpinChain(model: .mfim, size: 6, operator: .szTotal, spins: .classical))
  }

  @Test("a format-1 manifest still loads, and its entries rebuild their chains")
  func manifestOne() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("krylov-manifest-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.copyItem(
      atPath: fixture("dataset-manifest-v1.json"), toPath: directory + "/" + DatasetManifest.fileName)
    let manifest = try DatasetManifest.load(directory: directory)
    #expect(manifest.entries.count == 3)
    let chains = try manifest.entries.map { try $0.chain() }
    #expect(chains[0] == (try SpinChain(model: .mfim, parameters: ["g": -1.1492], size: 5, operator: .szTotal)))
    #expect(chains[2] == (try SpinChain.infiniteChain(model: .tfim, operator: .sxTotal, spins: .classical)))
  }

  @Test("dataset cache keys and file names are what format 1 wrote, so existing caches stay valid")
  func cacheKeys() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture("dataset-manifest-v1.json")))
    let manifest = try JSONDecoder().decode(DatasetManifest.self, from: data)
    let systems = try manifest.spec.systems()
    #expect(systems.map(\.key) == manifest.entries.map(\.key))
    #expect(systems.map { "sequences/\($0.fileName)" } == manifest.entries.map(\.file))
  }

  @Test("from format 2 on, a bad system block is an error that names the field")
  func strict() throws {
    func message(_ text: String) -> String {
      do {
        _ = try CoefficientFile.parse(text)
        return ""
      } catch { return error.message }
    }
    let csv = "# krylov lanczos\n# format_version: 2\n# model: ising\n# n: 8\n# bc: pbc\n# operator: sz_total\n1,0.5\n"
    #expect(message(csv).contains("model") && message(csv).contains("'ising'"))
    let json = #"{"format_version": 2, "system": {"model": "mfim", "n": 8, "bc": "ring", "operator": "sz_total"}, "b": [1]}"#
    #expect(message(json).contains("bc") && message(json).contains("'ring'"))
    let missing = #"{"format_version": 2, "system": {"model": "mfim", "bc": "pbc", "operator": "sz_total"}, "b": [1]}"#
    #expect(message(missing).contains("n: missing"))
    // A bare CSV from another tool has comments, not a system block.
    #expect(try CoefficientFile.parse("# model: my own\n1,0.5\n").system == nil)
  }

  @Test("CRLF line endings and a byte-order mark read like plain LF text")
  func lineEndings() throws {
    let chain = try SpinChain(model: .tfim, size: 6, operator: .z0)
    let lf = CoefficientFile.csvPreamble(tool: "lanczos", system: chain) + "n,b_n,trusted\n1,1.5,1\n2,2.5,0\n# trusted: 1\n"
    let crlf = "\u{FEFF}" + lf.replacingOccurrences(of: "\n", with: "\r\n")
    let a = try CoefficientFile.parse(lf)
    let b = try CoefficientFile.parse(crlf)
    #expect(b.coefficients == [1.5, 2.5] && b.trustedCount == 1 && b.system == chain)
    #expect(a == b)
    let json = "\u{FEFF}{\"b\": [1.5]}\r\n"
    #expect(try CoefficientFile.parse(json).coefficients == [1.5])
  }

  @Test("a trusted count outside 0...count is refused in CSV as in JSON")
  func trustedRange() {
    #expect(throws: CoefficientFileError.self) { try CoefficientFile.parse("# trusted: -3\n1,0.5\n") }
    #expect(throws: CoefficientFileError.self) { try CoefficientFile.parse("# trusted: 4\n1,0.5\n") }
    #expect(throws: CoefficientFileError.self) { try CoefficientFile.parse("# trusted: many\n1,0.5\n") }
  }

  @Test("a value JSON cannot hold is an encoding error naming its place, never an empty document")
  func notANumber() throws {
    let document = CoefficientDocument(system: nil, b: [1, .nan], trusted: 1, exhausted: false)
    do {
      _ = try CoefficientFile.json(document)
      Issue.record("NaN was encoded")
    } catch {
      #expect(error.message.contains("b") && error.message.contains("[1]"))
    }
    let fine = try CoefficientFile.json(CoefficientDocument(system: nil, b: [1, 2], trusted: 2, exhausted: false))
    #expect(try CoefficientFile.parse(fine).coefficients == [1, 2])
  }

  @Test("the system is validated when it is made: a size, an operator the infinite chain cannot hold, a parameter")
  func validation() {
    #expect(throws: SystemError.sizeOutOfRange(2, minimum: 3, maximum: SpinChain.maximumSize)) {
      try SpinChain(model: .mfim, size: 2, operator: .szTotal)
    }
    #expect(throws: SystemError.notTranslationInvariant("x0")) {
      try SpinChain(spins: .quantum, model: .builtIn(.mfim, parameters: [:]), operator: .builtIn(.x0), geometry: .infinite)
    }
    #expect(throws: SystemError.self) { try SpinChain(model: .tfim, parameters: ["Delta": 1], size: 6, operator: .z0) }
    let record = SystemRecord(model: "mfim", n: "inf", operatorName: "z0")
    #expect(throws: SystemError.notTranslationInvariant("z0")) { try record.chain() }
  }
}
