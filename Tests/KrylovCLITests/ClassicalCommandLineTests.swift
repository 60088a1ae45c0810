import Foundation
import Testing

@Suite("krylov lanczos --spins classical")
struct ClassicalCommandLineTests {
  @Test("the infinite mfim chain prints b_1 = |g| = 1.05, trusted, and the basis size")
  func infiniteChain() throws {
    let r = try krylov(["lanczos", "--spins", "classical", "--n", "inf", "--steps", "10", "-q"])
    #expect(r.status == 0)
    let lines = r.out.split(separator: "\n").map(String.init)
    #expect(lines.contains("# spins: classical"))
    let header = try #require(lines.firstIndex(of: "n,b_n,trusted"))
    let first = lines[header + 1].split(separator: ",")
    #expect(first.count == 3 && first[0] == "1")
    #expect(abs(try #require(Double(String(first[1]))) - 1.05) < 1e-12)
    #expect(first[2] == "1")
    #expect(lines.filter { $0.first?.isNumber == true }.count == 10)
    #expect(lines.contains("# trusted: 10"))
    #expect(lines.contains { $0.hasPrefix("# sector: classical spins") && $0.contains("basis ") })
  }

  @Test("JSON carries the spins and the basis size")
  func json() throws {
    let r = try krylov(["lanczos", "--spins", "classical", "--n", "4", "--bc", "obc", "--steps", "5", "--format", "json", "-q"])
    #expect(r.status == 0)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let system = try #require(object["system"] as? [String: Any])
    #expect(system["spins"] as? String == "classical")
    let sector = try #require(object["sector"] as? [String: Any])
    #expect((sector["basis_size"] as? Int ?? 0) > 0)
    #expect((object["b"] as? [Double])?.count == 5)
  }

  @Test("a conserved operator is reported as conserved")
  func conserved() throws {
    let r = try krylov(["lanczos", "--spins", "classical", "--model", "xxz", "--n", "inf", "--steps", "5"])
    #expect(r.status == 0)
    #expect(r.out.contains("# conserved: true"))
    #expect(r.err.contains("conserved"))
  }

  @Test("a custom Hamiltonian reads as spin components")
  func customHamiltonian() throws {
    let r = try krylov([
      "lanczos", "--spins", "classical", "--n", "inf", "--hamiltonian", "1.0*Z0Z1 + -1.05*X0", "--operator", "Z0",
      "--translate-operator", "--steps", "3", "-q",
    ])
    #expect(r.status == 0)
    #expect(r.out.contains("\n1,1.05"))
  }

  @Test(
    "bad input exits non-zero with a clear message",
    arguments: [
      (["lanczos", "--spins", "banana"], "banana"),
      (["lanczos", "--spins", "classical", "--n", "inf", "--truncate", "10"], "quantum spins only"),
    ])
  func badInput(arguments: [String], message: String) throws {
    let r = try krylov(arguments)
    #expect(r.status != 0)
    #expect(r.err.contains(message))
  }
}
