import Foundation

/// One computed sequence in a dataset's manifest.
public struct DatasetEntry: Codable, Sendable, Equatable {
  /// The kind of spins, read with the default for older manifests.
  public var spinKind: SpinKind { spins.flatMap(SpinKind.init(rawValue:)) ?? .quantum }

  public var file: String
  public var key: String
  /// "quantum" or "classical" (absent in manifests written before classical chains: quantum).
  public var spins: String?
  public var group: String
  public var label: String
  public var model: String
  public var parameters: [String: Double]
  public var size: String
  public var boundary: String
  public var operatorName: String
  public var steps: Int
  public var computed: Int
  public var trusted: Int
  public var exhausted: Bool
  public var stop: String
  public var seconds: Double
}

extension DatasetManifest {
  /// Writes the manifest atomically (a reader never sees half of it).
  public func write(to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}

extension DatasetEntry {
  /// The chain the entry describes, read through the system codec (so a bad field is named).
  public func chain() throws -> SpinChain {
    let record = SystemRecord(
      spins: spins ?? SpinKind.quantum.rawValue, model: model, params: parameters, n: size,
      bc: size == ChainSize.infinite.description ? nil : boundary, operatorName: operatorName)
    do { return try record.chain() } catch { throw DatasetError("\(label): \(error)") }
  }
}

/// The manifest of a dataset directory: what was computed, from which spec.
public struct DatasetManifest: Codable, Sendable {
  public var name: String
  public var seed: UInt64
  public var spec: DatasetSpec
  public var entries: [DatasetEntry]
  /// True when every system of the spec (of the shard, for a shard's manifest) is present.
  public var complete: Bool
  /// "I/N" for the manifest of one part of a sharded build; nil for a whole dataset.
  public var shard: String?

  public static let fileName = "manifest.json"

  public static func load(directory: String) throws(DatasetError) -> DatasetManifest {
    let path = (directory as NSString).appendingPathComponent(fileName)
    guard FileManager.default.fileExists(atPath: path) else {
      throw DatasetError(
        "\(directory): no \(fileName) (build the dataset with 'krylov dataset build', or join the parts of a "
          + "sharded build with 'krylov dataset merge')")
    }
    return try load(path: path)
  }

  /// Reads one manifest file (a whole dataset's or one part's).
  public static func load(path: String) throws(DatasetError) -> DatasetManifest {
    guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("\(path): cannot read it") }
    do { return try JSONDecoder().decode(DatasetManifest.self, from: data) } catch let error as DecodingError {
      throw DatasetError("\(path): \(describe(error))")
    } catch { throw DatasetError("\(path): \(error)") }
  }

  /// The sequence of an entry: its trusted coefficients only (and all of them if exhausted
  /// with a trusted exhaustion, which is the same thing).
  public func trustedCoefficients(of entry: DatasetEntry, directory: String) throws -> [Double] {
    // A manifest names files inside its dataset: an absolute path or a ".." would let a
    // manifest read (and echo in errors) any file of the machine.
    let parts = entry.file.split(separator: "/")
    guard !entry.file.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else {
      throw DatasetError("\(entry.label): the manifest names \(entry.file), outside the dataset directory")
    }
    let path = (directory as NSString).appendingPathComponent(entry.file)
    let sequence = try CoefficientFile.read(path: path)
    return Array(sequence.coefficients.prefix(sequence.trustedCount ?? sequence.coefficients.count))
  }
}

/// Computes every system of a spec into a directory, reusing sequences already there.
///
/// Each sequence is a JSON coefficient file named by a hash of its full system description
/// (which the file also records, so a collision or a stale file is detected and recomputed).
/// The manifest is rewritten after every system, so an interrupted build keeps its work.
///
/// With a shard, only that part's systems are computed and its manifest goes to a file of its
/// own (`DatasetShard.manifestFileName`); sequence files are named by the system, so parts can
/// share one directory. `DatasetMerge` joins the parts.
public struct DatasetBuilder {
  public let spec: DatasetSpec
  public let directory: String
  public let memoryLimit: Int
  public let shard: DatasetShard?

  public init(
    spec: DatasetSpec, directory: String, memoryLimit: Int = RunPlan.defaultMemoryLimit, shard: DatasetShard? = nil
  ) {
    self.spec = spec
    self.directory = directory
    self.memoryLimit = memoryLimit
    self.shard = shard
  }

  public enum Event: Sendable {
    case planned(total: Int, cached: Int)
    case computed(index: Int, total: Int, entry: DatasetEntry, cached: Bool)
  }

  /// Checks every system before computing anything: invalid systems and runs over the memory
  /// limit are refused up front, with the reason.
  public func plan() throws -> [(DatasetSystem, RunPlan)] {
    var plans: [(DatasetSystem, RunPlan)] = []
    for system in try spec.systems() where shard?.contains(system) ?? true {
      let chain: SpinChain
      do { chain = try system.chain() } catch { throw DatasetError("\(system.key): \(error)") }
      let plan = try RunPlan(chain: chain, steps: system.steps)
      do { try plan.checkMemory(limit: memoryLimit) } catch {
        throw DatasetError("\(system.key): \(error)", memoryRefusal: true)
      }
      plans.append((system, plan))
    }
    return plans
  }

  /// Builds the dataset; returns the manifest (incomplete if cancelled).
  public func build(isCancelled: () -> Bool = { false }, onEvent: (Event) -> Void = { _ in }) throws -> DatasetManifest {
    let plans = try plan()
    do { try InputFile.makeDirectory((directory as NSString).appendingPathComponent("sequences")) } catch {
      throw DatasetError("cannot write the dataset: \(error)")
    }
    let cachedEntries = cachedIndex()
    onEvent(.planned(total: plans.count, cached: plans.filter { cachedEntries[$0.0.key] != nil }.count))
    var manifest = DatasetManifest(
      name: spec.name, seed: spec.seed, spec: spec, entries: [], complete: false, shard: shard?.description)
    for (i, (system, plan)) in plans.enumerated() {
      if let entry = cachedEntries[system.key] {
        manifest.entries.append(entry)
        onEvent(.computed(index: i + 1, total: plans.count, entry: entry, cached: true))
        continue
      }
      if isCancelled() { break }
      let space = try plan.buildSpace(memoryLimit: memoryLimit)
      let result = LanczosDriver(space: space, options: plan.lanczosOptions).run(isCancelled: isCancelled)
      if result.stopReason == .cancelled { break }
      if result.stopReason == .nonFinite {
        throw DatasetError(
          "\(system.key): b_\(result.coefficients.count + 1) is not a finite number; nothing was written for it")
      }
      let entry = try write(system: system, chain: plan.chain, result: result)
      manifest.entries.append(entry)
      try save(manifest)
      onEvent(.computed(index: i + 1, total: plans.count, entry: entry, cached: false))
    }
    manifest.complete = manifest.entries.count == plans.count
    try save(manifest)
    return manifest
  }

  private func save(_ manifest: DatasetManifest) throws {
    try manifest.write(to: (directory as NSString).appendingPathComponent(shard?.manifestFileName ?? DatasetManifest.fileName))
  }

  /// Sequences already in the directory whose recorded key matches their file.
  func cachedIndex() -> [String: DatasetEntry] { Self.cachedIndex(directory: directory) }

  /// Sequences in `directory` whose recorded key matches their file.
  static func cachedIndex(directory: String) -> [String: DatasetEntry] {
    var index: [String: DatasetEntry] = [:]
    let folder = (directory as NSString).appendingPathComponent("sequences")
    guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [:] }
    for file in files where file.hasSuffix(".json") {
      guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(file)),
        let header = try? JSONDecoder().decode(SequenceFileHeader.self, from: data),
        "sequences/\(file)" == header.entry.file
      else { continue }
      index[header.entry.key] = header.entry
    }
    return index
  }

  private func write(system: DatasetSystem, chain: SpinChain, result: LanczosResult) throws -> DatasetEntry {
    // The system's fields come from the one system codec, as `chain()` reads them back.
    let record = SystemRecord(chain)
    let entry = DatasetEntry(
      file: "sequences/\(system.fileName)", key: system.key, spins: record.spins, group: system.group,
      label: chain.label, model: record.model ?? system.model.rawValue, parameters: record.params ?? [:],
      size: record.n ?? system.size.description,
      // The infinite chain has no boundary; the field keeps the spec's, which readers ignore.
      boundary: record.bc ?? system.boundary.rawValue,
      operatorName: record.operatorName ?? system.operatorName.rawValue, steps: system.steps,
      computed: result.coefficients.count, trusted: result.trustedCount, exhausted: result.exhausted,
      stop: result.stopReason.rawValue, seconds: result.totalSeconds)
    var document = CoefficientDocument(
      system: chain, b: result.coefficients, trusted: result.trustedCount, exhausted: result.exhausted)
    document.entry = entry
    let data = Data(try CoefficientFile.json(document, pretty: false).utf8)
    try data.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(entry.file)), options: .atomic)
    return entry
  }
}

/// The part of a sequence file the cache needs.
private struct SequenceFileHeader: Decodable {
  var entry: DatasetEntry
}
