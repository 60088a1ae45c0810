import Foundation

/// How many mutations each fuzz test tries: a few hundred by default (a second or two),
/// `KRYLOV_FUZZ_ITERATIONS=100000` for a long run.
public let fuzzIterations = ProcessInfo.processInfo.environment["KRYLOV_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 300

/// Values and bytes that break careless parsers.
let hostileTokens = [
  "-1", "0", "-0", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "9223372036854775808",
  "18446744073709551616", "99999999999999999999", "\"\"", "[]", "{}", "null", "true", "\u{FEFF}", "\r\n",
  "\r", "\0", ",", "#", "# trusted: -5", "# trusted: 99999999999", "\u{1b}[2J", "é", "🙂",
]

/// Seeded mutations of a valid input.
///
/// The mutations are random bytes, truncations, bit flips, spliced huge, negative and
/// non-numeric numbers, line-ending changes. Deterministic, so a failure repeats.
public struct Mutator<Source: RandomNumberGenerator> {
  var rng: Source
  public init(_ source: Source) { rng = source }

  public mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }

  public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    for _ in 0...below(3) {
      switch below(7) {
      case 0 where !bytes.isEmpty:  // flip a bit
        let i = below(bytes.count)
        bytes[i] ^= UInt8(1 << below(8))
      case 1:  // truncate
        bytes = Array(bytes.prefix(below(bytes.count + 1)))
      case 2:  // random bytes somewhere
        let i = below(bytes.count + 1)
        bytes.insert(contentsOf: (0..<below(16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: i)
      case 3:  // splice a hostile token
        let i = below(bytes.count + 1)
        bytes.insert(contentsOf: Array(hostileTokens[below(hostileTokens.count)].utf8), at: i)
      case 4:  // replace a number-looking run by a hostile token
        if let i = bytes.indices.filter({ (48...57).contains(bytes[$0]) }).randomElement(using: &rng) {
          var j = i
          while j < bytes.count, (48...57).contains(bytes[j]) || bytes[j] == 46 { j += 1 }
          bytes.replaceSubrange(i..<j, with: Array(hostileTokens[below(hostileTokens.count)].utf8))
        }
      case 5:  // CRLF line endings
        bytes = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
      default:  // duplicate a slice
        if !bytes.isEmpty {
          let i = below(bytes.count)
          let j = min(bytes.count, i + below(64))
          bytes.insert(contentsOf: bytes[i..<j], at: below(bytes.count + 1))
        }
      }
    }
    return bytes
  }
}
