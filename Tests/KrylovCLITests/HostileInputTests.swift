import Foundation
import Testing

/// Inputs a hostile or careless user gives: each must end in a clear message and a non-zero
/// exit, never a trap, a hang or an allocation the size of the input's numbers.
@Suite("Hostile input to the command line")
struct HostileInputTests {
  @Test(
    "counts out of range are refused by the parser, before any work",
    arguments: [
      ["bench-forecaster", "--rollouts", "0"],
      ["bench-forecaster", "--steps=-3"],
      ["bench-forecaster", "--batch-size", "0"],
      ["bench-explorer", "--frames", "0"],
      ["bench-explorer", "--width", "3"],
      ["bench", "--steps", "1000000000000"],
      ["forecast", "--input", "x.csv", "--horizon", "6000"],
      ["evaluate", "--data", "x", "--md-samples", "9223372036854775807"],
      ["simulate", "--spins", "classical", "--samples", "1000000000000"],
      ["bench-explorer", "--prefix", "9223372036854775807"],
    ])
  func countsOutOfRange(arguments: [String]) throws {
    let r = try krylov(arguments)
    #expect(r.status == 2, "\(arguments): \(r.err)")
    #expect(r.err.contains("must be"), "\(r.err)")
  }

  @Test("extreme scales in simulate and the explorer: no nan written, a clear refusal where no number can be right")
  func extremeScalesSimulated() throws {
    // C(t) is normalized by ⟨O²⟩: an operator of 1e-200 gives C(0) = 1, not 0/0.
    let tiny = try krylov(
      ["simulate", "--operator", "1e-200*Z0", "--translate-operator", "--samples", "200", "--tmax", "0.1"])
    #expect(tiny.status == 0 && !tiny.out.lowercased().contains("nan") && tiny.out.contains("\n0,1.0,"), "\(tiny.err)")
    // A coupling of 1e308 turns a spin by 5e306 radians a step: refused with the reason.
    let huge = try krylov(["simulate", "--param", "g=1e308", "--samples", "100", "--tmax", "0.1"])
    #expect(huge.status != 0 && huge.err.contains("radians"), "\(huge.err)")
    #expect(!huge.err.contains("Fatal") && !huge.err.contains("crashed"))
    // b_1 beyond double range: the explorer's frame shows the failure instead of trapping.
    let render = try krylov(["render", "--param", "g=1e308", "--width", "80", "--height", "24"])
    #expect(!render.err.contains("crashed") && render.status <= 1, "\(render.err)")
  }

  @Test("a forecast from coefficients of 1e306 or 1e-306 equals the unscaled one, scaled: no nan, no zeros")
  func forecastAtExtremeScales() throws {
    let dir = try temporaryDirectory()
    let b: [Double] = (1...60).map { (n: Int) -> Double in
      let x = Double(n)
      return 0.5 * x / Foundation.log(x + 2) + 1 + 0.1 * sin(x)
    }
    var outputs: [[String]] = []
    for (name, scale) in [("one", 1.0), ("big", 0x1p1016), ("small", 0x1p-1016)] {
      let file = dir.appendingPathComponent("\(name).csv")
      let rows = b.enumerated().map { "\($0.offset + 1),\($0.element * scale)" }
      try ("n,b_n\n" + rows.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
      let r = try krylov(["forecast", "--input", file.path, "--prefix", "30", "--horizon", "50"])
      #expect(r.status == 0, "\(name): \(r.err)")
      #expect(!r.out.lowercased().contains("nan"), "\(name): \(r.out)")
      // The relative errors do not depend on the scale.
      let errorLines = r.out.split(separator: "\n").filter { $0.hasPrefix("# error") }
      outputs.append(errorLines.map { String($0.split(separator: ",")[0]) })
    }
    #expect(outputs[0].count >= 4)
    #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0])
  }

  @Test("render cut short by its timeout prints the frame and exits 0 with the run still going")
  func renderTimeout() throws {
    // The run is stopped and the process leaves without the exit-time clean-up that would free
    // OpenBLAS's buffers under it (a crash the hostile sweep once caught at this point).
    for _ in 0..<3 {
      let result = try krylov(["render", "--n", "8", "--steps", "100000", "--timeout", "0.5", "--width", "120", "--height", "36"])
      #expect(result.status == 0, "\(result.err)")
      #expect(result.out.contains("coefficients b_n"), "\(result.out)")
    }
  }

  @Test("lost output is an error: a full standard output, an empty output name, a checkpoint aimed at a device")
  func lostOutput() throws {
    // print() is buffered: a full standard output must still end in an error exit.
    for arguments in [
      ["models"], ["--help"], ["lanczos", "--n", "6", "--steps", "5", "-q"],
      ["render", "--n", "6", "--steps", "5", "--width", "40", "--height", "12"],
    ] {
      let process = Process()
      process.executableURL = try binaryURL()
      process.arguments = arguments
      process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
      let err = Pipe()
      process.standardError = err
      try process.run()
      let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 1, "\(arguments): \(message)")
      #expect(message.contains("standard output") && message.contains("no space left"), "\(arguments): \(message)")
    }
    let dir = try temporaryDirectory()
    let empty = try krylov(["lanczos", "--n", "6", "--steps", "5", "-o", ""])
    // Refused before any work, so no hidden partial file is made (it used to land beside the
    // working directory once the run was done).
    #expect(empty.status == 1 && empty.err.contains("output file name is empty"), "\(empty.err)")
    // The atomic rename would replace a device node with a file: refused before any training,
    // the node kept.
    let directory = dir.appendingPathComponent("adir")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let data = dir.appendingPathComponent("ds")
    let spec = dir.appendingPathComponent("spec.json")
    try #"{"name": "t", "seed": 1, "steps": 40, "groups": [{"model": "mfim", "sizes": [6, 7], "operators": ["sz_total"]}]}"#
      .write(to: spec, atomically: true, encoding: .utf8)
    #expect(try krylov(["dataset", "build", "--spec", spec.path, "--out", data.path]).status == 0)
    for target in [directory.path, "/dev/null"] {
      let r = try krylov(["train", "--data", data.path, "--steps", "2", "--out", target])
      #expect(r.status == 1 && r.err.contains("cannot write \(target)") && !r.err.contains("step "), "\(target): \(r.err)")
    }
    var status = stat()
    #expect(stat("/dev/null", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR)
  }

  @Test("a manifest cannot name a file outside its dataset")
  func manifestOutsideDataset() throws {
    let dir = try temporaryDirectory()
    let manifest =
      #"{"name": "x", "seed": 1, "complete": true, "spec": {"name": "x", "seed": 1, "steps": 40, "groups": []}, "#
      + #""entries": [{"file": "../../../../etc/passwd", "key": "k", "group": "g", "label": "L", "model": "mfim", "#
      + #""parameters": {}, "size": "8", "boundary": "pbc", "operatorName": "sz_total", "steps": 40, "computed": 40, "#
      + #""trusted": 40, "exhausted": false, "stop": "completed", "seconds": 0}]}"#
    try manifest.write(to: dir.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
    let r = try krylov(["evaluate", "--data", dir.path, "--md-samples", "0", "--horizon", "30", "--prefix", "10"])
    #expect(r.status == 1 && r.err.contains("outside the dataset directory"), "\(r.err)")
    #expect(!r.err.contains("root:"))
  }

  @Test("escape sequences in files and arguments never reach the terminal: messages show them escaped")
  func escapeSequences() throws {
    let dir = try temporaryDirectory()
    let header = dir.appendingPathComponent("header.csv")
    try "# krylov lanczos\n# format_version: 2\n# spins: quantum\n# model: mfim\u{1B}[31mRED\n# n: 8\n1,1.0\n2,2.0\n"
      .write(to: header, atomically: true, encoding: .utf8)
    let row = dir.appendingPathComponent("row.csv")
    try "n,b_n\n1,1.0\n2,2\u{1B}]0;TITLE\u{07}.0\n".write(to: row, atomically: true, encoding: .utf8)
    for (arguments, quoted) in [
      (["forecast", "--input", header.path, "--prefix", "10", "--horizon", "20"], "\\u{1B}[31mRED"),
      (["observe", "--input", row.path], "\\u{1B}]0;TITLE\\u{7}"),
      (["lanczos", "--model", "mfim\u{1B}[2J"], "\\u{1B}[2J"),
    ] {
      let r = try krylov(arguments)
      #expect(r.status != 0, "\(arguments): \(r.err)")
      #expect(!r.err.contains("\u{1B}") && !r.err.contains("\u{07}"), "\(arguments): a control character reached stderr")
      #expect(r.err.contains(quoted), "\(arguments): \(r.err)")
    }
  }

  @Test("files that cannot be read are named with the plain reason: missing, a directory, a device")
  func unreadableFiles() throws {
    let dir = try temporaryDirectory()
    let csv = dir.appendingPathComponent("b.csv")
    let rows = (1...40).map { "\($0),\(Double($0))" }.joined(separator: "\n")
    try ("n,b_n\n" + rows + "\n").write(to: csv, atomically: true, encoding: .utf8)
    let cases: [([String], String)] = [
      (["forecast", "--input", "/dev/zero"], "/dev/zero: cannot read the file: it is not a regular file"),
      (["forecast", "--input", dir.path], "cannot read the file: it is a directory"),
      (["forecast", "--input", dir.appendingPathComponent("none.csv").path], "cannot read the file: no such file"),
      (["forecast", "--input", csv.path, "--model", dir.appendingPathComponent("none.safetensors").path], "no such file"),
      (["forecast", "--input", csv.path, "--model", "/dev/zero"], "it is not a regular file"),
      (
        ["dataset", "build", "--spec", dir.appendingPathComponent("none.json").path, "--out", dir.path],
        "cannot read the spec: no such file"
      ),
      (
        ["train", "--data", dir.path, "--out", dir.appendingPathComponent("m.safetensors").path, "--config", dir.path],
        "it is a directory"
      ),
    ]
    for (arguments, expected) in cases {
      let r = try krylov(arguments)
      #expect(r.status == 1, "\(arguments): \(r.err)")
      #expect(r.err.contains(expected), "\(arguments): \(r.err)")
      #expect(!r.err.contains("The operation could not be completed"), "\(arguments): \(r.err)")
    }
  }

  @Test("a full or closed standard error never stops or traps a command")
  func fullStandardError() throws {
    let process = Process()
    process.executableURL = try binaryURL()
    process.arguments = ["lanczos", "--n", "6", "--steps", "20", "--model", "nonsense"]
    process.standardError = FileHandle(forWritingAtPath: "/dev/full")
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    // The usage error is reported (or dropped, the disk being full), and the exit is 2, not a trap.
    #expect(process.terminationReason == .exit && process.terminationStatus == 2)
  }

  @Test("a dataset spec that names an absurd number of systems, or none, is refused up front")
  func datasetExpansion() throws {
    let dir = try temporaryDirectory()
    let huge = dir.appendingPathComponent("huge.json")
    try #"""
    {"name": "x", "seed": 1, "steps": 10, "groups": [
      {"model": "mfim", "sizes": [6], "operators": ["sz_total"], "samples": 1000000000000,
       "parameters": {"g": {"range": [-1.2, -0.8]}}}]}
    """#.write(to: huge, atomically: true, encoding: .utf8)
    let r = try krylov(["dataset", "build", "--spec", huge.path, "--out", dir.appendingPathComponent("d").path])
    #expect(r.status == 1, "\(r.err)")
    #expect(r.err.contains("1000000000000 systems"), "\(r.err)")
    let empty = dir.appendingPathComponent("empty.json")
    try #"""
    {"name": "x", "seed": 1, "steps": 10, "groups": [
      {"model": "mfim", "sizes": [6], "boundaries": [], "operators": ["sz_total"]}]}
    """#.write(to: empty, atomically: true, encoding: .utf8)
    let e = try krylov(["dataset", "build", "--spec", empty.path, "--out", dir.appendingPathComponent("e").path])
    #expect(e.status == 1)
    #expect(e.err.contains("boundaries is empty"), "\(e.err)")
  }

  @Test("a truncation larger than memory can hold is refused up front, with the largest that fits")
  func truncationGuard() throws {
    let r = try krylov(["lanczos", "--n", "inf", "--truncate", "1000000000", "--steps", "5", "--memory-limit", "1G"])
    #expect(r.status == 3, "\(r.err)")
    #expect(r.err.contains("at most --truncate 4194304 fits"), "\(r.err)")
  }

  @Test("operators and Hamiltonians at 1e±200 give the b_n of unit scale (times the energy), never nan")
  func extremeScales() throws {
    let unit = try krylov(["lanczos", "--n", "6", "--steps", "6", "--operator", "Z0 + Z1", "-q", "--format", "json"])
    let tiny = try krylov([
      "lanczos", "--n", "6", "--steps", "6", "--operator", "1e-200*Z0 + 1e-200*Z1", "-q", "--format", "json",
    ])
    let huge = try krylov(["lanczos", "--n", "6", "--steps", "6", "--operator", "1e200*Z0 + 1e200*Z1", "-q", "--format", "json"])
    for r in [unit, tiny, huge] { #expect(r.status == 0, "\(r.err)") }
    func b(_ text: String) throws -> [Double] {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
      return try #require(object["b"] as? [Double])
    }
    #expect(try b(tiny.out) == b(unit.out))
    #expect(try b(huge.out) == b(unit.out))
    #expect(try b(unit.out).count == 6)
    let energetic = try krylov([
      "lanczos", "--n", "6", "--steps", "4", "--hamiltonian", "1e300*Z0Z1 + -1.05e300*X0 + 0.5e300*Z0", "-q",
      "--format", "json",
    ])
    #expect(energetic.status == 0, "\(energetic.err)")
    let big = try b(energetic.out)
    #expect(big.count == 4 && big.allSatisfy { $0.isFinite && $0 > 1e299 })
  }
}
