import KrylovTUI
import Testing

@Suite("Terminal diff")
struct TerminalTests {
  @Test("the first frame sends every cell, an unchanged frame none, a change only itself")
  func diffs() {
    var terminal = Terminal(backend: MemoryBackend(width: 5, height: 2))
    #expect(terminal.draw { $0.setString(x: 0, y: 0, "hello") } == 10)
    #expect(terminal.draw { $0.setString(x: 0, y: 0, "hello") } == 0)
    #expect(terminal.draw { $0.setString(x: 0, y: 0, "hallo") } == 1)
    #expect(terminal.backend.screen.lines == ["hallo", "     "])
    #expect(terminal.backend.flushes == 3)
  }

  @Test("a style change counts as a change")
  func styles() {
    var terminal = Terminal(backend: MemoryBackend(width: 3, height: 1))
    terminal.draw { $0.setString(x: 0, y: 0, "abc") }
    let sent = terminal.draw {
      $0.setString(x: 0, y: 0, "abc", style: Style(bold: true), maxWidth: 1)
      $0.setString(x: 1, y: 0, "bc")
    }
    #expect(sent == 1)
    #expect(terminal.backend.screen[0, 0].style.bold)
  }

  @Test("a resize or an invalidate repaints everything")
  func resize() {
    var terminal = Terminal(backend: MemoryBackend(width: 4, height: 2))
    terminal.draw { $0.setString(x: 0, y: 0, "ab") }
    terminal.withBackend { $0.resize(width: 6, height: 3) }
    #expect(terminal.draw { $0.setString(x: 0, y: 0, "ab") } == 18)
    #expect(terminal.backend.screen.lines == ["ab    ", "      ", "      "])
    terminal.invalidate()
    #expect(terminal.draw { $0.setString(x: 0, y: 0, "ab") } == 18)
  }

  @Test("a zero-size terminal draws nothing and does not crash")
  func empty() {
    var terminal = Terminal(backend: MemoryBackend(width: 0, height: 0))
    #expect(terminal.draw { $0.setString(x: 0, y: 0, "x") } == 0)
  }
}
