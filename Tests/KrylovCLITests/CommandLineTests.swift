import Foundation
import Testing

/// Runs the built `krylov` binary; returns exit status, standard output and standard error.
func krylov(_ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
  let process = Process()
  process.executableURL = try binaryURL()
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The `krylov` executable beside the test bundle in the build products.
func binaryURL() throws -> URL {
  var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for _ in 0..<4 {
    let candidate = directory.appendingPathComponent("krylov")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    directory = directory.deletingLastPathComponent()
  }
  struct Missing: Error {}
  throw Missing()
}

func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("krylov-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

@Suite("krylov command line")
struct CommandLineTests {
  @Test("lanczos CSV: metadata, streamed rows with trust, trailer")
  func lanczosCSV() throws {
    let r = try krylov(["lanczos", "--n", "6", "--steps", "12", "-q"])
    #expect(r.status == 0)
    let lines = r.out.split(separator: "\n").map(String.init)
    #expect(lines.contains("# model: mfim"))
    #expect(lines.contains("# n: 6"))
    let header = try #require(lines.firstIndex(of: "n,b_n,trusted"))
    #expect(lines[header + 1] == "1,2.1,1")
    let rows = lines.filter { $0.first?.isNumber == true }
    #expect(rows.count == 12)
    #expect(lines.contains("# trusted: 12"))
    #expect(lines.contains("# exhausted: false"))
  }

  @Test("lanczos JSON carries the system, b, trusted, exhausted and timings")
  func lanczosJSON() throws {
    let r = try krylov(["lanczos", "--model", "xxz", "--op", "sx_total", "--n", "5", "--steps", "40", "--format", "json", "-q"])
    #expect(r.status == 0)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let system = try #require(object["system"] as? [String: Any])
    #expect(system["model"] as? String == "xxz")
    #expect(system["n"] as? Int == 5)
    #expect(system["bc"] as? String == "pbc")
    #expect(system["operator"] as? String == "sx_total")
    #expect((system["params"] as? [String: Double])?["Delta"] == 0.5)
    #expect((object["b"] as? [Double])?.count == 20)
    #expect(object["trusted"] as? Int == 20)
    #expect(object["exhausted"] as? Bool == true)
    #expect(object["krylov_dimension"] as? Int == 21)
    #expect((object["timings"] as? [String: Any])?["total_seconds"] is Double)
  }

  @Test("a conserved operator is reported, not an error")
  func conserved() throws {
    let r = try krylov(["lanczos", "--model", "j1j2", "--op", "sz_total", "--n", "6"])
    #expect(r.status == 0)
    #expect(r.out.contains("# conserved: true"))
    #expect(r.err.contains("conserved"))
  }

  @Test(
    "usage errors exit 2 and name the bad value",
    arguments: [
      (["lanczos", "--n", "2"], "chain size 2"),
      (["lanczos", "--model", "ising"], "ising"),
      (["lanczos", "--op", "sy_total"], "sy_total"),
      (["lanczos", "--param", "q=1"], "unknown parameter 'q'"),
      (["lanczos", "--param", "g"], "g"),
      (["lanczos", "--steps", "0"], "--steps"),
      (["lanczos", "--hamiltonian", "1.0*Z0Q1"], "^"),
      (["lanczos", "--operator", "Z12", "--n", "6"], "site 12"),
      (["lanczos", "--bc", "twisted"], "twisted"),
      (["observe", "--input", "x.csv", "--dt", "0"], "--dt"),
    ])
  func usageErrors(arguments: [String], fragment: String) throws {
    let r = try krylov(arguments)
    #expect(r.status == 2, "\(arguments)")
    #expect(r.err.contains(fragment), "\(r.err)")
    #expect(r.out.isEmpty)
  }

  @Test("an oversized run is refused up front with an estimate and the largest N that fits")
  func memoryRefusal() throws {
    let r = try krylov(["lanczos", "--n", "16", "--steps", "300", "--memory-limit", "1G"])
    #expect(r.status == 3)
    #expect(r.err.contains("refusing to start"))
    #expect(r.err.contains("largest N that fits is"))
    #expect(r.out.isEmpty)
    // Requests whose estimate alone would overflow are refused the same way, not crashed on.
    for arguments in [["--n", "31"], ["--n", "inf", "--steps", "80"], ["--n", "9", "--steps", "1000000"]] {
      let huge = try krylov(["lanczos"] + arguments)
      #expect(huge.status == 3, "\(arguments)")
      #expect(huge.err.contains("refusing to start"))
    }
  }

  @Test("--output appears only when complete and holds the same rows as standard output")
  func outputFile() throws {
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("b.csv").path
    let r = try krylov(["lanczos", "--n", "6", "--steps", "30", "-q", "--output", path])
    #expect(r.status == 0 && r.out.isEmpty)
    let written = try String(contentsOfFile: path, encoding: .utf8)
    let direct = try krylov(["lanczos", "--n", "6", "--steps", "30", "-q"]).out
    let rows = { (s: String) in s.split(separator: "\n").filter { $0.first?.isNumber == true } }
    #expect(rows(written) == rows(direct))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }
    #expect(leftovers.isEmpty)
    let missing = try krylov(["lanczos", "--n", "6", "--output", "/nonexistent-dir/b.csv"])
    #expect(missing.status != 0 && missing.err.contains("does not exist"))
  }

  @Test("--output to a named pipe writes into it and leaves it a pipe (no rename over special files)")
  func outputToPipe() throws {
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("pipe").path
    #expect(mkfifo(path, 0o600) == 0)
    let received = LockedText()
    let reader = Thread {
      if let h = FileHandle(forReadingAtPath: path) { received.set(String(decoding: h.readDataToEndOfFile(), as: UTF8.self)) }
    }
    reader.start()
    let r = try krylov(["lanczos", "--n", "6", "--steps", "10", "-q", "--output", path])
    #expect(r.status == 0)
    for _ in 0..<100 where received.get() == nil { Thread.sleep(forTimeInterval: 0.05) }
    let rows = (received.get() ?? "").split(separator: "\n").filter { $0.first?.isNumber == true }
    #expect(rows.count == 10)
    var status = stat()
    #expect(stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO)
  }

  @Test("observe reads lanczos output and a bare n,b_n file alike")
  func observe() throws {
    let dir = try temporaryDirectory()
    let json = dir.appendingPathComponent("b.json").path
    _ = try krylov(["lanczos", "--n", "6", "--steps", "60", "-q", "--format", "json", "--output", json])
    let a = try krylov(["observe", "--input", json, "--tmax", "2", "--dt", "0.5"])
    #expect(a.status == 0)
    let rows = a.out.split(separator: "\n").filter { $0.first?.isNumber == true }
    #expect(rows.count == 5)
    let first = try #require(rows.first).split(separator: ",").compactMap { Double($0) }
    #expect(first.count == 3 && first[0] == 0 && abs(first[1] - 1) < 1e-14 && abs(first[2]) < 1e-14)
    // The same coefficients as a bare CSV (no header, no trust) give the same C(t), K(t).
    // JSONDecoder reads every double exactly (JSONSerialization rounds some by an ulp).
    struct Coefficients: Decodable { var b: [Double] }
    let b = try JSONDecoder().decode(Coefficients.self, from: Data(contentsOf: URL(fileURLWithPath: json))).b
    let bare = dir.appendingPathComponent("bare.csv").path
    try b.enumerated().map { "\($0.offset + 1),\($0.element)" }.joined(separator: "\n").write(
      toFile: bare, atomically: true, encoding: .utf8)
    let c = try krylov(["observe", "--input", bare, "--tmax", "2", "--dt", "0.5"])
    #expect(c.out.split(separator: "\n").filter { $0.first?.isNumber == true } == rows)
    let j = try krylov(["observe", "--input", bare, "--tmax", "1", "--dt", "0.5", "--format", "json"])
    let obs = try #require(try JSONSerialization.jsonObject(with: Data(j.out.utf8)) as? [String: Any])
    #expect((obs["t"] as? [Double]) == [0, 0.5, 1])
    #expect((obs["C"] as? [Double])?.count == 3 && (obs["K"] as? [Double])?.count == 3)
  }

  @Test("observe refuses a bad file with its line number, exit 1")
  func observeBadFile() throws {
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("bad.csv").path
    try "1,0.5\n2,nope\n".write(toFile: path, atomically: true, encoding: .utf8)
    let r = try krylov(["observe", "--input", path])
    #expect(r.status == 1)
    #expect(r.err.contains("bad.csv:2:"))
    let missing = try krylov(["observe", "--input", dir.appendingPathComponent("none.csv").path])
    #expect(missing.status == 1 && missing.err.contains("cannot read"))
  }

  @Test(
    "SIGINT, SIGTERM and SIGHUP (a closed session) stop a run and still write what was computed",
    arguments: [SIGINT, SIGTERM, SIGHUP])
  func interrupt(signal: Int32) throws {
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("b.csv").path
    let process = Process()
    process.executableURL = try binaryURL()
    process.arguments = ["lanczos", "--n", "10", "--steps", "3000", "-q", "--output", path]
    process.standardError = Pipe()
    try process.run()
    Thread.sleep(forTimeInterval: 4)
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("# stop: cancelled"))
    #expect(text.contains("\n1,2.1,1\n"))
    // No hidden partial file is left beside the output.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["b.csv"])
  }

  @Test("a signal during a long set-up (a classical basis of 20 levels) stops it at once, and the output is written")
  func interruptDuringSetUp() throws {
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("c.csv").path
    let process = Process()
    process.executableURL = try binaryURL()
    process.arguments = ["lanczos", "--spins", "classical", "--steps", "20", "-q", "--output", path]
    process.standardError = Pipe()
    try process.run()
    Thread.sleep(forTimeInterval: 1.5)
    let signalled = Date()
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    // The set-up alone takes tens of seconds; stopping waits for the current slice only.
    #expect(Date().timeIntervalSince(signalled) < 5)
    #expect(process.terminationStatus == 130)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("# stop: cancelled"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["c.csv"])
  }

  @Test("--n inf runs the infinite chain and refuses local operators")
  func infiniteChain() throws {
    let r = try krylov(["lanczos", "--n", "inf", "--steps", "6", "--format", "json", "-q"])
    #expect(r.status == 0)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect((object["system"] as? [String: Any])?["n"] as? String == "inf")
    #expect((object["b"] as? [Double])?.first == 2.1)
    #expect((object["b"] as? [Double])?.count == 6)
    let local = try krylov(["lanczos", "--n", "inf", "--op", "z0"])
    #expect(local.status == 2 && local.err.contains("translation-invariant"))
  }

  @Test("models lists every model and operator")
  func models() throws {
    let r = try krylov(["models"])
    for name in ["mfim", "tfim", "xxz", "j1j2", "sz_total", "sx_total", "z0", "x0", "zz_total"] {
      #expect(r.out.contains(name))
    }
  }

  @Test("lanczos --truncate: approximate infinite chain, every value marked not trusted")
  func truncatedInfiniteChain() throws {
    let r = try krylov(["lanczos", "--n", "inf", "--truncate", "50", "--steps", "15", "-q"])
    #expect(r.status == 0, "\(r.err)")
    let lines = r.out.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasPrefix("# approximate: the 50 largest translation classes") })
    let rows = lines.filter { $0.first?.isNumber == true }
    #expect(rows.count == 15 && rows.allSatisfy { $0.hasSuffix(",0") })
    #expect(lines.contains("# trusted: 0"))
    let exactUntil = try #require(lines.first { $0.hasPrefix("# exact_until: ") }.flatMap { Int($0.dropFirst(15)) })
    #expect(exactUntil >= 2 && exactUntil < 15)
    let finite = try krylov(["lanczos", "--n", "8", "--truncate", "50"])
    #expect(finite.status == 2)
    #expect(finite.err.contains("infinite chain only"))
  }
}

/// A string one thread sets and another polls.
final class LockedText: @unchecked Sendable {
  private var value: String?
  private let lock = NSLock()
  func set(_ v: String) { lock.withLock { value = v } }
  func get() -> String? { lock.withLock { value } }
}
