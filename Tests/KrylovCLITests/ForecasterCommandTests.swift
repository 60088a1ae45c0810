import Foundation
import Testing

/// One small dataset and checkpoint shared by the forecaster command tests (built once).
final class ForecasterFixture: @unchecked Sendable {
  static let shared = ForecasterFixture()
  let directory: URL
  let data: String
  let model: String
  let sequence: String
  let buildError: String?

  private init() {
    directory = (try? temporaryDirectory()) ?? URL(fileURLWithPath: NSTemporaryDirectory())
    data = directory.appendingPathComponent("data").path
    model = directory.appendingPathComponent("tiny.safetensors").path
    let spec = directory.appendingPathComponent("spec.json")
    let config = directory.appendingPathComponent("config.json")
    try? #"""
    { "name": "tiny", "seed": 3, "steps": 80,
      "groups": [ { "model": "mfim", "sizes": [5, 6], "operators": ["sz_total"], "samples": 3,
                    "parameters": { "g": { "range": [-1.3, -0.8] } } } ] }
    """#.write(to: spec, atomically: true, encoding: .utf8)
    try?
      #"{"layers": 1, "heads": 2, "channels": 8, "batchSize": 4, "sequenceLength": 60, "evaluationInterval": 5, "warmupSteps": 2}"#
      .write(to: config, atomically: true, encoding: .utf8)
    var error: String?
    if let r = try? krylov(["dataset", "build", "--spec", spec.path, "--out", data, "-q"]), r.status != 0 { error = r.err }
    if error == nil,
      let r = try? krylov(["train", "--data", data, "--out", model, "--config", config.path, "--steps", "10", "-q"]),
      r.status != 0
    {
      error = r.err
    }
    let files = (try? FileManager.default.contentsOfDirectory(atPath: data + "/sequences")) ?? []
    sequence = data + "/sequences/" + (files.sorted().first ?? "missing.json")
    buildError = error
  }
}

@Suite("krylov forecaster commands")
struct ForecasterCommandTests {
  let fixture = ForecasterFixture.shared

  @Test("dataset build writes a manifest and reuses what it computed")
  func datasetCache() throws {
    #expect(fixture.buildError == nil, "\(fixture.buildError ?? "")")
    let manifest = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.data + "/manifest.json")))
        as? [String: Any])
    let entries = try #require(manifest["entries"] as? [[String: Any]])
    #expect(entries.count == 6)
    #expect(manifest["complete"] as? Bool == true)
    let spec = fixture.directory.appendingPathComponent("spec.json").path
    let again = try krylov(["dataset", "build", "--spec", spec, "--out", fixture.data])
    #expect(again.status == 0)
    #expect(again.err.contains("6 sequences in 'tiny', 6 already computed"))
  }

  @Test("dataset show lists every sequence with its trusted length")
  func datasetShow() throws {
    let r = try krylov(["dataset", "show", fixture.data])
    #expect(r.status == 0, "\(r.err)")
    let lines = r.out.split(separator: "\n")
    #expect(lines[1] == "label,size,computed,trusted,stop,seconds")
    #expect(lines.count == 2 + 6)
    // label (quoted, with commas), size, computed, trusted, stop, seconds
    for line in lines.dropFirst(2) {
      let fields = line.split(separator: "\"").last!.split(separator: ",").map(String.init)
      #expect(fields.count == 5 && fields[1] == "80" && Int(fields[2])! <= 80 && fields[3] == "completed", "\(line)")
    }
    let missing = try krylov(["dataset", "show", fixture.directory.appendingPathComponent("nothing").path])
    #expect(missing.status == 1)
    #expect(missing.err.contains("no manifest.json"))
  }

  @Test(
    "a bad spec is refused with the reason",
    arguments: [
      (
        #"{"name": "x", "seed": 1, "steps": 10, "groups": [{"model": "ising", "sizes": [4], "operators": ["sz_total"]}]}"#,
        "'ising' is not one of"
      ),
      (
        #"{"name": "x", "seed": 1, "steps": 10, "groups": [{"model": "mfim", "sizes": [4], "operators": ["sz_total"], "parameters": {"q": {"values": [1]}}}]}"#,
        "'q' is not a parameter of mfim"
      ),
      (#"{"name": "x", "seed": 1, "groups": []}"#, "missing key 'steps'"),
    ])
  func badSpec(text: String, fragment: String) throws {
    let dir = try temporaryDirectory()
    let spec = dir.appendingPathComponent("bad.json")
    try text.write(to: spec, atomically: true, encoding: .utf8)
    let r = try krylov(["dataset", "build", "--spec", spec.path, "--out", dir.appendingPathComponent("d").path])
    #expect(r.status == 1)
    #expect(r.err.contains(fragment), "\(r.err)")
  }

  @Test("forecast JSON: forecast, every baseline over the same n, and errors against the truth")
  func forecastJSON() throws {
    let r = try krylov([
      "forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "60", "--model", fixture.model, "--format", "json",
    ])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let forecast = try #require(object["forecast"] as? [Double])
    #expect(forecast.count == 40)
    let baselines = try #require(object["baselines"] as? [String: [Double]])
    #expect(Set(baselines.keys) == ["linear_fit", "log_corrected_fit", "best_fit", "linear_ar"])
    #expect(baselines.values.allSatisfy { $0.count == 40 })
    let errors = try #require(object["errors"] as? [String: Any])
    let b = try #require(errors["b_relative_rms"] as? [String: Double])
    #expect(b["transformer"] != nil && b["linear_ar"] != nil)
  }

  @Test("forecast is told the size from the file, from --n/--bc on a plain CSV, and refuses a contradiction")
  func forecastToldTheSystem() throws {
    let fromFile = try krylov([
      "forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--model", fixture.model, "--format", "json",
    ])
    #expect(fromFile.status == 0, "\(fromFile.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(fromFile.out.utf8)) as? [String: Any])
    let system = try #require(object["system"] as? [String: Any])
    #expect(system["size"] as? String == "finite")
    #expect(["5", "6"].contains(system["n"] as? String ?? ""))
    #expect(system["model_reads_system"] as? Bool == true)
    let band = try #require(object["band"] as? [String: Any])
    let lower = try #require(band["lower"] as? [Double])
    let upper = try #require(band["upper"] as? [Double])
    let forecast = try #require(object["forecast"] as? [Double])
    #expect(lower.count == forecast.count && upper.count == forecast.count)
    #expect(zip(zip(lower, upper), forecast).allSatisfy { $0.0 <= $1 && $1 <= $0.1 })

    // The same coefficients as plain rows: the size is unknown until --n says it.
    let sequence = try Data(contentsOf: URL(fileURLWithPath: fixture.sequence))
    let document = try #require(try JSONSerialization.jsonObject(with: sequence) as? [String: Any])
    let b = try #require(document["b"] as? [Double])
    let csv = fixture.directory.appendingPathComponent("plain.csv")
    try ("n,b_n\n" + b.enumerated().map { "\($0.offset + 1),\($0.element)" }.joined(separator: "\n") + "\n")
      .write(to: csv, atomically: true, encoding: .utf8)
    let plain = try krylov(["forecast", "--input", csv.path, "--prefix", "20", "--horizon", "40", "--model", fixture.model])
    #expect(plain.status == 0, "\(plain.err)")
    #expect(plain.out.contains("# system told to the model: size not given"), "\(plain.out)")
    let told = try krylov([
      "forecast", "--input", csv.path, "--prefix", "20", "--horizon", "40", "--model", fixture.model, "--n", "inf",
    ])
    #expect(told.status == 0, "\(told.err)")
    #expect(told.out.contains("# system told to the model: N = ∞"), "\(told.out)")
    let ring = try krylov([
      "forecast", "--input", csv.path, "--prefix", "20", "--horizon", "40", "--model", fixture.model, "--n", "9", "--bc", "obc",
    ])
    #expect(ring.out.contains("# system told to the model: N = 9 obc"), "\(ring.out)")
    // The model reads what it is told: the transformer's column differs between the two.
    func transformerColumn(_ text: String) -> [String] {
      text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { String($0.split(separator: ",")[1]) }
    }
    #expect(transformerColumn(ring.out).count == 20)
    #expect(transformerColumn(ring.out) != transformerColumn(told.out))

    let clash = try krylov([
      "forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--model", fixture.model, "--n", "inf",
    ])
    #expect(clash.status == 1)
    #expect(clash.err.contains("--n inf contradicts"), "\(clash.err)")
    let spins = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--spins", "classical"])
    #expect(spins.status == 1)
    #expect(spins.err.contains("--spins classical contradicts"), "\(spins.err)")
  }

  @Test("calibrate recomputes the band a training run wrote, from the same data, leaving the weights alone")
  func calibrateReproducesTraining() throws {
    let out = fixture.directory.appendingPathComponent("recalibrated.safetensors").path
    let r = try krylov(["calibrate", "--data", fixture.data, "--model", fixture.model, "--out", out])
    #expect(r.status == 0, "\(r.err)")
    let before = try checkpointMetadata(fixture.model)
    let after = try checkpointMetadata(out)
    #expect(before["band_calibration"] != nil)
    #expect(after["band_calibration"] == before["band_calibration"])
    #expect(after["training"] == before["training"] && after["trained_on"] == before["trained_on"])
    let a = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--model", fixture.model])
    let b = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--model", out])
    // Everything but the header line naming the model file is the same.
    func body(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.hasPrefix("# krylov forecast") } }
    #expect(body(a.out) == body(b.out))
    #expect(body(a.out).count > 20)
  }

  @Test("interpret: ablation tables and attention by lag per regime, CSV rows per system and ablation, lags CSV")
  func interpret() throws {
    let lags = fixture.directory.appendingPathComponent("lags.csv").path
    let r = try krylov([
      "interpret", "--data", fixture.data, "--model", fixture.model, "--prefix", "20", "--horizon", "40",
      "--lags-out", lags, "--figure", "-q",
    ])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("| all heads off |"), "\(r.out)")
    #expect(r.out.contains("| last 1 only |") && r.out.contains("| odd lags masked |"))
    #expect(r.out.contains("| L0H0 |") && r.out.contains("90% within lag"))
    #expect(r.out.contains("L0H1") && r.out.contains("┤"))  // the figure's small multiples
    let table = try String(contentsOfFile: lags, encoding: .utf8).split(separator: "\n")
    #expect(table.first == "regime,layer,head,lag,mean_weight,mean_weight_position_only,queries")
    // Every lag's weights over heads: each row's mean weight is a probability.
    for row in table.dropFirst() {
      // The regime, quoted, holds a comma: read the numbers from the end.
      let cells = row.split(separator: ",")
      let w = Double(cells[cells.count - 3]) ?? -1
      #expect(w >= 0 && w <= 1, "\(row)")
    }
    let csv = try krylov([
      "interpret", "--data", fixture.data, "--model", fixture.model, "--prefix", "20", "--horizon", "40", "--format", "csv", "-q",
    ])
    #expect(csv.status == 0, "\(csv.err)")
    let rows = csv.out.split(separator: "\n")
    #expect(rows.first == "regime,system,k,M,unablated_error,ablation,error_ratio")
    #expect(rows.count > 10)
    let bad = try krylov(["interpret", "--data", fixture.data, "--prefix", "50", "--horizon", "40"])
    #expect(bad.status == 2 && bad.err.contains("--horizon (40) must be larger than --prefix (50)"), "\(bad.err)")
    let missing = try krylov(["interpret", "--data", fixture.directory.appendingPathComponent("nowhere").path])
    #expect(missing.status == 1 && missing.err.contains("error:"), "\(missing.err)")
  }

  @Test("forecast reports the fits' parameters: JSON 'fits' by name with their window, CSV '# fit' lines")
  func fitParameters() throws {
    let r = try krylov([
      "forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "30", "--model", fixture.model, "--format", "json",
    ])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let fits = try #require(object["fits"] as? [[String: Any]])
    #expect(fits.compactMap { $0["form"] as? String } == ["linear", "log_corrected"])
    #expect(fits.filter { $0["best"] as? Bool == true }.count == 1)
    let linear = try #require(fits.first?["parameters"] as? [String: Double])
    #expect(Set(linear.keys) == ["a", "c"] && linear["a"]!.isFinite)
    let window = try #require(fits.first?["window"] as? [Int])
    #expect(window.count == 2 && window[1] <= 20)
    let csv = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "30", "--model", fixture.model])
    #expect(csv.out.contains("# fit linear: a = "), "\(csv.out)")
    #expect(csv.out.contains("# fit log_corrected: A = "), "\(csv.out)")
  }

  @Test("forecast CSV has one row per n and a column per method")
  func forecastCSV() throws {
    let r = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "30", "--model", fixture.model])
    #expect(r.status == 0, "\(r.err)")
    let lines = r.out.split(separator: "\n").filter { !$0.hasPrefix("#") }
    // The fixture model was trained here, so it carries a band calibration: its edges follow the methods.
    #expect(lines.first == "n,transformer,linear_fit,log_corrected_fit,best_fit,linear_ar,band_lower,band_upper,truth")
    #expect(lines.count == 11)
    #expect(lines[1].hasPrefix("21,"))
    for line in lines.dropFirst() {
      let cells = line.split(separator: ",").compactMap { Double($0) }
      #expect(cells.count == 9)
      if cells.count == 9 { #expect(cells[6] <= cells[1] && cells[1] <= cells[7], "\(line)") }
    }
  }

  @Test("attention JSON holds causal rows for every layer and head")
  func attentionJSON() throws {
    let r = try krylov(["attention", "--input", fixture.sequence, "--prefix", "20", "--horizon", "30", "--model", fixture.model])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let attention = try #require(object["attention"] as? [[[[Double]]]])
    #expect(attention.count == 1 && attention[0].count == 2)
    #expect(attention[0][0].count == 29)
    for (q, row) in attention[0][1].enumerated() {
      #expect(row.count == q + 1)
      #expect(abs(row.reduce(0, +) - 1) < 1e-5)
    }
  }

  @Test("ablate ranks every head and reports errors against the truth")
  func ablateRanking() throws {
    let r = try krylov([
      "ablate", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--model", fixture.model, "--rank", "heads",
    ])
    #expect(r.status == 0, "\(r.err)")
    let rows = r.out.split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(rows.first == "ablation,change_vs_unablated,error,unablated_error,error_ratio")
    #expect(rows.count == 1 + 1 + 2)
    #expect(rows[1].hasPrefix("\"none\",0,"))
    let all = try krylov([
      "ablate", "--input", fixture.sequence, "--prefix", "20", "--horizon", "40", "--model", fixture.model, "--heads",
      "L0H0,L0H1",
    ])
    #expect(all.status == 0)
    #expect(all.out.contains("heads L0H0+L0H1"))
    let bad = try krylov([
      "ablate", "--input", fixture.sequence, "--model", fixture.model, "--prefix", "20", "--horizon", "40", "--heads", "L3H0",
    ])
    #expect(bad.status == 1)
    #expect(bad.err.contains("does not exist"))
  }

  @Test("evaluate reports per-system errors and skips short sequences")
  func evaluate() throws {
    let r = try krylov([
      "evaluate", "--data", fixture.data, "--model", fixture.model, "--prefix", "20", "--horizon", "60", "--format", "json",
    ])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let systems = try #require(object["systems"] as? [[String: Any]])
    let skipped = try #require(object["skipped"] as? [String])
    #expect(systems.count + skipped.count == 6)
    #expect(!systems.isEmpty)
  }

  @Test("a corrupt checkpoint and a prefix beyond the trusted values are refused")
  func refusals() throws {
    let dir = try temporaryDirectory()
    let broken = dir.appendingPathComponent("broken.safetensors")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.model))
    try bytes.prefix(bytes.count / 2).write(to: broken)
    let r = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "30", "--model", broken.path])
    #expect(r.status == 1)
    #expect(r.err.contains("truncated"), "\(r.err)")
    let long = try krylov([
      "forecast", "--input", fixture.sequence, "--prefix", "4000", "--horizon", "4500", "--model", fixture.model,
    ])
    #expect(long.status == 1)
    #expect(long.err.contains("trusted coefficients"), "\(long.err)")
    let usage = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "30", "--horizon", "20"])
    #expect(usage.status == 2)
  }

  @Test("Ctrl-C during training still writes the best weights so far, and exits 130")
  func trainInterrupted() throws {
    let dir = try temporaryDirectory()
    let out = dir.appendingPathComponent("interrupted.safetensors").path
    let config = fixture.directory.appendingPathComponent("config.json").path
    let process = Process()
    process.executableURL = try binaryURL()
    process.arguments = ["train", "--data", fixture.data, "--out", out, "--config", config, "--steps", "1000000", "-q"]
    process.standardError = Pipe()
    try process.run()
    Thread.sleep(forTimeInterval: 3)
    process.interrupt()
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    let forecast = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "20", "--horizon", "30", "--model", out])
    #expect(forecast.status == 0, "\(forecast.err)")
  }

  @Test("the embedded default model forecasts with no flags")
  func embeddedDefault() throws {
    let r = try krylov(["forecast", "--input", fixture.sequence, "--prefix", "30", "--horizon", "80", "--format", "json"])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let forecast = try #require(object["forecast"] as? [Double])
    #expect(forecast.count == 50 && forecast.allSatisfy { $0 > 0 && $0.isFinite })
  }
}

@Suite("krylov explorer commands")
struct ExplorerCommandTests {
  @Test("render prints the whole frame after the run and forecast")
  func render() throws {
    let model = ForecasterFixture.shared.model
    let r = try krylov([
      "render", "--n", "6", "--steps", "80", "--prefix", "20", "--width", "100", "--height", "30", "--checkpoint", model,
    ])
    #expect(r.status == 0, "\(r.err)")
    let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 30)
    for title in ["system", "coefficients b_n", "observables", "attention", "heads", "done (completed)", "b_n error"] {
      #expect(r.out.contains(title), "missing \(title)")
    }
  }

  @Test("keys given to render act as in the app")
  func renderKeys() throws {
    let model = ForecasterFixture.shared.model
    let r = try krylov([
      "render", "--n", "6", "--steps", "80", "--prefix", "20", "--width", "100", "--height", "30", "--checkpoint", model,
      "--keys", "Tab Tab Tab Tab space",
    ])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("H0○"))
    #expect(r.out.contains("ablated "), "\(r.out)")
  }

  @Test("render names the shifted arrows: the attention cursor, beside the b_n/n view and a pinned run")
  func renderShiftedKeys() throws {
    let model = ForecasterFixture.shared.model
    let r = try krylov([
      "render", "--n", "6", "--steps", "80", "--prefix", "20", "--width", "140", "--height", "45", "--checkpoint", model,
      "--keys", "v P Tab Tab Tab S-Down S-Down S-Left",
    ])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("q=21 k=19 w="), "\(r.out)")
    #expect(r.out.contains("⠒⠒ b_n/n") && r.out.contains("mfim N=6 pinned"), "\(r.out)")
    let unknown = try krylov(["render", "--n", "6", "--steps", "20", "--keys", "S-Nowhere"])
    #expect(unknown.status != 0 && unknown.err.contains("unknown key 'S-Nowhere'"), "\(unknown.err)")
  }

  @Test("the explorer refuses to start without a terminal, and says what to use")
  func needsTerminal() throws {
    for arguments in [[], ["explore"]] {
      let r = try krylov(arguments)
      #expect(r.status == 1)
      #expect(r.err.contains("needs a terminal"))
    }
  }
}
