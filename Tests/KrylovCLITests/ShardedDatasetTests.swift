import Foundation
import Testing

/// Sharded dataset builds (`--shard I/N`, `dataset merge`): the same dataset as one build.
@Suite("Sharded dataset builds")
struct ShardedDatasetTests {
  static let spec = #"""
    { "name": "tiny", "seed": 3, "steps": 40,
      "groups": [ { "model": "mfim", "sizes": [5, 6], "operators": ["sz_total", "sx_total"], "samples": 3,
                    "parameters": { "g": { "range": [-1.3, -0.8] } } },
                  { "model": "tfim", "sizes": ["inf"], "operators": ["sz_total"], "steps": 12,
                    "parameters": { "g": { "values": [0.7, 1.3] } } } ] }
    """#

  /// The manifest's entries without their timings, and each sequence's coefficients.
  func contents(_ directory: URL) throws -> (entries: [[String: String]], coefficients: [[Double]]) {
    let manifest = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        as? [String: Any])
    #expect(manifest["complete"] as? Bool == true)
    let entries = try #require(manifest["entries"] as? [[String: Any]])
    var described: [[String: String]] = []
    var coefficients: [[Double]] = []
    for entry in entries {
      // Each value as sorted-key JSON, so a dictionary compares by content, not by hash order.
      described.append(
        try entry.filter { $0.key != "seconds" }.mapValues {
          String(
            decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
        })
      let file = try #require(entry["file"] as? String)
      let sequence = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(file))) as? [String: Any])
      coefficients.append(try #require(sequence["b"] as? [Double]))
    }
    return (described, coefficients)
  }

  @Test("parts in one directory or in several merge into the unsharded dataset, bit for bit")
  func mergeEqualsWhole() throws {
    let dir = try temporaryDirectory()
    let spec = dir.appendingPathComponent("spec.json")
    try Self.spec.write(to: spec, atomically: true, encoding: .utf8)
    let whole = dir.appendingPathComponent("whole")
    #expect(try krylov(["dataset", "build", "--spec", spec.path, "--out", whole.path, "-q"]).status == 0)
    let reference = try contents(whole)
    #expect(reference.entries.count == 14)

    // Three parts sharing a directory.
    let shared = dir.appendingPathComponent("shared")
    for i in 0..<3 {
      let r = try krylov(["dataset", "build", "--spec", spec.path, "--out", shared.path, "--shard", "\(i)/3", "-q"])
      #expect(r.status == 0, "\(r.err)")
    }
    #expect(!FileManager.default.fileExists(atPath: shared.appendingPathComponent("manifest.json").path))
    let merged = try krylov(["dataset", "merge", shared.path])
    #expect(merged.status == 0, "\(merged.err)")
    let sharded = try contents(shared)
    #expect(sharded.entries == reference.entries)
    #expect(sharded.coefficients == reference.coefficients)

    // Two parts in directories of their own, merged elsewhere; a missing part is named.
    let a = dir.appendingPathComponent("a")
    let b = dir.appendingPathComponent("b")
    let out = dir.appendingPathComponent("out")
    #expect(try krylov(["dataset", "build", "--spec", spec.path, "--out", a.path, "--shard", "0/2", "-q"]).status == 0)
    try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
    let early = try krylov(["dataset", "merge", a.path, b.path, "--out", out.path])
    #expect(early.status == 1)
    #expect(early.err.contains("rerun parts 1"), "\(early.err)")
    #expect(try krylov(["dataset", "build", "--spec", spec.path, "--out", b.path, "--shard", "1/2", "-q"]).status == 0)
    #expect(try krylov(["dataset", "merge", a.path, b.path, "--out", out.path]).status == 0)
    let separate = try contents(out)
    #expect(separate.entries == reference.entries)
    #expect(separate.coefficients == reference.coefficients)
  }

  @Test("bad shards and mixed specs are refused")
  func refusals() throws {
    let dir = try temporaryDirectory()
    let spec = dir.appendingPathComponent("spec.json")
    try Self.spec.write(to: spec, atomically: true, encoding: .utf8)
    for bad in ["3/3", "-1/2", "1/0", "x", "1/2/3"] {
      let r = try krylov([
        "dataset", "build", "--spec", spec.path, "--out", dir.appendingPathComponent("d").path, "--shard=\(bad)",
      ])
      #expect(r.status == 2, "--shard \(bad)")
    }
    let other = dir.appendingPathComponent("other.json")
    try Self.spec.replacingOccurrences(of: "\"seed\": 3", with: "\"seed\": 4").write(
      to: other, atomically: true, encoding: .utf8)
    let shared = dir.appendingPathComponent("mixed")
    #expect(try krylov(["dataset", "build", "--spec", spec.path, "--out", shared.path, "--shard", "0/2", "-q"]).status == 0)
    #expect(try krylov(["dataset", "build", "--spec", other.path, "--out", shared.path, "--shard", "1/2", "-q"]).status == 0)
    let mixed = try krylov(["dataset", "merge", shared.path])
    #expect(mixed.status == 1)
    #expect(mixed.err.contains("another spec"), "\(mixed.err)")
    let plan = try krylov(["dataset", "plan", "--spec", spec.path, "--shard", "1/2"])
    #expect(plan.status == 0)
    #expect(plan.out.contains("mem_mib="), "\(plan.out)")
  }
}
