import Foundation
import KrylovEngine
import KrylovTUI

/// C(t) from the computed coefficients and from prefix + each forecast, with the errors; K(t)
/// beside it when the pane is wide enough.
enum ObservablesPane {
  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let inner = paneFrame(.observables, focused: state.focus == .observables, palette: palette, into: &buffer, area: area)
    guard inner.width > 4, inner.height > 3 else { return }
    guard let curves = state.observables, let tmax = curves.times.last else {
      buffer.setString(x: inner.x + 1, y: inner.y, "C(t) appears with the first coefficients", style: palette.inactive, maxWidth: inner.width - 1)
      return
    }
    var cSeries: [ChartSeries] = []
    var kSeries: [ChartSeries] = []
    for curve in curves.curves {
      let style = curve.source == .computed ? palette.coeff : curve.source == .transformer ? palette.forecast : palette.fit
      let name = curve.source.rawValue
      cSeries.append(ChartSeries(name: "C " + name, points: Array(zip(curves.times, curve.c)).map { ($0.0, $0.1) }, style: style))
      kSeries.append(ChartSeries(name: "K " + name, points: Array(zip(curves.times, curve.k)).map { ($0.0, $0.1) }, style: style))
    }
    let rows = Layout.rows(inner, [nil, 1])
    let columns = inner.width >= 60 ? Layout.columns(rows[0], [nil, nil]) : [rows[0]]
    var cChart = Chart(series: cSeries, xRange: 0...tmax, yRange: -1...1, axisStyle: palette.border, labelStyle: palette.graphText)
    cChart.blockGlyphs = state.blockGlyphs
    cChart.render(into: &buffer, area: columns[0])
    if columns.count > 1 {
      let (x, y) = Chart.fittedRanges(kSeries, logY: false)
      var kChart = Chart(series: kSeries, xRange: x, yRange: y, axisStyle: palette.border, labelStyle: palette.graphText)
      kChart.blockGlyphs = state.blockGlyphs
      kChart.render(into: &buffer, area: columns[1])
    }
    var line = ""
    if let e = state.forecast?.errors {
      line = String(
        format: "max|ΔC| t≤%.3g: transformer %.2g, fit %.2g, AR %.2g", e.windowEnd, e.autocorrelation["transformer"] ?? .nan,
        e.bestFitAutocorrelation, e.autocorrelation["linear_ar"] ?? .nan)
    } else if state.forecast != nil {
      line = "errors appear when the run reaches the horizon M = \(state.settings.horizon)"
    }
    buffer.setString(x: rows[1].x + 1, y: rows[1].y, line, style: palette.graphText, maxWidth: rows[1].width - 1)
  }
}
