/// A term of the text form: a coefficient times Pauli letters on sites.
///
/// For example `-1.05*X0` or `Z0Z1`.
public struct PauliTerm: Sendable, Equatable {
  public var coefficient: Double
  /// (letter, site) pairs in the order written; letters are `X`, `Y`, `Z`.
  public var factors: [(letter: Character, site: Int)]

  public static func == (a: PauliTerm, b: PauliTerm) -> Bool {
    a.coefficient == b.coefficient && a.factors.map(\.letter) == b.factors.map(\.letter)
      && a.factors.map(\.site) == b.factors.map(\.site)
  }

  /// Largest site index the term touches.
  public var maxSite: Int { factors.map(\.site).max() ?? 0 }
}

/// A parse failure that points at the offending character.
public struct PauliTextError: Error, Sendable, CustomStringConvertible {
  public var text: String
  /// Character offset of the problem in `text`.
  public var offset: Int
  public var message: String

  /// The message, the text, and a caret under the offending character.
  public var description: String {
    "\(message) at character \(offset + 1):\n  \(text)\n  \(String(repeating: " ", count: offset))^"
  }
}

/// Parses sums like `1.0*Z0Z1 + -1.05*X0 + 0.5*Z0`.
///
/// Grammar: `sum := term (('+' | '-') term)*`, `term := [number ['*']] factor+ | number`,
/// `factor := ('X'|'Y'|'Z') digits`. White space is ignored between tokens. A site may appear
/// once per term; the letters may come in any site order.
public enum PauliTextParser {
  public static func parse(_ text: String) throws(PauliTextError) -> [PauliTerm] {
    let chars = Array(text)
    var i = 0
    func fail(_ message: String, at position: Int) -> PauliTextError {
      PauliTextError(text: text, offset: min(position, max(chars.count - 1, 0)), message: message)
    }
    func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    var terms: [PauliTerm] = []
    var sign = 1.0
    skipSpace()
    if i == chars.count { throw fail("empty operator text", at: 0) }
    while true {
      skipSpace()
      // Leading signs of the term (also allows `+ -1.05*X0`).
      while i < chars.count, chars[i] == "+" || chars[i] == "-" {
        if chars[i] == "-" { sign = -sign }
        i += 1
        skipSpace()
      }
      guard i < chars.count else { throw fail("expected a term after the sign", at: chars.count) }
      var coefficient = 1.0
      let termStart = i
      if chars[i].isNumber || chars[i] == "." {
        let start = i
        while i < chars.count,
          chars[i].isNumber || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
            || ((chars[i] == "-" || chars[i] == "+") && i > start && (chars[i - 1] == "e" || chars[i - 1] == "E"))
        {
          i += 1
        }
        guard let value = Double(String(chars[start..<i])), value.isFinite else {
          throw fail("not a number: '\(String(chars[start..<i]))'", at: start)
        }
        coefficient = value
        skipSpace()
        if i < chars.count, chars[i] == "*" {
          i += 1
          skipSpace()
        }
      }
      var factors: [(Character, Int)] = []
      var seen = Set<Int>()
      while i < chars.count, "XYZxyz".contains(chars[i]) {
        let letter = Character(chars[i].uppercased())
        let letterAt = i
        i += 1
        let digitsStart = i
        while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
        guard i > digitsStart else { throw fail("expected a site number after '\(letter)'", at: i) }
        guard let site = Int(String(chars[digitsStart..<i])), site < 64 else {
          throw fail("site number too large (sites are 0 to 63)", at: digitsStart)
        }
        guard seen.insert(site).inserted else {
          throw fail("site \(site) appears twice in one term", at: letterAt)
        }
        factors.append((letter, site))
        skipSpace()
      }
      if factors.isEmpty && i == termStart {
        throw fail("expected a coefficient or a Pauli letter X, Y or Z", at: i)
      }
      if factors.isEmpty {
        throw fail("a constant term is not allowed (the identity does not grow)", at: termStart)
      }
      terms.append(PauliTerm(coefficient: sign * coefficient, factors: factors))
      sign = 1
      skipSpace()
      if i == chars.count { break }
      guard chars[i] == "+" || chars[i] == "-" else {
        if chars[i] == "*" { throw fail("'*' goes between a coefficient and the Pauli letters", at: i) }
        throw fail("expected '+', '-' or a Pauli letter X, Y or Z", at: i)
      }
    }
    return terms
  }
}
