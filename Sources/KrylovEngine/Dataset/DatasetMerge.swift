import Foundation

/// Joins the parts of a sharded build (`DatasetShard`) into one dataset.
///
/// The spec comes from the parts' manifests, which must all name the same spec; the entries
/// come from the sequence files themselves (each records its system), so a part killed after
/// writing a sequence but before its manifest loses nothing. The merged manifest lists the
/// spec's systems in the spec's order, as an unsharded build does, and sequence files found in
/// other directories are copied into the output. Systems no part computed are reported with
/// the part they belong to, so only those array tasks need to run again.
public enum DatasetMerge {
  public struct Missing: Sendable, Equatable {
    public var key: String
    /// The part of the sharded build the system belongs to (nil when the parts disagree on N).
    public var shard: Int?
  }

  public struct Result: Sendable {
    public var manifest: DatasetManifest
    public var missing: [Missing]
    /// The number of parts the build was split into, when the parts say it.
    public var shardCount: Int?
  }

  /// Merges the parts found in `directories` into `output` (which may be one of them).
  public static func merge(directories: [String], into output: String) throws(DatasetError) -> Result {
    let fm = FileManager.default
    var spec: DatasetSpec?
    var specSource = ""
    var counts = Set<Int>()
    for directory in directories {
      guard let files = try? fm.contentsOfDirectory(atPath: directory) else {
        throw DatasetError("\(directory): cannot read the directory")
      }
      for file in files.sorted() where file == DatasetManifest.fileName || file.hasPrefix("manifest.shard-") {
        let path = (directory as NSString).appendingPathComponent(file)
        let part = try DatasetManifest.load(path: path)
        if let shard = part.shard.flatMap(DatasetShard.init) { counts.insert(shard.count) }
        if let spec, spec != part.spec {
          throw DatasetError("\(path) was built from another spec than \(specSource): merge parts of one build only")
        }
        spec = part.spec
        specSource = path
      }
    }
    guard let spec else {
      throw DatasetError(
        "no manifest in \(directories.joined(separator: ", ")): run 'krylov dataset build --shard I/N' first")
    }
    let shardCount = counts.count == 1 ? counts.first : nil
    var found: [String: (entry: DatasetEntry, directory: String)] = [:]
    for directory in directories {
      for (key, entry) in DatasetBuilder.cachedIndex(directory: directory) where found[key] == nil {
        found[key] = (entry, directory)
      }
    }
    do { try InputFile.makeDirectory((output as NSString).appendingPathComponent("sequences")) } catch {
      throw DatasetError("cannot write the merged dataset: \(error)")
    }
    var manifest = DatasetManifest(name: spec.name, seed: spec.seed, spec: spec, entries: [], complete: false)
    var missing: [Missing] = []
    for system in try spec.systems() {
      guard let (entry, directory) = found[system.key] else {
        missing.append(Missing(key: system.key, shard: shardCount.map { DatasetShard.part(of: system, count: $0) }))
        continue
      }
      let target = (output as NSString).appendingPathComponent(entry.file)
      if !fm.fileExists(atPath: target) {
        let source = (directory as NSString).appendingPathComponent(entry.file)
        do { try fm.copyItem(atPath: source, toPath: target) } catch {
          throw DatasetError("cannot copy \(source) to \(target): \(InputFile.reason(error))")
        }
      }
      manifest.entries.append(entry)
    }
    manifest.complete = missing.isEmpty
    do { try manifest.write(to: (output as NSString).appendingPathComponent(DatasetManifest.fileName)) } catch {
      throw DatasetError("\(output): cannot write the manifest (\(InputFile.reason(error)))")
    }
    return Result(manifest: manifest, missing: missing, shardCount: shardCount)
  }
}
