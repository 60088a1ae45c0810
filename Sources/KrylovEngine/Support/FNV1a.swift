/// FNV-1a, 64 bits: a stable hash of bytes, the same on every machine and in every release.
///
/// Swift's `Hasher`, by contrast, is seeded per process. Names dataset cache files and
/// fingerprints the training manifests a checkpoint was made from.
public enum FNV1a {
  public static func hash64<S: Sequence<UInt8>>(_ bytes: S) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      h ^= UInt64(byte)
      h = h &* 0x100_0000_01b3
    }
    return h
  }

  /// The hash as 16 hexadecimal digits.
  public static func hex<S: Sequence<UInt8>>(_ bytes: S) -> String {
    let h = hash64(bytes)
    let digits = String(h, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
