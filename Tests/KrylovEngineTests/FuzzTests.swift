import Foundation
import KrylovEngine
import KrylovTestSupport
import Testing

@Suite("Fuzz: engine readers give a clear error or a sound result, never a trap")
struct EngineFuzzTests {
  /// Files the project wrote (format 1 and today's), as the seeds of the mutations.
  static let seeds = ["lanczos-v1.csv", "lanczos-v1.json", "lanczos-inf-v1.json", "lanczos-classical-v1.csv"]

  static func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/format-v1/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
  }

  @Test("coefficient files (CSV and JSON)", arguments: seeds)
  func coefficientFiles(name: String) throws {
    let seedText = try Self.fixture(name)
    // The seed itself reads, so the mutations start from a file that exercises the reader.
    #expect(throws: Never.self) { try CoefficientFile.parse(seedText) }
    var mutator = Mutator(SplitMix64(seed: UInt64(seedText.count)))
    for _ in 0..<fuzzIterations {
      let text = String(decoding: mutator.mutate(Array(seedText.utf8)), as: UTF8.self)
      guard let sequence = try? CoefficientFile.parse(text) else { continue }
      // Whatever was read is usable: the trusted count lies within the coefficients.
      if let trusted = sequence.trustedCount {
        #expect(trusted >= 0 && trusted <= sequence.coefficients.count, "\(text)")
      }
    }
  }

  @Test("dataset specs")
  func datasetSpecs() throws {
    let spec = """
      {"name": "x", "seed": 7, "steps": 20, "groups": [
        {"model": "mfim", "sizes": [6, "inf"], "boundaries": ["pbc"], "operators": ["sz_total"], "samples": 2,
         "parameters": {"g": {"range": [-1.2, -0.8]}, "h": {"values": [0.5]}}}]}
      """
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("krylov-fuzz-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("spec.json")
    var mutator = Mutator(SplitMix64(seed: 99))
    for _ in 0..<fuzzIterations {
      try Data(mutator.mutate(Array(spec.utf8))).write(to: path)
      guard let loaded = try? DatasetSpec.load(path: path.path) else { continue }
      // A spec that loads expands to a bounded list of systems, each a valid chain or a clear error.
      guard let systems = try? loaded.systems() else { continue }
      #expect(systems.count <= DatasetSpec.maximumSystems)
      for system in systems.prefix(4) { _ = try? system.chain() }
    }
  }
}

@Suite("Dataset shards")
struct DatasetShardTests {
  @Test("every system is in exactly one part, and adding a group moves no other system")
  func partition() throws {
    let text = """
      {"name": "x", "seed": 1, "steps": 10, "groups": [
        {"model": "mfim", "sizes": [6, 8, "inf"], "operators": ["sz_total", "sx_total"], "samples": 5,
         "parameters": {"g": {"range": [-1.2, -0.8]}}}]}
      """
    let spec = try JSONDecoder().decode(DatasetSpec.self, from: Data(text.utf8))
    let systems = try spec.systems()
    for count in [1, 2, 3, 7] {
      for system in systems {
        let parts = (0..<count).filter { DatasetShard(index: $0, count: count)!.contains(system) }
        #expect(parts.count == 1)
      }
    }
    let grownText = text.replacingOccurrences(
      of: "]}}}]}", with: "]}}}, {\"model\": \"tfim\", \"sizes\": [6], \"operators\": [\"sz_total\"]}]}")
    let grown = try JSONDecoder().decode(DatasetSpec.self, from: Data(grownText.utf8))
    #expect(try grown.systems().count == systems.count + 1)
    let before = Dictionary(systems.map { ($0.key, DatasetShard.part(of: $0, count: 4)) }) { a, _ in a }
    for system in try grown.systems() where before[system.key] != nil {
      #expect(DatasetShard.part(of: system, count: 4) == before[system.key])
    }
    #expect(DatasetShard("2/4") == DatasetShard(index: 2, count: 4))
    #expect(DatasetShard("4/4") == nil && DatasetShard("a/b") == nil && DatasetShard("1/0") == nil)
  }
}
