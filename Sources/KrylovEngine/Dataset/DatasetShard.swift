/// Part `index` of `count` disjoint parts of a spec's systems, for builds split over many
/// processes (a Slurm job array: `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
///
/// A system belongs to the part its cache key's FNV-1a hash names, not to a position in the
/// spec, so adding a system to a spec moves no other system to another part, and every process
/// agrees on the partition without talking to the others.
public struct DatasetShard: Sendable, Equatable, CustomStringConvertible {
  public let index: Int
  public let count: Int

  public init?(index: Int, count: Int) {
    guard count >= 1, count <= Self.maximumCount, index >= 0, index < count else { return nil }
    self.index = index
    self.count = count
  }

  /// "I/N", 0 ≤ I < N.
  public init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
    self.init(index: i, count: n)
  }

  /// The most parts a spec may be split into (one process each).
  public static let maximumCount = 100_000

  public var description: String { "\(index)/\(count)" }

  /// The part a system belongs to, of `count`.
  public static func part(of system: DatasetSystem, count: Int) -> Int {
    Int(FNV1a.hash64(system.key.utf8) % UInt64(max(count, 1)))
  }

  public func contains(_ system: DatasetSystem) -> Bool { Self.part(of: system, count: count) == index }

  /// The manifest a part writes: its own file, so parts sharing a directory never write the
  /// same file.
  public var manifestFileName: String { "manifest.shard-\(index)-of-\(count).json" }
}
