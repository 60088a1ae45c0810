import Foundation

/// Large buffers backed by transparent huge pages where the system allows it (Linux, madvise).
///
/// The enumeration's hash tables are hundreds of megabytes read at random: with 4 KiB pages
/// nearly every probe also misses the TLB. 2 MiB pages remove most of those walks and fault
/// the memory in with far fewer kernel entries.
enum HugePageMemory {
  static let pageSize = 2 << 20

  /// `count` zeroed elements of `T`, 2 MiB aligned; release with `deallocate`.
  static func allocateZeroed<T>(_ type: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
    let bytes = max(count * MemoryLayout<T>.stride, 1)
    if bytes < pageSize {
      let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
      memset(p, 0, bytes)
      return UnsafeMutableBufferPointer(start: p, count: count)
    }
    let rounded = (bytes + pageSize - 1) / pageSize * pageSize
    guard let raw = aligned_alloc(pageSize, rounded) else { fatalError("out of memory (\(rounded) bytes)") }
    #if os(Linux)
    _ = madvise(raw, rounded, MADV_HUGEPAGE)
    #endif
    memset(raw, 0, rounded)
    return UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: count), count: count)
  }

  static func deallocate<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
    guard let base = buffer.baseAddress else { return }
    if max(buffer.count * MemoryLayout<T>.stride, 1) < pageSize {
      base.deallocate()
    } else {
      free(UnsafeMutableRawPointer(base))
    }
  }
}
