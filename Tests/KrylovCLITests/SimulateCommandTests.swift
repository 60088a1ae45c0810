import Foundation
import Testing

@Suite("krylov simulate")
struct SimulateCommandTests {
  private func rows(_ text: String) -> [[Double]] {
    text.split(separator: "\n").filter { $0.first?.isNumber == true }.map { $0.split(separator: ",").compactMap { Double($0) } }
  }

  @Test("CSV: metadata lines first, then t,C,stderr rows on the grid")
  func csv() throws {
    let r = try krylov([
      "simulate", "--spins", "classical", "--n", "8", "--samples", "600", "--tmax", "0.5", "--dt", "0.1", "--seed", "4", "-q",
    ])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.err.isEmpty)
    let lines = r.out.split(separator: "\n").map(String.init)
    let header = try #require(lines.firstIndex(of: "t,C,stderr"))
    #expect(lines[..<header].allSatisfy { $0.hasPrefix("#") })
    for line in [
      "# spins: classical", "# model: mfim", "# n: 8", "# operator: sz_total", "# samples: 600", "# seed: 4", "# stop: completed",
    ] {
      #expect(lines.contains(line), "\(line)")
    }
    let data = rows(r.out)
    #expect(data.count == 6 && data.allSatisfy { $0.count == 3 })
    #expect(data.map { $0[0] } == [0, 0.1, 0.2, 0.3, 0.4, 0.5])
    #expect(data[0][1] == 1 && data[0][2] == 0)
    // C decays from 1 (b_1 = |g|: C ≈ 1 − g² t²/2) with a positive, growing error.
    #expect(data[5][1] < 0.95 && data[5][1] > 0.75)
    #expect(data[1][2] > 0 && data[5][2] > data[1][2])
  }

  @Test("JSON: t, C, stderr arrays, the system and the sample count")
  func json() throws {
    let r = try krylov([
      "simulate", "--model", "xxz", "--op", "sx_total", "--n", "6", "--bc", "obc", "--samples", "300", "--tmax", "0.2", "--dt",
      "0.1", "--format", "json", "-q",
    ])
    #expect(r.status == 0, "\(r.err)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect((object["t"] as? [Double]) == [0, 0.1, 0.2])
    #expect((object["C"] as? [Double])?.count == 3 && (object["stderr"] as? [Double])?.count == 3)
    #expect(object["samples"] as? Int == 300)
    #expect(object["seed"] is Int)
    let system = try #require(object["system"] as? [String: Any])
    #expect(system["model"] as? String == "xxz" && system["bc"] as? String == "obc" && system["n"] as? Int == 6)
    #expect(system["operator"] as? String == "sx_total")
  }

  @Test("a seed fixes the rows whatever the thread count")
  func reproducible() throws {
    let base = ["simulate", "--n", "7", "--samples", "1000", "--tmax", "0.4", "--dt", "0.2", "--seed", "99", "-q"]
    let one = try krylov(base + ["--threads", "1"])
    let two = try krylov(base + ["--threads", "2"])
    #expect(one.status == 0 && two.status == 0)
    #expect(rows(one.out) == rows(two.out) && !rows(one.out).isEmpty)
    let other = try krylov(["simulate", "--n", "7", "--samples", "1000", "--tmax", "0.4", "--dt", "0.2", "--seed", "100", "-q"])
    #expect(rows(other.out) != rows(one.out))
  }

  @Test(
    "bad input exits 2 and names the problem",
    arguments: [
      (["--dt", "0"], "--dt"),
      (["--dt", "-0.1"], "--dt"),
      (["--tmax", "0.01", "--dt", "0.05"], "--tmax"),
      (["--samples", "1"], "--samples"),
      (["--model", "ising"], "ising"),
      (["--spins", "quantum"], "quantum dynamics is not simulated"),
      (["--substeps", "0"], "--substeps"),
      (["--param", "q=1"], "unknown parameter 'q'"),
      (["--n", "2"], "chain size 2"),
    ])
  func badInput(arguments: [String], fragment: String) throws {
    let r = try krylov(["simulate"] + arguments)
    #expect(r.status == 2, "\(arguments)")
    #expect(r.err.contains(fragment), "\(r.err)")
    #expect(r.out.isEmpty)
  }

  @Test("the infinite chain is simulated on the ring that stands in for it, and the output says so")
  func infiniteChain() throws {
    let r = try krylov(["simulate", "--n", "inf", "--samples", "300", "--seed", "2", "--tmax", "0.5", "-q"])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("# n: inf\n") && r.out.contains("# simulated: a ring of 16 sites"))
    let rows = r.out.split(separator: "\n").filter { $0.first?.isNumber == true }
    #expect(rows.count == 11 && rows.first?.hasPrefix("0,1") == true)
  }

  @Test("SIGINT stops the run and still writes the estimate of the samples completed")
  func interrupt() throws {
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("c.csv").path
    let process = Process()
    process.executableURL = try binaryURL()
    process.arguments = ["simulate", "--n", "8", "--samples", "1000000000", "--seed", "1", "-q", "--output", path]
    process.standardError = Pipe()
    try process.run()
    Thread.sleep(forTimeInterval: 3)
    process.interrupt()
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("# stop: cancelled: the estimate uses the"))
    #expect(text.contains("# samples_requested: 1000000000"))
    #expect(rows(text).count == 61)
    #expect(rows(text).first == [0, 1, 0])
  }
}
