import Foundation
import KrylovEngine

/// The system the user has chosen: what a run computes, and the forecast's prefix.
///
/// The editor's state of a `SpinChain`: it keeps the model and its parameters while a custom
/// Hamiltonian replaces them, so clearing the text brings them back. Its defaults are
/// `RunDefaults`, the command line's too.
public struct SystemSettings: Equatable, Sendable {
  /// Quantum (Pauli operators) or classical (unit vectors) spins, physics.md §6.
  public var spins: SpinKind = .quantum
  public var model: ModelName = RunDefaults.model
  public var parameters: [String: Double] = [:]
  public var size: ChainSize = RunDefaults.of(.quantum).size
  public var boundary: Boundary = RunDefaults.boundary
  public var operatorName: OperatorName = RunDefaults.operatorName
  public var steps = RunDefaults.of(.quantum).steps
  /// k: the forecast starts from b_1..b_k.
  public var prefix = RunDefaults.of(.quantum).prefix
  /// A custom Hamiltonian unit cell, which replaces the model when set.
  ///
  /// For example `1.0*Z0Z1 + -1.05*X0`.
  public var hamiltonianText: String?
  /// A custom operator (replaces the named one when set), translated over the chain.
  public var operatorText: String?

  public init() { resetParameters() }

  /// Settings that describe `chain`, with the steps and prefix of its spins' defaults.
  public init(chain: SpinChain) {
    spins = chain.spins
    let defaults = RunDefaults.of(spins)
    steps = defaults.steps
    prefix = defaults.prefix
    size = chain.size
    boundary = chain.boundary ?? RunDefaults.boundary
    switch chain.model {
    case .builtIn(let name, let p):
      model = name
      parameters = p
    case .custom(let text):
      resetParameters()
      hamiltonianText = text
    }
    switch chain.op {
    case .builtIn(let name): operatorName = name
    case .custom(let terms, _): operatorText = terms
    }
  }

  /// The model's defaults for every parameter.
  public mutating func resetParameters() { parameters = model.defaultParameters }

  /// The chain these settings describe, or the reason they are invalid.
  public func chain() throws(SystemError) -> SpinChain {
    // Custom texts replace the model (its parameters then do not apply) or the operator.
    try SpinChain(
      spins: spins,
      model: hamiltonianText.map { .custom(unitCell: $0) } ?? .builtIn(model, parameters: parameters),
      operator: operatorText.map { .custom(terms: $0, translated: true) } ?? .builtIn(operatorName),
      geometry: ChainGeometry(size: size, boundary: boundary))
  }

  /// Whether the chain is the infinite one.
  public var isInfinite: Bool { size == .infinite }

  /// Switches between quantum and classical spins, with each kind's defaults for the size,
  /// the steps and the prefix (`RunDefaults`).
  public mutating func toggleSpins() {
    spins = spins == .quantum ? .classical : .quantum
    let defaults = RunDefaults.of(spins)
    size = defaults.size
    steps = defaults.steps
    prefix = defaults.prefix
  }

  /// The forecast horizon M: as far as the run goes, and at least 50 beyond the prefix.
  public var horizon: Int { max(steps, prefix + 50) }
}

/// One editable row of the system pane.
public enum SettingField: Hashable, Sendable {
  case spins
  case model
  case parameter(String)
  case size
  case boundary
  case operatorName
  case steps
  case prefix
  case hamiltonianText
  case operatorText

  public var label: String {
    switch self {
    case .spins: "spins"
    case .model: "model"
    case .parameter(let name): name
    case .size: "N"
    case .boundary: "boundary"
    case .operatorName: "operator"
    case .steps: "steps"
    case .prefix: "prefix k"
    case .hamiltonianText: "custom H"
    case .operatorText: "custom O"
    }
  }

  /// Whether Enter opens a text field (numbers or operator text) rather than cycling choices.
  public var isTyped: Bool {
    switch self {
    case .parameter, .size, .steps, .prefix, .hamiltonianText, .operatorText: true
    default: false
    }
  }
}

extension SystemSettings {
  /// The rows of the system pane, in order.
  public var fields: [SettingField] {
    [.spins, .model] + model.parameters.map { .parameter($0.name) }
      + [.size, .boundary, .operatorName, .steps, .prefix, .hamiltonianText, .operatorText]
  }

  /// The value of a field as shown.
  public func text(for field: SettingField) -> String {
    switch field {
    case .spins: spins.rawValue
    case .model: model.rawValue
    case .parameter(let name): formatNumber(parameters[name] ?? 0)
    case .size: size.description
    case .boundary: isInfinite ? "none" : boundary.rawValue
    case .operatorName: operatorName.rawValue
    case .steps: "\(steps)"
    case .prefix: "\(prefix)"
    case .hamiltonianText: hamiltonianText ?? "—"
    case .operatorText: operatorText ?? "—"
    }
  }

  /// Moves a field one notch (−1 or +1): cycles choices, nudges numbers.
  ///
  /// N steps past the largest finite size into the infinite chain.
  public mutating func nudge(_ field: SettingField, by direction: Int) {
    func cycle<T: CaseIterable & Equatable>(_ value: T) -> T {
      let all = Array(T.allCases)
      guard let i = all.firstIndex(of: value) else { return value }
      return all[(i + direction + all.count) % all.count]
    }
    switch field {
    case .spins: toggleSpins()
    case .model:
      model = cycle(model)
      resetParameters()
    case .parameter(let name):
      // Steps of 0.05, landing on the grid of hundredths.
      parameters[name] = (((parameters[name] ?? 0) + 0.05 * Double(direction)) * 100).rounded() / 100
    case .size:
      switch size {
      case .infinite:
        if direction < 0 { size = .finite(Self.largestFiniteSize) }
      case .finite(let n):
        size = direction > 0 && n >= Self.largestFiniteSize ? .infinite : .finite(max(2, n + direction))
      }
    case .boundary: boundary = boundary == .pbc ? .obc : .pbc
    case .operatorName: operatorName = cycle(operatorName)
    case .steps: steps = max(10, steps + 50 * direction)
    case .prefix: prefix = min(100_000, max(10, prefix + 5 * direction))
    case .hamiltonianText: hamiltonianText = nil  // ←/→ clear a custom text
    case .operatorText: operatorText = nil
    }
  }

  /// Sets a numeric field from text; returns the reason when the text is refused.
  public mutating func set(_ field: SettingField, text: String) -> String? {
    let t = text.trimmingCharacters(in: .whitespaces)
    switch field {
    case .parameter(let name):
      guard let v = Double(t), v.isFinite else { return "\(name) must be a number (got '\(t)')" }
      parameters[name] = v
    case .size:
      switch ChainSize(text: t) {
      case .infinite: size = .infinite
      case .finite(let n) where n >= 2 && n <= SpinChain.maximumSize: size = .finite(n)
      default: return "N must be a whole number from 2 to \(SpinChain.maximumSize), or inf (got '\(t)')"
      }
    case .steps:
      guard let n = Int(t), n >= 1, n <= 100_000 else { return "steps must be a whole number from 1 to 100000 (got '\(t)')" }
      steps = n
    case .prefix:
      guard let n = Int(t), n >= 10, n <= 100_000 else {
        return "prefix k must be a whole number from 10 to 100000 (got '\(t)')"
      }
      prefix = n
    case .hamiltonianText, .operatorText:
      let old = self
      let value = t.isEmpty ? nil : t
      if field == .hamiltonianText { hamiltonianText = value } else { operatorText = value }
      // Parsed now, so a typo is refused here with the parser's pointer to it.
      do { _ = try chain() } catch {
        self = old
        return error.description
      }
    default:
      return "this field is chosen with ←/→"
    }
    return nil
  }

  /// The largest N the +/− keys step through before the infinite chain.
  public static let largestFiniteSize = 16
}

/// Compact numbers for the panes: up to 4 significant digits.
func formatNumber(_ x: Double) -> String {
  if x == x.rounded() && abs(x) < 1e6 { return String(Int(x)) }
  var s = String(format: "%.4g", x)
  if s.contains("e") { return s }
  while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
  return s
}
