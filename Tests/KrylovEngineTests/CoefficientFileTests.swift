import KrylovEngine
import Testing

@Suite("Coefficient files")
struct CoefficientFileTests {
  @Test("what krylov lanczos writes as CSV reads back, trust and all")
  func ownCSV() throws {
    let text = """
      # krylov lanczos
      # model: mfim
      # params: J=1.0 g=-1.05 h=0.5
      # n: 8
      # bc: pbc
      # operator: sz_total
      n,b_n,trusted
      1,2.1,1
      2,3.0,1
      3,3.5,0
      # trusted: 2
      # exhausted: false
      """
    let s = try CoefficientFile.parse(text)
    #expect(s.coefficients == [2.1, 3.0, 3.5])
    #expect(s.trustedCount == 2)
    #expect(s.system == (try SpinChain(model: .mfim, size: 8, operator: .szTotal)) && s.formatVersion == 1)
  }

  @Test("a bare n,b_n CSV from another tool reads, header or not")
  func foreignCSV() throws {
    #expect(try CoefficientFile.parse("1,0.5\n2,0.75\n").coefficients == [0.5, 0.75])
    #expect(try CoefficientFile.parse("n,b\n1, 0.5\n2 ,0.75\n\n").coefficients == [0.5, 0.75])
    #expect(try CoefficientFile.parse("1,0.5\n").trustedCount == nil)
  }

  @Test("JSON reads b, trusted and exhausted")
  func json() throws {
    let s = try CoefficientFile.parse(#"{"b": [1, 2.5], "trusted": 1, "exhausted": true, "system": {"n": 8}}"#)
    #expect(s.coefficients == [1, 2.5] && s.trustedCount == 1 && s.exhausted)
    // A format-1 block that names no whole system (another tool's) is passed over.
    #expect(s.system == nil && s.formatVersion == 1)
  }

  @Test("JSON doubles are read exactly, every digit")
  func jsonExact() throws {
    var rng = SplitMix64(seed: 3)
    let values = (0..<2000).map { _ in 50 * (Double(rng.next() >> 11) * 0x1p-53) + 0.01 }
    let text = "{\"b\": [" + values.map { "\($0)" }.joined(separator: ",") + "]}"
    #expect(try CoefficientFile.parse(text).coefficients == values)
  }

  @Test(
    "bad files name the line and the problem",
    arguments: [
      ("1,0.5\n3,0.7\n", 2, "expected n = 2"),
      ("1,0.5\n2,abc\n", 2, "not a finite"),
      ("1,0.5\n2,-1\n", 2, "not a finite"),
      ("1;0.5\n", 1, "expected 'n,b_n'"),
      ("x,y\nfoo,1\n", 2, "not a whole number"),
      ("n,b_n,trusted\n1,0.5,yes\n", 2, "0 or 1"),
    ])
  func badCSV(text: String, line: Int, fragment: String) {
    do {
      _ = try CoefficientFile.parse(text, path: "f.csv")
      Issue.record("accepted")
    } catch {
      #expect(error.line == line)
      #expect(error.description.contains(fragment), "\(error)")
      #expect(error.description.hasPrefix("f.csv:\(line):"))
    }
  }

  @Test("empty, malformed JSON and missing arrays are refused")
  func badOther() {
    for text in ["", "# only comments\n", "{", #"{"c": [1]}"#, #"{"b": [1, -2]}"#, #"{"b": [1], "trusted": 5}"#] {
      #expect(throws: CoefficientFileError.self, "\(text)") { try CoefficientFile.parse(text) }
    }
  }
}
