import Foundation
import KrylovTUI

/// Themes by name: the built-in default plus every `.theme` file in the search path.
public struct ThemeCatalog: Sendable {
  /// Name → file path.
  public private(set) var files: [String: String] = [:]

  /// Searches `KRYLOV_THEMES`, `./Themes`, the `Themes` folder beside the package the binary
  /// was built in, and `~/.config/krylov/themes`.
  public init() {
    var directories: [String] = []
    let env = ProcessInfo.processInfo.environment
    if let d = env["KRYLOV_THEMES"] { directories.append(d) }
    directories.append(FileManager.default.currentDirectoryPath + "/Themes")
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var up = executable.deletingLastPathComponent()
    for _ in 0..<4 {
      directories.append(up.appendingPathComponent("Themes").path)
      up = up.deletingLastPathComponent()
    }
    if let home = env["HOME"] { directories.append(home + "/.config/krylov/themes") }
    for directory in directories {
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
      for name in names.sorted() where name.hasSuffix(".theme") {
        let stem = String(name.dropLast(6))
        if files[stem] == nil { files[stem] = directory + "/" + name }
      }
    }
  }

  /// "Default" first, then the files' names.
  public var names: [String] { ["Default"] + files.keys.sorted() }

  /// Loads a theme by name or path; problems in the file are returned, with the default used
  /// for what could not be read.
  public func load(_ nameOrPath: String) -> (theme: Theme, problems: [String]) {
    if nameOrPath == "Default" { return (Theme.builtIn, []) }
    let path =
      files[nameOrPath] ?? files[(nameOrPath as NSString).lastPathComponent.replacingOccurrences(of: ".theme", with: "")]
      ?? nameOrPath
    guard FileManager.default.fileExists(atPath: path) else {
      return (Theme.builtIn, ["theme '\(nameOrPath)' not found (known: \(names.joined(separator: ", "))); using the default"])
    }
    do {
      let (theme, issues) = try ThemeLoader.load(path: path)
      return (theme, issues.map { "\($0)" })
    } catch {
      return (Theme.builtIn, ["\(error); using the default"])
    }
  }
}
