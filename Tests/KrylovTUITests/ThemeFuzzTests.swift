import Foundation
import KrylovEngine
import KrylovTUI
import KrylovTestSupport
import Testing

@Suite("Fuzz: theme files give issues or colours, never a trap")
struct ThemeFuzzTests {
  static let theme = """
    # A small theme.
    theme[main_bg]="#2e3440"
    theme[main_fg]="#d8dee9"
    theme[title]="#ff"
    theme[coeff_start]="136 192 208"
    theme[coeff_end]=""

    """

  @Test("mutated theme files")
  func mutatedThemes() throws {
    var mutator = Mutator(SplitMix64(seed: 31))
    for _ in 0..<fuzzIterations {
      let text = String(decoding: mutator.mutate(Array(Self.theme.utf8)), as: UTF8.self)
      guard let (theme, _) = try? ThemeLoader.parse(text, name: "fuzz") else { continue }
      #expect(theme.gradient("coeff").count == 101)
    }
  }

  @Test("Windows line endings and a BOM read as the same theme")
  func lineEndings() throws {
    let (plain, plainIssues) = try ThemeLoader.parse(Self.theme, name: "t")
    let crlf = "\u{FEFF}" + Self.theme.replacingOccurrences(of: "\n", with: "\r\n")
    let (windows, windowsIssues) = try ThemeLoader.parse(crlf, name: "t")
    #expect(plainIssues.isEmpty && windowsIssues.isEmpty)
    for key in ["main_bg", "main_fg", "title"] { #expect(windows.color(key) == plain.color(key)) }
    #expect(windows.gradient("coeff") == plain.gradient("coeff"))
  }
}
