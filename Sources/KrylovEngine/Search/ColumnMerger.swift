/// Per-thread merge of one element's image: sums the values per key and tracks Σ|parts|, so a
/// sum that cancels to rounding (an analytically zero element) can be dropped.
struct ColumnMerger {
  private var keys: [UInt128]
  private var values: [Double]
  private var magnitudes: [Double]
  private var used: [Int] = []
  private var mask: Int

  init() {
    keys = [UInt128](repeating: 0, count: 1024)
    values = [Double](repeating: 0, count: 1024)
    magnitudes = [Double](repeating: 0, count: 1024)
    mask = 1023
  }

  /// Adds one contribution (key 0 is never a basis element, and marks an empty slot).
  mutating func add(_ key: UInt128, _ value: Double) {
    if 2 * (used.count + 1) > keys.count { grow() }
    var slot = Int(truncatingIfNeeded: KeyIndexTable.hash(key)) & mask
    while true {
      let k = keys[slot]
      if k == key {
        values[slot] += value
        magnitudes[slot] += abs(value)
        return
      }
      if k == 0 {
        keys[slot] = key
        values[slot] = value
        magnitudes[slot] = abs(value)
        used.append(slot)
        return
      }
      slot = (slot + 1) & mask
    }
  }

  /// Calls `body` for each (key, sum) in first-seen order, leaving out sums with |sum| ≤
  /// `tolerance` · Σ|parts| (exact zeros when `tolerance` is 0), then empties the merger.
  mutating func drain(tolerance: Double, _ body: (UInt128, Double) -> Void) {
    for slot in used {
      let v = values[slot]
      if tolerance == 0 ? v != 0 : abs(v) > tolerance * magnitudes[slot] { body(keys[slot], v) }
      keys[slot] = 0
    }
    used.removeAll(keepingCapacity: true)
  }

  private mutating func grow() {
    let old = used.map { (keys[$0], values[$0], magnitudes[$0]) }
    let capacity = keys.count * 2
    keys = [UInt128](repeating: 0, count: capacity)
    values = [Double](repeating: 0, count: capacity)
    magnitudes = [Double](repeating: 0, count: capacity)
    mask = capacity - 1
    used.removeAll(keepingCapacity: true)
    for (k, v, m) in old {
      var slot = Int(truncatingIfNeeded: KeyIndexTable.hash(k)) & mask
      while keys[slot] != 0 { slot = (slot + 1) & mask }
      keys[slot] = k
      values[slot] = v
      magnitudes[slot] = m
      used.append(slot)
    }
  }
}
