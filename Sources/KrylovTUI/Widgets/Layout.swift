/// Splits of a rectangle into rows or columns.
public enum Layout {
  /// Splits `area` into columns of the given widths; a width of nil takes an equal share of what is left.
  public static func columns(_ area: Rect, _ widths: [Int?]) -> [Rect] {
    let sizes = distribute(area.width, widths)
    var x = area.x
    return sizes.map { w in
      defer { x += w }
      return Rect(x: x, y: area.y, width: w, height: area.height)
    }
  }

  /// Splits `area` into rows of the given heights; nil takes an equal share of what is left.
  public static func rows(_ area: Rect, _ heights: [Int?]) -> [Rect] {
    let sizes = distribute(area.height, heights)
    var y = area.y
    return sizes.map { h in
      defer { y += h }
      return Rect(x: area.x, y: y, width: area.width, height: h)
    }
  }

  static func distribute(_ total: Int, _ parts: [Int?]) -> [Int] {
    let fixed = parts.compactMap { $0 }.reduce(0, +)
    let flexible = parts.filter { $0 == nil }.count
    let rest = max(0, total - fixed)
    var flexSeen = 0
    var wanted: [Int] = parts.map { part in
      if let p = part { return max(0, p) }
      flexSeen += 1
      let share = rest / max(1, flexible)
      return flexSeen == flexible ? rest - share * (flexible - 1) : share
    }
    // Clip in order when the fixed parts alone overflow the total.
    var left = total
    for i in wanted.indices {
      wanted[i] = min(wanted[i], max(0, left))
      left -= wanted[i]
    }
    return wanted
  }
}
