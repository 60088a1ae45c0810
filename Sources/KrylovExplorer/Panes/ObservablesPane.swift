import Foundation
import KrylovEngine
import KrylovTUI

/// C(t) and K(t) from the computed coefficients and from prefix + each forecast, with the errors.
///
/// K(t) goes beside C(t) when the pane is wide enough, under it when it is tall enough. After a classical run, the molecular-dynamics C(t)
/// as points over its ±2σ band (on C(t) only: molecular dynamics gives no K(t)). The forecast's
/// C(t) lies over the range its b_n band gives. Where truncating the chain at n = M shows
/// (`ObservableCurves.convergence`), each chart is shaded with a stipple and says so in its legend.
enum ObservablesPane {
  /// Where C(t) and K(t) go in the pane's chart area: side by side when it is wide, K(t) under
  /// C(t) when it is narrow but tall enough, else C(t) alone.
  static func chartAreas(_ area: Rect) -> [Rect] {
    if area.width >= 60 { return Layout.columns(area, [nil, nil]) }
    if area.height >= 14 { return Layout.rows(area, [nil, nil]) }
    return [area]
  }

  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    // The title names what is drawn: K(t) only when there is room for it.
    let plotArea = Layout.rows(Block.inner(area), [nil, 1])[0]
    var titleParts = [chartAreas(plotArea).count > 1 ? Pane.observables.title : "observables C(t)"]
    if let simulation = state.simulation {
      if simulation.isRunning {
        var progress = "MD \(simulation.done * 100 / max(simulation.plan.samples, 1))%"
        if let left = simulation.secondsLeft, left >= 1 { progress += " ~" + RemainingTime.text(left) + " left" }
        titleParts.append(progress)
      } else if !state.showSimulation {
        titleParts.append("MD hidden (m)")
      }
    }
    if state.observablesZoom.isZoomed { titleParts.append("zoomed (0: all)") }
    let inner = paneFrame(
      .observables, focused: state.focus == .observables, palette: palette, into: &buffer, area: area,
      title: paneTitle(titleParts, width: area.width))
    guard inner.width > 4, inner.height > 3 else { return }
    guard let curves = state.observables, let tmax = curves.times.last else {
      buffer.setString(
        x: inner.x + 1, y: inner.y, "C(t) appears with the first coefficients", style: palette.inactive, maxWidth: inner.width - 1
      )
      return
    }
    var cSeries: [ChartSeries] = []
    var kSeries: [ChartSeries] = []
    for curve in curves.curves {
      // The same colour and line as the coefficients it comes from.
      let (style, pattern): (Style, LinePattern) =
        curve.source == .computed
        ? (palette.coeff, .solid) : curve.source == .transformer ? (palette.forecast, .dashed) : (palette.fit, .dotted)
      let name = curve.source.rawValue
      cSeries.append(
        ChartSeries(
          name: "C " + name, points: Array(zip(curves.times, curve.c)).map { ($0.0, $0.1) }, style: style, pattern: pattern))
      kSeries.append(
        ChartSeries(
          name: "K " + name, points: Array(zip(curves.times, curve.k)).map { ($0.0, $0.1) }, style: style, pattern: pattern))
    }
    let rows = Layout.rows(inner, [nil, 1])
    let columns = chartAreas(rows[0])
    var bands: [ChartBand] = []
    if let band = curves.forecastBand {
      bands.append(
        ChartBand(
          samples: curves.times.indices.map { (curves.times[$0], band.low[$0], band.high[$0]) }, style: palette.forecastBand))
    }
    if state.showSimulation, let md = state.simulation?.result {
      bands.append(
        ChartBand(
          samples: md.times.indices.map {
            (md.times[$0], md.values[$0] - 2 * md.standardErrors[$0], md.values[$0] + 2 * md.standardErrors[$0])
          },
          style: palette.mdBand))
      // Points about every other cell, listed last so they are drawn first, under the computed line.
      let visible = md.times.filter { $0 <= tmax }.count
      let stride = max(1, Int((Double(visible) / max(1, Double(columns[0].width - 4) / 2)).rounded(.up)))
      let points = Swift.stride(from: 0, to: md.times.count, by: stride).map { (x: md.times[$0], y: md.values[$0]) }
      cSeries.append(ChartSeries(name: md.plan.legend(samples: md.samples), points: points, style: palette.md, connected: false))
    }
    let xRange = state.observablesZoom.window(of: 0...tmax)
    // Past the convergence time the computed M coefficients no longer fix the curve.
    func truncation(after t: Double?) -> [ChartRegion] {
      guard let t, t < tmax else { return [] }
      return [ChartRegion(from: t, to: tmax, name: "truncated at M=\(curves.computedCount)", style: palette.untrusted)]
    }
    var cChart = Chart(
      series: cSeries, xRange: xRange, yRange: -1...1, axisStyle: palette.border, labelStyle: palette.graphText)
    cChart.bands = bands
    cChart.regions = truncation(after: curves.convergence?.autocorrelation)
    cChart.blockGlyphs = state.blockGlyphs
    cChart.render(into: &buffer, area: columns[0])
    if columns.count > 1 {
      // y follows the K(t) visible in the window.
      let (_, y) = Chart.fittedRanges(kSeries.map { $0.within(xRange) }, logY: false)
      var kChart = Chart(series: kSeries, xRange: xRange, yRange: y, axisStyle: palette.border, labelStyle: palette.graphText)
      kChart.regions = truncation(after: curves.convergence?.complexity)
      kChart.blockGlyphs = state.blockGlyphs
      kChart.render(into: &buffer, area: columns[1])
    }
    var parts: [String] = []
    var notice: String?
    if let e = state.forecast?.errors {
      parts.append(
        String(
          format: "max|ΔC| t≤%.3g: transformer %.2g, fit %.2g, AR %.2g", e.windowEnd, e.autocorrelation["transformer"] ?? .nan,
          e.autocorrelation["best_fit"] ?? .nan, e.autocorrelation["linear_ar"] ?? .nan))
    } else if state.forecast != nil {
      // A finished run that stopped short of M will never give errors: say so, not "wait".
      let M = state.settings.horizon
      let steps = state.run.settings?.steps ?? M
      if state.run.status.isActive && steps >= M {
        notice = "errors appear when the run reaches the horizon M = \(M)"
      } else if state.run.status.isActive {
        notice = "no errors: the run stops at n = \(steps) < M = \(M)"
      } else {
        notice = "no errors: trusted b_n end at n = \(state.run.trustedCount) < M = \(M)"
      }
    }
    if let simulation = state.simulation {
      if let md = simulation.result, state.showSimulation {
        if let a = md.agreement {
          parts.append(String(format: "MD vs computed t≤%.2g: max|ΔC| %.2g (%.1fσ)", a.windowEnd, a.maxDeviation, a.maxSigmas))
        } else {
          parts.append(String(format: "MD: 2σ ≤ %.2g", md.largestBand))
        }
      } else if let why = simulation.failure {
        parts.append("MD: " + why)
      }
    }
    if let notice { parts.append(notice) }
    let line = TextFit.join(parts, width: rows[1].width - 1)
    buffer.setString(x: rows[1].x + 1, y: rows[1].y, line, style: palette.graphText, maxWidth: rows[1].width - 1)
  }
}
