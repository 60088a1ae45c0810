import Foundation
import Testing

/// A small dataset mixing classical and quantum sequences, built once.
final class MixedSpinsFixture: @unchecked Sendable {
  static let shared = MixedSpinsFixture()
  let directory: URL
  let data: String
  let buildError: String?

  private init() {
    directory = (try? temporaryDirectory()) ?? URL(fileURLWithPath: NSTemporaryDirectory())
    data = directory.appendingPathComponent("data").path
    let spec = directory.appendingPathComponent("spec.json")
    try? #"""
    { "name": "mixed", "seed": 5, "steps": 14,
      "groups": [
        { "spins": "classical", "model": "mfim", "sizes": ["inf"], "operators": ["sz_total"], "samples": 2,
          "parameters": { "g": { "range": [-1.3, -0.8] } } },
        { "model": "mfim", "sizes": [6], "operators": ["sz_total"], "samples": 1,
          "parameters": { "g": { "range": [-1.3, -0.8] } } } ] }
    """#.write(to: spec, atomically: true, encoding: .utf8)
    var error: String?
    if let r = try? krylov(["dataset", "build", "--spec", spec.path, "--out", data, "-q"]), r.status != 0 { error = r.err }
    buildError = error
  }

  func manifestEntries() throws -> [[String: Any]] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data + "/manifest.json")))
    return try #require((object as? [String: Any])?["entries"] as? [[String: Any]])
  }
}

@Suite("classical sequences in datasets, evaluation and forecasts")
struct ClassicalForecastingTests {
  let fixture = MixedSpinsFixture.shared

  @Test("a dataset group with spins classical computes classical chains, keyed apart from quantum ones")
  func datasetSpins() throws {
    #expect(fixture.buildError == nil, "\(fixture.buildError ?? "")")
    let entries = try fixture.manifestEntries()
    #expect(entries.count == 3)
    let classical = entries.filter { $0["spins"] as? String == "classical" }
    let quantum = entries.filter { $0["spins"] as? String == "quantum" }
    #expect(classical.count == 2 && quantum.count == 1)
    for entry in classical {
      #expect((entry["key"] as? String)?.hasPrefix("classical mfim[") == true)
      // physics.md §6: for sz_total under mfim, b_1 = |g| exactly.
      let g = try #require((entry["parameters"] as? [String: Double])?["g"])
      let file = fixture.data + "/" + (try #require(entry["file"] as? String))
      let sequence = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
      let b = try #require(sequence["b"] as? [Double])
      #expect(b.count == 14)
      #expect(abs(b[0] - abs(g)) < 1e-12 * abs(g))
      #expect((sequence["system"] as? [String: Any])?["spins"] as? String == "classical")
    }
    #expect((quantum.first?["key"] as? String)?.hasPrefix("mfim[") == true)
  }

  @Test("an unknown kind of spins in a spec is refused with its name")
  func badSpins() throws {
    let dir = try temporaryDirectory()
    let spec = dir.appendingPathComponent("bad.json")
    try
      #"{"name": "x", "seed": 1, "steps": 5, "groups": [{"spins": "semiclassical", "model": "mfim", "sizes": [4], "operators": ["sz_total"]}]}"#
      .write(to: spec, atomically: true, encoding: .utf8)
    let r = try krylov(["dataset", "build", "--spec", spec.path, "--out", dir.appendingPathComponent("out").path])
    #expect(r.status != 0)
    #expect(r.err.contains("'semiclassical' is not quantum or classical"), "\(r.err)")
  }

  @Test("evaluate scores classical systems against molecular dynamics and reports them apart")
  func evaluateClassical() throws {
    let r = try krylov([
      "evaluate", "--data", fixture.data, "--prefix", "10", "--horizon", "14", "--md-samples", "2048", "--md-tmax", "0.5",
      "--format", "json",
    ])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let systems = try #require(object["systems"] as? [[String: Any]])
    #expect(systems.count == 3)
    for system in systems {
      let md = system["c_max_abs_vs_md"] as? [String: Double]
      if system["spins"] as? String == "classical" {
        let errors = try #require(md)
        let exact = try #require(errors["exact b_1..b_M"])
        let noise = try #require(system["md_largest_stderr"] as? Double)
        // For t ≤ 0.5, C(t) from 14 exact coefficients is exact: the simulation agrees within its noise.
        #expect(noise > 0 && exact < 4 * noise, "exact \(exact), standard error \(noise)")
        #expect(errors["transformer"] != nil && errors["linear_fit"] != nil)
      } else {
        #expect(md == nil)
      }
    }
    let aggregates = try #require(object["aggregates"] as? [String: Any])
    #expect(aggregates["classical, all models"] != nil)
    #expect(aggregates["chaotic (mfim, j1j2)"] != nil)
    #expect((aggregates["chaotic (mfim, j1j2)"] as? [String: Any])?["c_max_abs_vs_md"] == nil)
  }

  @Test("evaluate --continue-to scores C(t) past the computed coefficients against a longer simulation")
  func continuation() throws {
    let r = try krylov([
      "evaluate", "--data", fixture.data, "--prefix", "10", "--horizon", "12", "--md-samples", "2048", "--md-tmax", "0.5",
      "--continue-to", "24", "--continue-tmax", "1", "--format", "json",
    ])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let systems = try #require(object["systems"] as? [[String: Any]])
    let classical = systems.filter { $0["spins"] as? String == "classical" }
    #expect(classical.count == 2)
    for system in classical {
      let continued = try #require(system["continued"] as? [String: Any])
      #expect(continued["to"] as? Int == 24 && continued["md_sites"] as? Int == 16)
      let end = try #require(continued["md_end"] as? Double)
      #expect(abs(end - 1) < 1e-9)
      let methods = try #require(continued["methods"] as? [String: [String: Double]])
      #expect(
        Set(methods.keys) == [
          "computed b_1..b_M alone", "transformer", "linear_fit", "log_corrected_fit", "best_fit", "linear_ar",
        ])
      // Up to t = 1, twelve exact coefficients already fix C(t): it agrees with the simulation throughout.
      let alone = try #require(methods["computed b_1..b_M alone"])
      #expect(alone["agrees_until"] == end, "\(alone)")
      for (_, score) in methods { #expect((score["agrees_until"] ?? -1) >= 0 && (score["agrees_until"] ?? 2) <= end) }
    }
    #expect(systems.filter { $0["spins"] as? String == "quantum" }.allSatisfy { $0["continued"] == nil })
    let refused = try krylov(["evaluate", "--data", fixture.data, "--prefix", "10", "--horizon", "12", "--continue-to", "12"])
    #expect(refused.status == 64 || refused.status == 2)
    #expect(refused.err.contains("--continue-to (12) must be larger than --horizon (12)"), "\(refused.err)")
  }

  @Test("forecast picks the embedded model by the input's spins")
  func modelByInput() throws {
    let dir = try temporaryDirectory()
    let classical = dir.appendingPathComponent("classical.json").path
    let quantum = dir.appendingPathComponent("quantum.json").path
    #expect(
      try krylov(["lanczos", "--spins", "classical", "--n", "inf", "--steps", "12", "--format", "json", "-o", classical, "-q"])
        .status == 0)
    #expect(try krylov(["lanczos", "--n", "6", "--steps", "12", "--format", "json", "-o", quantum, "-q"]).status == 0)
    for (file, name) in [(classical, "embedded classical"), (quantum, "embedded default")] {
      let r = try krylov(["forecast", "--input", file, "--prefix", "10", "--horizon", "20", "--format", "json"])
      #expect(r.status == 0, "\(r.err)")
      let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
      #expect(object["model"] as? String == name)
      #expect((object["forecast"] as? [Double])?.count == 10)
    }
  }

  @Test("train continues from the embedded weights, and refuses a configuration of another shape")
  func initialWeights() throws {
    let dir = try temporaryDirectory()
    let config = dir.appendingPathComponent("config.json")
    try #"{"layers": 1, "heads": 2, "channels": 8}"#.write(to: config, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("tuned.safetensors").path
    let refused = try krylov([
      "train", "--data", fixture.data, "--out", out, "--config", config.path, "--initial-weights", "default", "-q",
    ])
    #expect(refused.status == 1)
    #expect(refused.err.contains("another shape"), "\(refused.err)")
    #expect(!FileManager.default.fileExists(atPath: out))
    #expect(refused.err.contains("asks for layers 1 but --initial-weights default has layers 4"), "\(refused.err)")
    // A rollout prefix below the normalizing window (10) cannot pick weights: refused.
    let prefix = dir.appendingPathComponent("prefix.json")
    try #"{"rolloutPrefix": 5}"#.write(to: prefix, atomically: true, encoding: .utf8)
    let short = try krylov([
      "train", "--data", fixture.data, "--out", out, "--config", prefix.path, "--initial-weights", "default", "-q",
    ])
    #expect(short.status == 1)
    #expect(short.err.contains("rollout prefix (5)") && short.err.contains("scale window (10)"), "\(short.err)")
    #expect(!FileManager.default.fileExists(atPath: out))
    // The sequences hold 14 values: rollouts start from at most half of each (here the scale
    // window, 10), so the default prefix of 30 still scores them.
    let tuned = try krylov([
      "train", "--data", fixture.data, "--out", out, "--initial-weights", "default", "--steps", "2", "--eval-every", "1",
    ])
    #expect(tuned.status == 0, "\(tuned.err)")
    let header = try checkpointMetadata(out)
    let training = try #require(
      header["training"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any])
    #expect(training["initial_weights"] as? String == "default")
    #expect(training["spins"] as? [String] == ["classical", "quantum"])
  }
}

/// The `__metadata__` of a safetensors file.
func checkpointMetadata(_ path: String) throws -> [String: String] {
  let data = try Data(contentsOf: URL(fileURLWithPath: path))
  let length = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
  let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
  return try #require(header["__metadata__"] as? [String: String])
}
