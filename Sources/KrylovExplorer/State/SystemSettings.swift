import Foundation
import KrylovEngine

/// The system the user has chosen: what a run computes, and the forecast's prefix.
public struct SystemSettings: Equatable, Sendable {
  /// Quantum (Pauli operators) or classical (unit vectors) spins, physics.md §6.
  public var spins: SpinKind = .quantum
  public var model: ModelName = .mfim
  public var parameters: [String: Double] = [:]
  public var size = 10
  public var infinite = false
  public var boundary: Boundary = .pbc
  public var operatorName: OperatorName = .szTotal
  public var steps = 200
  /// k: the forecast starts from b_1..b_k.
  public var prefix = 30
  /// A custom Hamiltonian unit cell (replaces the model when set), e.g. `1.0*Z0Z1 + -1.05*X0`.
  public var hamiltonianText: String?
  /// A custom operator (replaces the named one when set), translated over the chain.
  public var operatorText: String?

  public init() { resetParameters() }

  /// The model's defaults for every parameter.
  public mutating func resetParameters() {
    parameters = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.defaultValue) })
  }

  /// The chain these settings describe, or the reason they are invalid.
  public func chain() throws(SystemError) -> SpinChain {
    // Custom texts replace the model (its parameters then do not apply) or the operator.
    let custom = hamiltonianText != nil
    var chain: SpinChain
    if infinite {
      chain = try SpinChain.infiniteChain(
        model: custom ? nil : model, parameters: custom ? [:] : parameters, hamiltonianText: hamiltonianText,
        operator: operatorText == nil ? operatorName : nil, operatorText: operatorText, translateOperator: operatorText != nil)
    } else {
      chain = try SpinChain(
        model: custom ? nil : model, parameters: custom ? [:] : parameters, hamiltonianText: hamiltonianText, size: size,
        boundary: boundary, operator: operatorText == nil ? operatorName : nil, operatorText: operatorText,
        translateOperator: operatorText != nil)
    }
    chain.spins = spins
    return chain
  }

  /// Switches between quantum and classical spins. A classical chain's basis grows about 2.2
  /// times per step, so a couple of dozen coefficients is all that exists (physics.md §6): the
  /// switch sets the steps and the prefix to each kind's defaults, and classical runs start on
  /// the infinite chain.
  public mutating func toggleSpins() {
    spins = spins == .quantum ? .classical : .quantum
    switch spins {
    case .classical:
      steps = Self.classicalSteps
      prefix = Self.classicalPrefix
      infinite = true
    case .quantum:
      steps = 200
      prefix = 30
      infinite = false
    }
  }

  /// Classical defaults: 18 exact coefficients take seconds; the forecast starts from 10.
  public static let classicalSteps = 18
  public static let classicalPrefix = 10

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
    case .size: infinite ? "inf" : "\(size)"
    case .boundary: infinite ? "none" : boundary.rawValue
    case .operatorName: operatorName.rawValue
    case .steps: "\(steps)"
    case .prefix: "\(prefix)"
    case .hamiltonianText: hamiltonianText ?? "—"
    case .operatorText: operatorText ?? "—"
    }
  }

  /// Moves a field one notch (−1 or +1): cycles choices, nudges numbers. N steps past the
  /// largest finite size into the infinite chain.
  public mutating func nudge(_ field: SettingField, by direction: Int) {
    func cycle<T: CaseIterable & Equatable>(_ value: T) -> T {
      let all = Array(T.allCases)
      let i = all.firstIndex(of: value)!
      return all[(i + direction + all.count) % all.count]
    }
    switch field {
    case .spins: toggleSpins()
    case .model:
      model = cycle(model)
      resetParameters()
    case .parameter(let name): parameters[name] = ((parameters[name] ?? 0) + 0.05 * Double(direction) * 100).rounded() / 100
    case .size:
      if infinite {
        if direction < 0 { infinite = false; size = Self.largestFiniteSize }
      } else if direction > 0 && size >= Self.largestFiniteSize {
        infinite = true
      } else {
        size = max(2, size + direction)
      }
    case .boundary: boundary = boundary == .pbc ? .obc : .pbc
    case .operatorName: operatorName = cycle(operatorName)
    case .steps: steps = max(10, steps + 50 * direction)
    case .prefix: prefix = max(10, prefix + 5 * direction)
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
      if t == "inf" {
        infinite = true
        return nil
      }
      guard let n = Int(t), n >= 2, n <= SpinChain.maximumSize else {
        return "N must be a whole number from 2 to \(SpinChain.maximumSize), or inf (got '\(t)')"
      }
      size = n
      infinite = false
    case .steps:
      guard let n = Int(t), n >= 1, n <= 100_000 else { return "steps must be a whole number from 1 to 100000 (got '\(t)')" }
      steps = n
    case .prefix:
      guard let n = Int(t), n >= 10, n <= 100_000 else { return "prefix k must be a whole number of at least 10 (got '\(t)')" }
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
