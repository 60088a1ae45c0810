import Foundation

/// One series of a chart.
public struct ChartSeries: Sendable {
  public var name: String
  public var points: [(x: Double, y: Double)]
  public var style: Style
  /// Join consecutive points with braille segments (a line) or show the points alone.
  public var connected: Bool
  /// The line's pattern: what tells series apart without colour (the legend shows it).
  public var pattern: LinePattern

  public init(
    name: String, points: [(x: Double, y: Double)], style: Style = .plain, connected: Bool = true,
    pattern: LinePattern = .solid
  ) {
    self.name = name
    self.points = points
    self.style = style
    self.connected = connected
    self.pattern = pattern
  }

  /// The series with only its points inside `xRange`: what a zoomed chart fits its y range to.
  public func within(_ xRange: ClosedRange<Double>) -> ChartSeries {
    var visible = self
    visible.points = points.filter { xRange.contains($0.x) }
    return visible
  }
}

/// A band between two curves, drawn under the series.
///
/// For example ±2 standard errors about an estimate.
public struct ChartBand: Sendable {
  public var samples: [(x: Double, low: Double, high: Double)]
  public var style: Style

  public init(samples: [(x: Double, low: Double, high: Double)], style: Style = .plain) {
    self.samples = samples
    self.style = style
  }
}

/// A stretch of the x axis shaded as not to be trusted, with a boundary line and a legend entry.
///
/// Drawn under everything as a sparse stipple (one dot in every other cell, `⡀`), so it reads
/// without colour and the series over it stay clear.
public struct ChartRegion: Sendable {
  public var from: Double
  public var to: Double
  public var name: String
  public var style: Style

  public init(from: Double, to: Double, name: String, style: Style = .plain) {
    self.from = from
    self.to = to
    self.name = name
    self.style = style
  }

  /// The legend's sample of the stipple.
  public static let sample = "⡀ "
}

/// A braille line chart with axes, ticks and a legend, laid out before anything is drawn.
///
/// Series are listed most important first: the legend follows that order and the first series
/// is drawn last, on top of the others. Each has a line pattern, so they read without colour.
///
/// Either axis may be logarithmic (non-positive values are then dropped). Ticks are "nice"
/// numbers (1, 2, 5 × 10^k) on a linear axis and decades on a log axis. The chart draws only
/// inside the area it is given; in an area too small for axes it draws the plot alone, and in
/// an empty area nothing.
public struct Chart: Sendable {
  public var series: [ChartSeries]
  public var xRange: ClosedRange<Double>
  public var yRange: ClosedRange<Double>
  public var logY: Bool
  /// A logarithmic x axis: series, bands and markers at x ≤ 0 are dropped.
  public var logX = false
  public var axisStyle: Style
  public var labelStyle: Style
  /// Vertical markers, drawn as dotted columns.
  ///
  /// For example the forecast prefix k.
  public var markers: [(x: Double, style: Style)]
  /// Filled bands, drawn after the markers and before every series, so the series stay on top.
  public var bands: [ChartBand] = []
  /// Shaded stretches of x, drawn first of all, listed in the legend after the series.
  public var regions: [ChartRegion] = []
  /// Quadrant blocks instead of braille (for fonts that lack braille).
  public var blockGlyphs = false

  public init(
    series: [ChartSeries], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, logY: Bool = false,
    axisStyle: Style = .plain, labelStyle: Style = .plain, markers: [(x: Double, style: Style)] = []
  ) {
    self.series = series
    self.xRange = xRange
    self.yRange = yRange
    self.logY = logY
    self.axisStyle = axisStyle
    self.labelStyle = labelStyle
    self.markers = markers
  }

  /// Ranges that hold every point of `series` (with y from 0 on a linear axis).
  public static func fittedRanges(_ series: [ChartSeries], logY: Bool, logX: Bool = false) -> (
    ClosedRange<Double>, ClosedRange<Double>
  ) {
    let points = series.flatMap(\.points).filter {
      $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) && (!logX || $0.x > 0)
    }
    guard let first = points.first else { return (0...1, logY ? 1...10 : 0...1) }
    var (x0, x1, y0, y1) = (first.x, first.x, first.y, first.y)
    for p in points {
      x0 = min(x0, p.x)
      x1 = max(x1, p.x)
      y0 = min(y0, p.y)
      y1 = max(y1, p.y)
    }
    if !logY { y0 = min(0, y0) }
    if x1 <= x0 { x1 = logX ? x0 * 10 : x0 + 1 }
    if y1 <= y0 { y1 = logY ? y0 * 10 : y0 + 1 }
    return (x0...x1, y0...y1)
  }

  /// Tick values: nice numbers covering `range`, about `target` of them.
  public static func ticks(_ range: ClosedRange<Double>, target: Int) -> [Double] {
    let span = range.upperBound - range.lowerBound
    guard span > 0, target > 0 else { return [range.lowerBound] }
    let raw = span / Double(target)
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var values: [Double] = []
    var v = ceil(range.lowerBound / step) * step
    while v <= range.upperBound + step * 1e-9 {
      values.append(abs(v) < step * 1e-9 ? 0 : v)
      v += step
    }
    return values
  }

  /// Ticks of a log axis over log10 values `range`: the decades inside it ("1e-2"), and when
  /// fewer than two decades fall inside, 1, 2 and 5 times the powers of ten as well, so a
  /// range within a decade or two still gets several labelled ticks.
  public static func logTicks(_ range: ClosedRange<Double>) -> [(position: Double, label: String)] {
    guard range.lowerBound.isFinite, range.upperBound.isFinite else { return [] }
    let low = Int(floor(range.lowerBound))
    let high = Int(ceil(range.upperBound))
    let decades = (low...max(low, high)).map(Double.init).filter { range.contains($0) }
    if decades.count >= 2 { return decades.map { ($0, "1e\(Int($0))") } }
    var ticks: [(position: Double, label: String)] = []
    for k in low...max(low, high) {
      for m in [1.0, 2, 5] {
        let value = m * Foundation.pow(10, Double(k))
        let position = Foundation.log10(value)
        if range.contains(position) { ticks.append((position, label(value))) }
      }
    }
    return ticks
  }

  /// Short labels: 0, 25, 1.5, 2e+03.
  public static func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    if abs(v) >= 1e4 || abs(v) < 1e-2 { return String(format: "%.0e", v) }
    if v == v.rounded() { return String(Int(v)) }
    return String(format: "%.3g", v)
  }

  public func render(into buffer: inout CellBuffer, area: Rect) {
    let area = area.intersection(buffer.area)
    guard !area.isEmpty else { return }
    let yLow = logY ? log10(max(yRange.lowerBound, .leastNormalMagnitude)) : yRange.lowerBound
    let yHigh = logY ? log10(max(yRange.upperBound, .leastNormalMagnitude)) : yRange.upperBound
    let yMapped = yLow...max(yHigh, yLow + 1e-12)
    let logTicks = logY ? Self.logTicks(yMapped) : []
    let yTicks: [Double] = logY ? logTicks.map(\.position) : Self.ticks(yRange, target: max(1, area.height / 3))
    let yLabels = logY ? logTicks.map(\.label) : yTicks.map { Self.label($0) }
    // A log x axis maps every x to log10 x: the canvas, the bands and the markers see the same.
    func mapX(_ x: Double) -> Double? { logX ? (x > 0 ? log10(x) : nil) : x }
    let xMapped: ClosedRange<Double> = {
      guard logX else { return xRange }
      let low = log10(max(xRange.lowerBound, .leastNormalMagnitude))
      return low...max(log10(max(xRange.upperBound, .leastNormalMagnitude)), low + 1e-12)
    }()
    let gutter = (yLabels.map(\.count).max() ?? 1) + 1
    // Too small for axes: plot alone.
    let withAxes = area.width > gutter + 4 && area.height > 3
    let plot =
      withAxes
      ? Rect(x: area.x + gutter, y: area.y, width: area.width - gutter, height: area.height - 2) : area
    var canvas = BrailleCanvas(width: plot.width, height: plot.height)
    canvas.blockGlyphs = blockGlyphs
    let xScale = Double(max(canvas.dotWidth - 1, 1)) / max(xMapped.upperBound - xMapped.lowerBound, .leastNormalMagnitude)
    var regionMarkers: [(x: Double, style: Style)] = []
    var shownRegions: [ChartRegion] = []
    for region in regions {
      guard let from = mapX(max(region.from, xRange.lowerBound)), let to = mapX(min(region.to, xRange.upperBound)), from < to
      else { continue }
      // The lower-left dot of every other cell, in a checkerboard, over the region's columns.
      var dots: [(x: Int, y: Int)] = []
      for column in 0..<canvas.width {
        let x = xMapped.lowerBound + Double(2 * column) / xScale
        guard x >= from, x <= to else { continue }
        for row in 0..<canvas.height where (column + row) % 2 == 0 { dots.append((2 * column, 4 * row)) }
      }
      canvas.addLayer(dots: dots, style: region.style)
      shownRegions.append(region)
      if region.from > xRange.lowerBound { regionMarkers.append((region.from, region.style)) }
    }
    for marker in markers + regionMarkers {
      guard let x = mapX(marker.x) else { continue }
      let points = stride(from: 0, to: canvas.dotHeight, by: 2).map { (x: x, y: Double($0)) }
      canvas.addLayer(
        points: points, xRange: xMapped, yRange: 0...Double(max(canvas.dotHeight - 1, 1)), style: marker.style)
    }
    for band in bands {
      let samples = band.samples.compactMap { s -> (x: Double, low: Double, high: Double)? in
        guard let x = mapX(s.x) else { return nil }
        guard logY else { return (x, s.low, s.high) }
        guard s.high > 0 else { return nil }
        return (x, log10(max(s.low, yRange.lowerBound, .leastNormalMagnitude)), log10(s.high))
      }
      canvas.addBand(samples: samples, xRange: xMapped, yRange: yMapped, style: band.style)
    }
    // The first series is drawn last, on top: callers list the truth first.
    for s in series.reversed() {
      let points = s.points.compactMap { p -> (x: Double, y: Double)? in
        guard let x = mapX(p.x) else { return nil }
        if logY { return p.y > 0 ? (x, log10(p.y)) : nil }
        return (x, p.y)
      }
      canvas.addLayer(
        points: points, xRange: xMapped, yRange: yMapped, style: s.style, connect: s.connected, pattern: s.pattern)
    }
    canvas.render(into: &buffer, at: plot)
    guard withAxes else { return }

    // Y axis: line and labels at the tick rows.
    for row in plot.y..<plot.bottom { buffer[plot.x - 1, row] = Cell("│", style: axisStyle) }
    for (tick, label) in zip(yTicks, yLabels) {
      let f = (tick - yMapped.lowerBound) / (yMapped.upperBound - yMapped.lowerBound)
      let row = plot.bottom - 1 - Int((f * Double(plot.height - 1)).rounded())
      guard row >= plot.y, row < plot.bottom else { continue }
      buffer.setString(x: plot.x - 1 - label.count, y: row, label, style: labelStyle)
      buffer[plot.x - 1, row] = Cell("┤", style: axisStyle)
    }
    // X axis: line, ticks and labels that do not overlap.
    let axisRow = plot.bottom
    buffer[plot.x - 1, axisRow] = Cell("└", style: axisStyle)
    for column in plot.x..<plot.right { buffer[column, axisRow] = Cell("─", style: axisStyle) }
    var nextFree = plot.x
    // On a log x axis the ticks are those of a log y axis, labelled by value (1, 10, 100).
    let xTicks: [(position: Double, label: String)] =
      logX
      ? Self.logTicks(xMapped).map { ($0.position, Self.label(pow(10, $0.position))) }
      : Self.ticks(xRange, target: max(1, plot.width / 10)).map { ($0, Self.label($0)) }
    for (tick, label) in xTicks {
      let f = (tick - xMapped.lowerBound) / (xMapped.upperBound - xMapped.lowerBound)
      let column = plot.x + Int((f * Double(plot.width - 1)).rounded())
      guard column < plot.right else { continue }
      buffer[column, axisRow] = Cell("┬", style: axisStyle)
      let start = min(max(column - label.count / 2, plot.x), plot.right - label.count)
      guard start >= nextFree else { continue }
      buffer.setString(x: start, y: axisRow + 1, label, style: labelStyle)
      nextFree = start + label.count + 1
    }
    // Legend, top right inside the plot: the series' line as drawn (pattern and colour, so it
    // reads without colour too) and the name; unnamed series have none. Shaded regions follow.
    let entries =
      series.filter { !$0.name.isEmpty }.map { s in
        (marker: blockGlyphs ? "██" : (s.connected ? s.pattern.sample : "⠁⠈"), name: s.name, style: s.style)
      } + shownRegions.filter { !$0.name.isEmpty }.map { (marker: ChartRegion.sample, name: $0.name, style: $0.style) }
    for (i, entry) in entries.enumerated() where i < plot.height {
      let text = entry.marker + " " + entry.name
      let x = max(plot.x, plot.right - text.count)
      buffer.setString(x: x, y: plot.y + i, entry.marker, style: entry.style)
      buffer.setString(x: x + 2, y: plot.y + i, String(text.dropFirst(2)), style: labelStyle, maxWidth: plot.right - x - 2)
    }
  }
}
