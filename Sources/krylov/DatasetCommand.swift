import ArgumentParser
import Foundation
import KrylovEngine

struct DatasetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dataset",
    abstract: "Build and inspect datasets of Lanczos coefficients for the forecaster.",
    subcommands: [DatasetBuildCommand.self, DatasetShowCommand.self]
  )
}

struct DatasetBuildCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build",
    abstract: "Compute every sequence a spec names, reusing those already in the directory.",
    discussion: """
      The spec (JSON) lists groups of systems: a model, sizes (numbers or "inf"), boundaries, \
      operators, and parameters as ranges (drawn with the spec's seed) or value lists. Each \
      sequence is stored under DIR/sequences/ as a coefficient file that 'krylov forecast' \
      and 'krylov observe' read, named by a hash of its full description; a rebuild computes \
      only what is new. DIR/manifest.json lists what was computed. Every run is checked \
      against the memory limit before anything is computed. Ctrl-C keeps what is done.

      Example spec: see data/specs/default-train.json.
      """
  )

  @Option(help: "The dataset spec (JSON).")
  var spec: String

  @Option(help: "Output directory (created if missing).")
  var out: String

  @Option(help: "Refuse runs whose memory estimate exceeds this (e.g. 8G). Default: 70% of physical memory.")
  var memoryLimit: MemorySize?

  @Flag(name: .shortAndLong, help: "No progress on standard error.")
  var quiet = false

  func run() throws {
    let specification: DatasetSpec
    do { specification = try DatasetSpec.load(path: spec) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let builder = DatasetBuilder(
      spec: specification, directory: out, memoryLimit: memoryLimit?.bytes ?? RunPlan.defaultMemoryLimit)
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    let start = Date()
    let manifest: DatasetManifest
    do {
      manifest = try builder.build(isCancelled: { cancel.isSet }) { event in
        guard !quiet else { return }
        switch event {
        case .planned(let total, let cached):
          printError("krylov: \(total) sequences in '\(specification.name)', \(cached) already computed")
        case .computed(let index, let total, let entry, let cached):
          if !cached {
            printError(
              "[\(index)/\(total)] \(entry.label): \(entry.computed) coefficients, \(entry.trusted) trusted, "
                + String(format: "%.1f s", entry.seconds))
          }
        }
      }
    } catch let error as MemoryGuardError {
      printError("error: \(error)")
      throw ExitCode(3)
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    if !quiet {
      let trusted = manifest.entries.map(\.trusted).reduce(0, +)
      printError(
        "krylov: \(manifest.entries.count) sequences (\(trusted) trusted coefficients) in \(out)"
          + String(format: ", %.1f s", Date().timeIntervalSince(start))
          + (manifest.complete ? "" : "; interrupted, run again to finish"))
    }
    if watcher.signalNumber != nil { throw ExitCode(130) }
  }
}

struct DatasetShowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Summarize a dataset directory: its systems, sizes and trusted lengths."
  )

  @Argument(help: "The dataset directory.")
  var directory: String

  func run() throws {
    let manifest: DatasetManifest
    do { manifest = try DatasetManifest.load(directory: directory) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    print("# dataset \(manifest.name) (seed \(manifest.seed))\(manifest.complete ? "" : " INCOMPLETE")")
    print("label,size,computed,trusted,stop,seconds")
    for e in manifest.entries {
      print("\"\(e.label)\",\(e.size),\(e.computed),\(e.trusted),\(e.stop),\(String(format: "%.2f", e.seconds))")
    }
  }
}
