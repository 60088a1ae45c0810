import Foundation
import KrylovEngine

/// What the explorer remembers between sessions: the theme, the coefficient chart's view and
/// the last system (with its steps and prefix), in `$XDG_CONFIG_HOME/krylov/settings.json` (`~/.config/krylov/` when
/// XDG_CONFIG_HOME is unset).
///
/// The system is stored as the files' system block (`SystemRecord`, docs/formats.md), so it is
/// validated on the way back exactly as a file's would be. The file is written atomically and
/// read forgivingly: a missing file is no preferences, an unreadable one is reported once and
/// ignored, never fatal.
public struct ExplorerPreferences: Codable, Equatable, Sendable {
  public var formatVersion = 1
  public var theme: String?
  /// The coefficient chart's view, by its name (`b_n`, `b_n/n`, `log-log`).
  public var coefficientView: String?
  public var system: SystemRecord?
  public var steps: Int?
  public var prefix: Int?

  enum CodingKeys: String, CodingKey {
    case formatVersion = "format_version"
    case theme, system, steps, prefix
    case coefficientView = "coefficient_view"
  }

  public init(theme: String? = nil, system: SystemRecord? = nil, steps: Int? = nil, prefix: Int? = nil) {
    self.theme = theme
    self.system = system
    self.steps = steps
    self.prefix = prefix
  }

  /// The preferences of a session that ends with `settings`, `theme` and `view`; a system
  /// that does not validate (a custom text being edited) is left out.
  public init(settings: SystemSettings, theme: String, view: CoefficientView = .plain) {
    self.theme = theme
    coefficientView = view.rawValue
    if let chain = try? settings.chain() {
      system = SystemRecord(chain)
      steps = settings.steps
      prefix = settings.prefix
    }
  }

  /// The settings file's path for this environment, or nil when neither XDG_CONFIG_HOME nor
  /// HOME says where the configuration lives.
  public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
      return config + "/krylov/settings.json"
    }
    guard let home = environment["HOME"], !home.isEmpty else { return nil }
    return home + "/.config/krylov/settings.json"
  }

  /// The preferences in `path`, and why they were ignored if they were: (nil, nil) when the
  /// file does not exist.
  public static func load(from path: String) -> (preferences: ExplorerPreferences?, problem: String?) {
    guard FileManager.default.fileExists(atPath: path) else { return (nil, nil) }
    let data: Data
    do { data = try InputFile.read(path: path, limit: 1 << 20) } catch {
      return (nil, "saved settings ignored (\(error.reason)): \(path)")
    }
    do {
      let preferences = try JSONDecoder().decode(ExplorerPreferences.self, from: data)
      guard preferences.formatVersion == 1 else {
        return (nil, "saved settings ignored (format version \(preferences.formatVersion), not 1): \(path)")
      }
      return (preferences, nil)
    } catch {
      return (nil, "saved settings ignored (not valid settings JSON): \(path)")
    }
  }

  /// Writes the preferences to `path` atomically, creating its directory.
  public func save(to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  /// The saved coefficient chart view; nil when none is saved or its name is unknown.
  public var view: CoefficientView? { coefficientView.flatMap(CoefficientView.init(rawValue:)) }

  /// The system these preferences hold as editor settings, or why it cannot be used (a stored
  /// system that no longer validates); nil when none is stored.
  public func settings() -> (settings: SystemSettings?, problem: String?) {
    guard let system else { return (nil, nil) }
    do {
      var settings = SystemSettings(chain: try system.chain())
      if let steps, (1...100_000).contains(steps) { settings.steps = steps }
      if let prefix, prefix >= 10 { settings.prefix = prefix }
      return (settings, nil)
    } catch {
      return (nil, "the saved system was ignored: \(error)")
    }
  }
}
