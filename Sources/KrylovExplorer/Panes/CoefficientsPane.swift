import Foundation
import KrylovEngine
import KrylovTUI

/// b_n as it streams in, the transformer's forecast from the prefix k over its calibrated band,
/// the best asymptotic fit and the linear AR baseline, with a marker at k, and a pinned run's b_n
/// beside them; all in one view (b_n, b_n/n or log-log), named in the title and the legend.
enum CoefficientsPane {
  static func render(_ state: ExplorerState, palette: Palette, into buffer: inout CellBuffer, area: Rect) {
    let run = state.run
    var parts = [Pane.coefficients.title]
    if run.secondsPerStep > 0 { parts.append(String(format: "%.1f b_n/s", 1 / run.secondsPerStep)) }
    if run.estimatedBytes > 0 { parts.append("mem ≈ " + formatBytes(run.estimatedBytes)) }
    let view = state.coefficientView
    if view != .plain { parts.append(view.rawValue) }
    let logY = state.logY || view.logAxes
    if state.logY && !view.logAxes { parts.append("log y") }
    if state.coefficientZoom.isZoomed { parts.append("zoomed (0: all)") }
    let inner = paneFrame(
      .coefficients, focused: state.focus == .coefficients, palette: palette, into: &buffer, area: area,
      title: paneTitle(parts, width: area.width))
    guard inner.width > 4, inner.height > 2 else { return }
    let series = self.series(state, palette: palette)
    guard !series.isEmpty else {
      // The automatic first run is already under way: say what it is doing, not "press s".
      let hint =
        run.status.isActive
        ? "\(run.status.label)… b_n appear as they are computed" : "press s to compute b_n for the system on the left"
      buffer.setString(
        x: inner.x + 1, y: inner.y, TextFit.truncate(hint, width: inner.width - 1), style: palette.inactive)
      return
    }
    // The y range follows the coefficients and the transformer; a fit that runs away (as linear
    // growth does past a finite chain's plateau) leaves through the top instead of flattening
    // everything else.
    let primary = series.filter { !$0.name.hasPrefix("fit") && $0.name != "linear AR" }
    var (xRange, yRange) = Chart.fittedRanges(series, logY: logY, logX: view.logAxes)
    xRange = state.coefficientZoom.window(of: xRange, log: view.logAxes, minimumSpan: 1)
    // y follows what is visible: zoomed in, the window's own values fill the height.
    let visible = (primary.isEmpty ? series : primary).map { $0.within(xRange) }
    let (_, primaryY) = Chart.fittedRanges(
      visible.contains { !$0.points.isEmpty } ? visible : (primary.isEmpty ? series : primary), logY: logY)
    yRange = primaryY.lowerBound...(logY ? primaryY.upperBound * 2 : primaryY.upperBound * 1.15)
    let markers: [(x: Double, style: Style)] = state.forecast != nil ? [(Double(state.settings.prefix), palette.forecast)] : []
    var chart = Chart(
      series: series, xRange: xRange, yRange: yRange, logY: logY, axisStyle: palette.border,
      labelStyle: palette.graphText, markers: markers)
    chart.logX = view.logAxes
    if let f = state.forecast, let band = f.methods.band {
      let k = f.methods.prefix.count
      chart.bands = [
        ChartBand(
          samples: band.lower.indices.map { i in
            let n = Double(k + 1 + i)
            return (n, view.value(band.lower[i], at: n), view.value(band.upper[i], at: n))
          }, style: palette.forecastBand)
      ]
    }
    chart.blockGlyphs = state.blockGlyphs
    chart.render(into: &buffer, area: inner)
  }

  /// Every series in the chart's view: b_first, b_first+1, … at n = first, first + 1, ….
  static func series(_ state: ExplorerState, palette: Palette) -> [ChartSeries] {
    let view = state.coefficientView
    func points(_ v: some Collection<Double>, first: Int) -> [(x: Double, y: Double)] {
      v.enumerated().map { i, b in
        let n = Double(first + i)
        return (n, view.value(b, at: n))
      }
    }
    let b = state.run.coefficients
    var out: [ChartSeries] = []
    let trusted = state.run.trustedCount
    if trusted > 0 {
      out.append(ChartSeries(name: view.seriesName, points: points(b[0..<trusted], first: 1), style: palette.coeff))
    }
    if b.count > trusted {
      out.append(
        ChartSeries(
          name: "untrusted", points: points(b[trusted...], first: trusted + 1), style: palette.untrusted, connected: false))
    }
    if let f = state.forecast {
      let k = f.methods.prefix.count
      func ahead(_ v: [Double]) -> [(x: Double, y: Double)] { points(v, first: k + 1) }
      out.append(
        ChartSeries(name: "transformer", points: ahead(f.methods.transformer), style: palette.forecast, pattern: .dashed))
      if let best = f.methods.baselines.first(where: { $0.name == "best_fit" }) {
        out.append(
          ChartSeries(
            name: "fit " + (f.methods.bestFit?.formula ?? ""), points: ahead(best.values), style: palette.fit,
            pattern: .dotted))
      }
      if let ar = f.methods.baselines.first(where: { $0.name == "linear_ar" }) {
        out.append(ChartSeries(name: "linear AR", points: ahead(ar.values), style: palette.ar, pattern: .sparse))
      }
    }
    // A pinned run, listed last: drawn under the rest, in its own line.
    if let pinned = state.pinned {
      out.append(
        ChartSeries(
          name: pinned.legend, points: points(pinned.coefficients, first: 1), style: palette.pinned, pattern: .paired))
    }
    return out
  }
}
