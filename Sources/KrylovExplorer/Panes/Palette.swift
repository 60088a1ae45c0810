import KrylovTUI

/// The styles the panes draw with, taken from a theme once per frame.
struct Palette {
  let text, title, highlight, selected, inactive, graphText, border, focusedBorder, warning: Style
  let coeff, untrusted, forecast, fit, ar, observable: Style
  /// A pinned run's b_n: the end of the computed b_n's gradient.
  let pinned: Style
  /// The simulated (molecular-dynamics) C(t): its points, and its ±2σ band drawn under everything.
  let md, mdBand: Style
  /// The transformer's calibrated band, drawn under the series.
  let forecastBand: Style
  let attention: [Color]
  let delta: [Color]
  /// Each pane's outline when it is not focused (`system_box` … `heads_box`).
  let boxes: [Pane: Style]

  init(_ theme: Theme) {
    let bg = theme.color("main_bg")
    func fg(_ key: String, bold: Bool = false) -> Style { Style(foreground: theme.color(key), background: bg, bold: bold) }
    func grad(_ name: String, _ i: Int) -> Style { Style(foreground: theme.gradient(name)[i], background: bg) }
    text = fg("main_fg")
    title = fg("title", bold: true)
    highlight = fg("hi_fg", bold: true)
    selected = Style(foreground: theme.color("selected_fg"), background: theme.color("selected_bg"), bold: true)
    inactive = fg("inactive_fg")
    graphText = fg("graph_text")
    border = fg("div_line")
    focusedBorder = fg("hi_fg")
    warning = Style(foreground: theme.gradient("delta")[100], background: bg, bold: true)
    coeff = grad("coeff", 0)
    pinned = grad("coeff", 100)
    untrusted = Style(foreground: theme.color("inactive_fg"), background: bg, dim: true)
    forecast = grad("forecast", 0)
    fit = grad("fit", 0)
    ar = grad("observable", 50)
    observable = grad("observable", 0)
    md = grad("md", 100)
    mdBand = grad("md", 0)
    forecastBand = Style(foreground: theme.gradient("forecast")[100], background: bg, dim: true)
    attention = theme.gradient("attention")
    delta = theme.gradient("delta")
    let keys: [Pane: String] = [
      .system: "system_box", .coefficients: "coeff_box", .observables: "observable_box", .attention: "attention_box",
      .ablation: "heads_box",
    ]
    boxes = keys.mapValues { fg($0) }
  }
}

/// Draws the pane's frame, highlighted when focused; returns the inner area.
func paneFrame(_ pane: Pane, focused: Bool, palette: Palette, into buffer: inout CellBuffer, area: Rect, title: String? = nil)
  -> Rect
{
  Block(
    title: title ?? pane.title, borderStyle: focused ? palette.focusedBorder : palette.boxes[pane] ?? palette.border,
    titleStyle: focused ? palette.highlight : palette.title
  ).render(into: &buffer, area: area)
  return Block.inner(area)
}

/// A pane title from its parts, as many whole ones as the top border of a pane `width` wide
/// holds ("…" for the rest), so a number in it is never cut.
func paneTitle(_ parts: [String], width: Int) -> String {
  TextFit.join(parts, separator: "  ", width: max(0, width - 6))
}
