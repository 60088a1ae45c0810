/// Compact keys for products of one-site harmonics: a prefix code, one word per site, in 128 bits.
///
/// Site j with harmonic k = l² + l + m is written as l ones and a zero, followed (for l > 0) by
/// l + m in `orderBits(l)` bits; the constant (k = 0) is the single bit 0. Words follow each other
/// from the leftmost site, left-aligned in the key, so the constant sites after the last
/// non-constant one are the key's trailing zeros and never need writing, and constant sites in
/// front are its leading zeros: shifting them out puts a translation class in its standard
/// position for free. A degree-l site costs at most 3l + 1 bits, so a product of total degree D
/// on w sites fits when w + 3D ≤ 128.
public enum HarmonicKey {
  /// Bits of the order field of a degree-l site: enough for l + m in 0...2l.
  @inlinable
  public static func orderBits(_ l: Int) -> Int { l == 0 ? 0 : 64 - UInt64(2 * l).leadingZeroBitCount }

  /// The word of harmonic k, right-aligned, and its length in bits.
  @inlinable
  public static func word(_ k: Int) -> (bits: UInt128, length: Int) {
    if k == 0 { return (0, 1) }
    let (l, m) = SphericalHarmonicTables.degreeAndOrder(k)
    let ob = orderBits(l)
    let unary = (UInt128(1) << UInt128(l + 1)) - 2  // l ones, then a zero
    return ((unary << UInt128(ob)) | UInt128(l + m), l + 1 + ob)
  }

  /// The key of site harmonics `ks` (site 0 first), or nil if it needs more than 128 bits.
  public static func encode<C: Collection>(_ ks: C) -> UInt128? where C.Element == UInt16 {
    var bits: UInt128 = 0
    var length = 0
    for k in ks {
      let w = word(Int(k))
      length += w.length
      guard length <= 128 else { return nil }
      bits = (bits << UInt128(w.length)) | w.bits
    }
    return length == 0 ? 0 : bits << UInt128(128 - length)
  }

  /// The site harmonics of `key`, up to its last non-constant site (constant sites in front kept).
  public static func decode(_ key: UInt128) -> [UInt16] {
    var out: [UInt16] = []
    decode(key) { out.append($0) }
    return out
  }

  /// Calls `site(k)` for each site of `key` in order, up to the last non-constant site.
  @inlinable
  public static func decode(_ key: UInt128, _ site: (UInt16) -> Void) {
    var x = key
    while x != 0 {
      let l = (~x).leadingZeroBitCount
      x = x << UInt128(l + 1)
      if l == 0 {
        site(0)
        continue
      }
      let ob = orderBits(l)
      let v = Int(x >> UInt128(128 - ob))
      x = x << UInt128(ob)
      site(UInt16(l * l + v))
    }
  }
}
