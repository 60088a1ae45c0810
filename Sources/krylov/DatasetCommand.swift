import ArgumentParser
import Foundation
import KrylovEngine

struct DatasetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dataset",
    abstract: "Build and inspect datasets of Lanczos coefficients for the forecaster.",
    subcommands: [DatasetBuildCommand.self, DatasetPlanCommand.self, DatasetMergeCommand.self, DatasetShowCommand.self]
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

      --shard I/N computes only part I (0 ≤ I < N) of N disjoint parts, chosen by a hash of \
      each system's description (so adding a system to a spec moves no other), and writes \
      DIR/manifest.shard-I-of-N.json instead of DIR/manifest.json. Parts may share DIR or use \
      their own; 'krylov dataset merge' joins them (docs/cluster.md: Slurm job arrays).

      Example spec: see docs/datasets/default-train.json.
      """
  )

  @Option(help: "The dataset spec (JSON).")
  var spec: String

  @Option(help: "Output directory (created if missing).")
  var out: String

  @Option(help: "Refuse runs whose memory estimate exceeds this (e.g. 8G). Default: 70% of physical memory.")
  var memoryLimit: MemorySize?

  @Option(
    help: ArgumentHelp(
      "Compute only part I of N (0 ≤ I < N), e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.", valueName: "I/N"))
  var shard: DatasetShard?

  @Flag(name: .shortAndLong, help: "No progress on standard error.")
  var quiet = false

  func run() throws {
    let specification: DatasetSpec
    do { specification = try DatasetSpec.load(path: spec) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let builder = DatasetBuilder(
      spec: specification, directory: out, memoryLimit: memoryLimit?.bytes ?? RunPlan.defaultMemoryLimit, shard: shard)
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    let start = Date()
    let manifest: DatasetManifest
    do {
      manifest = try builder.build(isCancelled: { cancel.isSet }) { event in
        guard !quiet else { return }
        switch event {
        case .planned(let total, let cached):
          printError(
            "krylov: \(total) sequences in '\(specification.name)'\(shard.map { " (part \($0))" } ?? ""), "
              + "\(cached) already computed")
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
    } catch let error as DatasetError where error.memoryRefusal {
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

extension DatasetShard: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
}

struct DatasetPlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Check a spec (or one part of it) and print the memory its largest run needs.",
    discussion: """
      Every system is validated and its run planned, as 'dataset build' does before computing, \
      but nothing is computed. The last line is the largest memory estimate in MiB, rounded up \
      and with a quarter added for the process itself: what a Slurm job asks for with --mem.
      """
  )

  @Option(help: "The dataset spec (JSON).")
  var spec: String

  @Option(help: ArgumentHelp("Plan only part I of N.", valueName: "I/N"))
  var shard: DatasetShard?

  func run() throws {
    let specification: DatasetSpec
    let plans: [(DatasetSystem, RunPlan)]
    do {
      specification = try DatasetSpec.load(path: spec)
      plans = try DatasetBuilder(spec: specification, directory: ".", memoryLimit: Int.max, shard: shard).plan()
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let largest = plans.max { $0.1.estimatedBytes < $1.1.estimatedBytes }
    print("# \(specification.name)\(shard.map { " part \($0)" } ?? ""): \(plans.count) systems")
    if let (system, plan) = largest {
      print("# largest run: \(system.key), about \(formatBytes(plan.estimatedBytes))")
      let mebibytes = (plan.estimatedBytes + plan.estimatedBytes / 4) / (1 << 20) + 64
      print("mem_mib=\(mebibytes)")
    } else {
      print("mem_mib=64")
    }
  }
}

struct DatasetMergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Join the parts of a sharded build into one dataset.",
    discussion: """
      Reads the part manifests and the sequence files of every DIR (parts may share one \
      directory or have their own), checks they come from one spec, and writes OUT/manifest.json \
      listing the spec's systems in order, as an unsharded build does; sequence files found \
      elsewhere are copied into OUT. Systems no part computed are listed with the part they \
      belong to, and the command exits 1: rerun those array tasks, then merge again.
      """
  )

  @Argument(help: "Directories holding parts of the build.")
  var directories: [String]

  @Option(help: "Where the merged dataset goes (default: the first directory).")
  var out: String?

  func validate() throws {
    guard !directories.isEmpty else { throw ValidationError("name at least one directory") }
  }

  func run() throws {
    let output = out ?? directories[0]
    let result: DatasetMerge.Result
    do { result = try DatasetMerge.merge(directories: directories, into: output) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let found = result.manifest.entries.count
    printError("krylov: \(found) of \(found + result.missing.count) sequences of '\(result.manifest.name)' in \(output)")
    guard result.missing.isEmpty else {
      for m in result.missing { printError("missing: \(m.key)" + (m.shard.map { " (part \($0))" } ?? "")) }
      let parts = Set(result.missing.compactMap(\.shard)).sorted()
      if !parts.isEmpty {
        printError(
          "error: \(result.missing.count) systems missing; rerun parts \(parts.map(String.init).joined(separator: ",")) "
            + "(sbatch --array=\(parts.map(String.init).joined(separator: ",")) ...), then merge again")
      } else {
        printError("error: \(result.missing.count) systems missing")
      }
      throw ExitCode(1)
    }
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
