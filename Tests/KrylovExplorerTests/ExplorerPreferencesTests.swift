import Foundation
import KrylovEngine
import KrylovExplorer
import Testing

@Suite("Saved explorer settings")
struct ExplorerPreferencesTests {
  func temporaryPath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("krylov-preferences-\(UUID().uuidString)")
    return directory.appendingPathComponent("krylov/settings.json").path
  }

  @Test("the theme and the system round-trip through the file, written atomically into a new directory")
  func roundTrip() throws {
    var settings = SystemSettings()
    settings.model = .xxz
    settings.resetParameters()
    settings.parameters["Delta"] = 0.7
    settings.size = .finite(9)
    settings.boundary = .obc
    settings.operatorName = .sxTotal
    settings.steps = 150
    settings.prefix = 25
    let path = try temporaryPath()
    try ExplorerPreferences(settings: settings, theme: "nord", view: .logLog).save(to: path)
    let (loaded, problem) = ExplorerPreferences.load(from: path)
    #expect(problem == nil)
    let preferences = try #require(loaded)
    #expect(preferences.theme == "nord")
    #expect(preferences.view == .logLog)
    let back = try #require(preferences.settings().settings)
    #expect(back == settings)
    // Nothing beside the file: no partial file left in the directory.
    let files = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
    #expect(files == ["settings.json"])
  }

  @Test("a missing file is no preferences; a broken one is reported once and ignored, never fatal")
  func forgiving() throws {
    let path = try temporaryPath()
    let missing = ExplorerPreferences.load(from: path)
    #expect(missing.preferences == nil && missing.problem == nil)
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    for text in ["{not json", "[]", "{\"format_version\": 9}", "{\"system\": {\"model\": \"nonsense\", \"n\": \"8\"}}"] {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      let (preferences, problem) = ExplorerPreferences.load(from: path)
      // Either refused as a file, or read with a system that does not validate: ignored with a reason.
      let reason = problem ?? preferences?.settings().problem
      #expect(reason != nil, "\(text)")
      #expect(preferences?.settings().settings == nil, "\(text)")
    }
  }

  @Test("a saved chart view is read by its name; an unknown name is no view")
  func savedView() throws {
    let path = try temporaryPath()
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try #"{"format_version": 1, "coefficient_view": "b_n/n"}"#.write(toFile: path, atomically: true, encoding: .utf8)
    #expect(ExplorerPreferences.load(from: path).preferences?.view == .overN)
    try #"{"format_version": 1, "coefficient_view": "sideways"}"#.write(toFile: path, atomically: true, encoding: .utf8)
    let (preferences, problem) = ExplorerPreferences.load(from: path)
    #expect(problem == nil && preferences != nil && preferences?.view == nil)
  }

  @Test("the settings file follows XDG_CONFIG_HOME, else HOME/.config")
  func location() {
    #expect(
      ExplorerPreferences.path(environment: ["XDG_CONFIG_HOME": "/x/config", "HOME": "/h"]) == "/x/config/krylov/settings.json")
    #expect(ExplorerPreferences.path(environment: ["HOME": "/h"]) == "/h/.config/krylov/settings.json")
    // A relative XDG_CONFIG_HOME is invalid by the specification: HOME's default applies.
    #expect(ExplorerPreferences.path(environment: ["XDG_CONFIG_HOME": "rel", "HOME": "/h"]) == "/h/.config/krylov/settings.json")
    #expect(ExplorerPreferences.path(environment: [:]) == nil)
  }
}
