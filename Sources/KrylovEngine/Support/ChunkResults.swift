import Foundation

/// Results written by concurrent workers into their own slots.
final class ChunkResults<T>: @unchecked Sendable {
  private var slots: [T?]
  private let lock = NSLock()
  init(count: Int) { slots = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
  func get(_ i: Int) -> T? { lock.withLock { slots[i] } }
  var count: Int { slots.count }
}

extension ChunkResults {
  /// Per-block key and orbit-size lists from every chunk, in chunk order (so sorted keys stay sorted).
  func concatenatedBlocks<Size>(blocks: Int) -> ([[UInt64]], [[Size]]) where T == ([[UInt64]], [[Size]]) {
    var keys: [[UInt64]] = Array(repeating: [], count: blocks)
    var sizes: [[Size]] = Array(repeating: [], count: blocks)
    for c in 0..<count {
      guard let (k, m) = get(c) else { preconditionFailure("chunk \(c) has no result: every worker stores its chunk's") }
      for b in 0..<blocks {
        keys[b] += k[b]
        sizes[b] += m[b]
      }
    }
    return (keys, sizes)
  }
}
