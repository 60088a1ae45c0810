import Foundation
import Testing

/// One command of `--experimental-dump-help`'s tree, with what the duplicate check reads.
private struct CommandInfo: Decodable {
  struct Argument: Decodable {
    struct Name: Decodable, Hashable {
      var kind: String
      var name: String
    }
    var names: [Name]?
  }
  var commandName: String
  var arguments: [Argument]?
  var subcommands: [CommandInfo]?
}

private struct ToolInfo: Decodable { var command: CommandInfo }

@Suite("Argument parsing")
struct ParserTests {
  /// swift-argument-parser checks for options declared twice only in debug builds, and the
  /// suite runs the release binary: this reads the parser's own description of every
  /// subcommand and checks that no name is declared twice.
  @Test("no subcommand declares an option or flag name twice")
  func noDuplicateNames() throws {
    let r = try krylov(["--experimental-dump-help"])
    #expect(r.status == 0)
    let root = try JSONDecoder().decode(ToolInfo.self, from: Data(r.out.utf8)).command
    var checked = 0
    func visit(_ command: CommandInfo, path: String) {
      var seen: [CommandInfo.Argument.Name: Int] = [:]
      for argument in command.arguments ?? [] {
        for name in argument.names ?? [] { seen[name, default: 0] += 1 }
      }
      let twice = seen.filter { $0.value > 1 }.map { "\($0.key.kind == "short" ? "-" : "--")\($0.key.name)" }
      #expect(twice.isEmpty, "\(path) declares \(twice.sorted().joined(separator: ", ")) more than once")
      checked += 1
      for sub in command.subcommands ?? [] { visit(sub, path: path + " " + sub.commandName) }
    }
    visit(root, path: root.commandName)
    #expect(checked >= 15)
  }

  @Test("every subcommand explains itself with --help")
  func help() throws {
    let root = try JSONDecoder().decode(ToolInfo.self, from: Data(try krylov(["--experimental-dump-help"]).out.utf8)).command
    for sub in root.subcommands ?? [] where sub.commandName != "help" {
      let r = try krylov([sub.commandName, "--help"])
      #expect(r.status == 0 && r.out.contains("USAGE"), "\(sub.commandName)")
    }
  }
}
