import Foundation

/// Boundary conditions of a finite chain.
public enum Boundary: String, CaseIterable, Sendable, Codable {
  case pbc, obc
}

/// The built-in Hamiltonians of physics.md §3.
public enum ModelName: String, CaseIterable, Sendable, Codable {
  case mfim, tfim, xxz, j1j2

  /// Parameter names and defaults, in the order physics.md lists them.
  public var parameters: [(name: String, defaultValue: Double)] {
    switch self {
    case .mfim: [("J", 1), ("g", -1.05), ("h", 0.5)]
    case .tfim: [("J", 1), ("g", 1)]
    case .xxz: [("J", 1), ("Delta", 0.5)]
    case .j1j2: [("J1", 1), ("J2", 0.5)]
    }
  }

  /// Chaotic models, as opposed to integrable ones; evaluations report them separately.
  public var isChaotic: Bool { self == .mfim || self == .j1j2 }

  public var summary: String {
    switch self {
    case .mfim: "mixed-field Ising: sum J Z_i Z_i+1 + g X_i + h Z_i (chaotic)"
    case .tfim: "transverse-field Ising: sum J Z_i Z_i+1 + g X_i (integrable, free fermions)"
    case .xxz: "XXZ: sum J (X_i X_i+1 + Y_i Y_i+1) + Delta Z_i Z_i+1 (integrable)"
    case .j1j2: "J1-J2 Heisenberg: sum J1 S_i.S_i+1 + J2 S_i.S_i+2 (chaotic)"
    }
  }
}

/// The built-in operators of physics.md §3.
public enum OperatorName: String, CaseIterable, Sendable, Codable {
  case szTotal = "sz_total"
  case sxTotal = "sx_total"
  case z0
  case x0
  case zzTotal = "zz_total"

  /// Whether the operator is a uniform sum over the chain (translation invariant on a ring).
  public var isUniform: Bool { self != .z0 && self != .x0 }

  public var summary: String {
    switch self {
    case .szTotal: "sum_i Z_i / sqrt(N)"
    case .sxTotal: "sum_i X_i / sqrt(N)"
    case .z0: "Z_0"
    case .x0: "X_0"
    case .zzTotal: "sum_i Z_i Z_i+1 / sqrt(#bonds)"
    }
  }
}

/// Quantum spins (Pauli operators, physics.md §2) or classical spins (unit vectors with the
/// Poisson bracket, physics.md §6). The same models and operators describe both.
public enum SpinKind: String, CaseIterable, Sendable, Codable {
  case quantum, classical
}

/// What went wrong when a system description was turned into operators.
public enum SystemError: Error, Sendable, Equatable, CustomStringConvertible {
  case sizeOutOfRange(Int, minimum: Int, maximum: Int)
  case unknownParameter(String, model: String, valid: [String])
  case nonFiniteParameter(String)
  case parse(what: String, String)
  case siteOutOfRange(what: String, site: Int, size: Int)
  case termDoesNotFit(what: String, term: String, size: Int)
  case zeroOperator(what: String)
  case noModel
  case notTranslationInvariant(String)
  case classicalChain(String)

  public var description: String {
    switch self {
    case .sizeOutOfRange(let n, let lo, let hi):
      "chain size \(n) is out of range: N must be between \(lo) and \(hi)"
    case .unknownParameter(let name, let model, let valid):
      "unknown parameter '\(name)' for model \(model); its parameters are \(valid.joined(separator: ", "))"
    case .nonFiniteParameter(let name): "parameter '\(name)' must be a finite number"
    case .parse(let what, let detail): "cannot read the \(what): \(detail)"
    case .siteOutOfRange(let what, let site, let n):
      "the \(what) uses site \(site), but the chain has sites 0 to \(n - 1)"
    case .termDoesNotFit(let what, let term, let n):
      "the \(what) term \(term) is longer than the open chain of \(n) sites"
    case .zeroOperator(let what): "the \(what) is zero: every term cancelled"
    case .noModel: "no Hamiltonian: choose a model or give a custom Hamiltonian"
    case .classicalChain(let reason): "cannot set up the classical chain: \(reason)"
    case .notTranslationInvariant(let what):
      "the infinite chain needs a translation-invariant operator, not \(what): use sz_total, sx_total, zz_total, or a custom operator with --translate-operator"
    }
  }
}

/// A spin chain and an operator on it: everything that defines a Lanczos sequence.
///
/// This is the value that outputs echo back, that dataset caches key on, and that the
/// explorer edits; `hamiltonian()` and `initialOperator()` turn it into Pauli sums.
public struct SpinChain: Sendable, Codable, Hashable {
  /// A built-in model name, or `"custom"` when `hamiltonianText` is given.
  public var model: String
  /// Every parameter of the model with its value (defaults filled in). Empty for custom models.
  public var parameters: [String: Double]
  public var size: Int
  public var boundary: Boundary
  /// A built-in operator name, or `"custom"` when `operatorText` is given.
  public var operatorName: String
  /// A unit cell translated over the chain (pbc: every site; obc: every shift that fits).
  public var hamiltonianText: String?
  /// Literal operator terms, translated like the Hamiltonian when `translateOperator` is set.
  public var operatorText: String?
  public var translateOperator: Bool
  /// The infinite chain (thermodynamic limit); `size` is then only the open chain the unit
  /// cells are read from.
  public var infinite: Bool = false
  /// Quantum (the default) or classical spins: the Pauli letters of `hamiltonian()` and
  /// `initialOperator()` then read as spin components S^x, S^y, S^z.
  public var spins: SpinKind = .quantum

  /// Sites of the open chain that unit cells are read from for the infinite chain.
  public static let cellSourceSize = 12

  /// The infinite chain with a translation-invariant operator (a uniform built-in one, or a
  /// custom operator translated over the chain).
  public static func infiniteChain(
    model: ModelName?, parameters: [String: Double] = [:], hamiltonianText: String? = nil,
    operator op: OperatorName?, operatorText: String? = nil, translateOperator: Bool = false
  ) throws(SystemError) -> SpinChain {
    if let op, operatorText == nil, !op.isUniform { throw .notTranslationInvariant(op.rawValue) }
    if operatorText != nil && !translateOperator { throw .notTranslationInvariant("a literal custom operator") }
    var chain = try SpinChain(
      model: model, parameters: parameters, hamiltonianText: hamiltonianText, size: cellSourceSize,
      boundary: .obc, operator: op, operatorText: operatorText, translateOperator: translateOperator)
    chain.infinite = true
    return chain
  }

  /// The periodic ring of `sites` sites with this chain's Hamiltonian and operator: what
  /// molecular dynamics simulates in place of the infinite chain (physics.md §6: for t ≤ 3,
  /// sixteen sites behave like infinitely many).
  public func ring(sites: Int) throws(SystemError) -> SpinChain {
    var ring = try SpinChain(
      model: ModelName(rawValue: model), parameters: hamiltonianText == nil ? parameters : [:],
      hamiltonianText: hamiltonianText, size: sites, boundary: .pbc, operator: OperatorName(rawValue: operatorName),
      operatorText: operatorText, translateOperator: translateOperator)
    ring.spins = spins
    return ring
  }

  /// Largest chain the Pauli masks and sector keys can address.
  public static let maximumSize = 31

  /// A built-in model with its default parameters, overridden by `parameters`.
  public init(
    model: ModelName, parameters: [String: Double] = [:], size: Int, boundary: Boundary = .pbc,
    operator op: OperatorName
  ) throws(SystemError) {
    self.model = model.rawValue
    self.parameters = try Self.resolve(parameters, for: model)
    self.size = size
    self.boundary = boundary
    self.operatorName = op.rawValue
    self.hamiltonianText = nil
    self.operatorText = nil
    self.translateOperator = false
    try validateSize()
  }

  /// The general form: a built-in or custom Hamiltonian, a built-in or custom operator.
  public init(
    model: ModelName?, parameters: [String: Double] = [:], hamiltonianText: String? = nil,
    size: Int, boundary: Boundary, operator op: OperatorName?, operatorText: String? = nil,
    translateOperator: Bool = false
  ) throws(SystemError) {
    if let text = hamiltonianText {
      self.model = "custom"
      self.parameters = [:]
      self.hamiltonianText = text
      if let name = parameters.keys.sorted().first {
        throw .unknownParameter(name, model: "custom", valid: [])
      }
    } else if let model {
      self.model = model.rawValue
      self.parameters = try Self.resolve(parameters, for: model)
      self.hamiltonianText = nil
    } else {
      throw .noModel
    }
    self.size = size
    self.boundary = boundary
    if let operatorText {
      self.operatorName = "custom"
      self.operatorText = operatorText
      self.translateOperator = translateOperator
    } else {
      self.operatorName = (op ?? .szTotal).rawValue
      self.operatorText = nil
      self.translateOperator = false
    }
    try validateSize()
    // Surface text errors now, not when the run starts.
    _ = try hamiltonian()
    _ = try initialOperator()
  }

  private func validateSize() throws(SystemError) {
    let minimum = boundary == .pbc ? 3 : 2
    guard size >= minimum, size <= Self.maximumSize else {
      throw .sizeOutOfRange(size, minimum: minimum, maximum: Self.maximumSize)
    }
  }

  private static func resolve(_ given: [String: Double], for model: ModelName) throws(SystemError)
    -> [String: Double]
  {
    var values: [String: Double] = [:]
    for (name, value) in model.parameters { values[name] = value }
    for (name, value) in given {
      guard let key = model.parameters.first(where: { $0.name.lowercased() == name.lowercased() })?.name
      else {
        throw .unknownParameter(name, model: model.rawValue, valid: model.parameters.map(\.name))
      }
      guard value.isFinite else { throw .nonFiniteParameter(name) }
      values[key] = value
    }
    return values
  }

  /// Human-readable one-liner, e.g. `mfim(J=1, g=-1.05, h=0.5) N=8 pbc, sz_total`.
  public var label: String {
    let params: String
    if let name = ModelName(rawValue: model) {
      params = name.parameters.map { "\($0.name)=\(formatNumber(parameters[$0.name] ?? $0.defaultValue))" }
        .joined(separator: ", ")
    } else {
      params = hamiltonianText ?? ""
    }
    let op = operatorText.map { "custom(\($0))" } ?? operatorName
    let kind = spins == .classical ? "classical " : ""
    if infinite { return "\(kind)\(model)(\(params)) N=inf, \(op)" }
    return "\(kind)\(model)(\(params)) N=\(size) \(boundary.rawValue), \(op)"
  }

  // MARK: - Operators

  /// Nearest-neighbour bonds (i, i+d) of the chain.
  private func bonds(distance d: Int) -> [(Int, Int)] {
    switch boundary {
    case .pbc: (0..<size).map { ($0, ($0 + d) % size) }
    case .obc: d < size ? (0..<(size - d)).map { ($0, $0 + d) } : []
    }
  }

  private func string(_ factors: [(Character, Int)]) -> PauliString {
    var s = PauliString.identity
    for (letter, site) in factors {
      let p = PauliString(letter: letter, site: site)
      s = s.multiplied(by: p).result  // distinct sites: no phase
    }
    return s
  }

  /// The Hamiltonian as a Pauli sum.
  public func hamiltonian() throws(SystemError) -> PauliSum {
    if let text = hamiltonianText {
      return try translated(text, what: "Hamiltonian")
    }
    guard let name = ModelName(rawValue: model) else { throw .noModel }
    let p = parameters
    var h = PauliSum()
    func couple(_ a: Character, _ b: Character, _ c: Double, distance: Int) {
      for (i, j) in bonds(distance: distance) { h.add(c, string([(a, i), (b, j)])) }
    }
    func field(_ a: Character, _ c: Double) {
      for i in 0..<size { h.add(c, PauliString(letter: a, site: i)) }
    }
    switch name {
    case .mfim:
      couple("Z", "Z", p["J"]!, distance: 1)
      field("X", p["g"]!)
      field("Z", p["h"]!)
    case .tfim:
      couple("Z", "Z", p["J"]!, distance: 1)
      field("X", p["g"]!)
    case .xxz:
      couple("X", "X", p["J"]!, distance: 1)
      couple("Y", "Y", p["J"]!, distance: 1)
      couple("Z", "Z", p["Delta"]!, distance: 1)
    case .j1j2:
      for a: Character in ["X", "Y", "Z"] {
        couple(a, a, p["J1"]!, distance: 1)
        couple(a, a, p["J2"]!, distance: 2)
      }
    }
    return h
  }

  /// The operator O whose growth is followed (not yet normalized).
  public func initialOperator() throws(SystemError) -> PauliSum {
    if let text = operatorText {
      if translateOperator { return try translated(text, what: "operator") }
      let terms: [PauliTerm]
      do { terms = try PauliTextParser.parse(text) } catch { throw .parse(what: "operator", error.description) }
      var o = PauliSum()
      for term in terms {
        if let bad = term.factors.first(where: { $0.site >= size }) {
          throw .siteOutOfRange(what: "operator", site: bad.site, size: size)
        }
        o.add(term.coefficient, string(term.factors.map { ($0.letter, $0.site) }))
      }
      if o.isEmpty { throw .zeroOperator(what: "operator") }
      return o
    }
    guard let name = OperatorName(rawValue: operatorName) else { throw .zeroOperator(what: "operator") }
    var o = PauliSum()
    switch name {
    case .szTotal: for i in 0..<size { o.add(1 / Double(size).squareRoot(), PauliString(letter: "Z", site: i)) }
    case .sxTotal: for i in 0..<size { o.add(1 / Double(size).squareRoot(), PauliString(letter: "X", site: i)) }
    case .z0: o.add(1, PauliString(letter: "Z", site: 0))
    case .x0: o.add(1, PauliString(letter: "X", site: 0))
    case .zzTotal:
      let b = bonds(distance: 1)
      for (i, j) in b { o.add(1 / Double(b.count).squareRoot(), string([("Z", i), ("Z", j)])) }
    }
    return o
  }

  /// A unit cell repeated over the chain: every shift on a ring, every shift that fits on an open chain.
  private func translated(_ text: String, what: String) throws(SystemError) -> PauliSum {
    let terms: [PauliTerm]
    do { terms = try PauliTextParser.parse(text) } catch { throw .parse(what: what, error.description) }
    var sum = PauliSum()
    for term in terms {
      if boundary == .pbc, let bad = term.factors.first(where: { $0.site >= size }) {
        throw .siteOutOfRange(what: what, site: bad.site, size: size)
      }
      let shifts = boundary == .pbc ? size : size - term.maxSite
      if shifts <= 0 {
        throw .termDoesNotFit(what: what, term: term.factors.map { "\($0.letter)\($0.site)" }.joined(), size: size)
      }
      for shift in 0..<shifts {
        let factors = term.factors.map { ($0.letter, ($0.site + shift) % size) }
        // On a small ring a shifted term can land a letter twice on one site: multiply them out.
        var s = PauliString.identity
        var phase = 0
        for (letter, site) in factors {
          let (p, r) = s.multiplied(by: PauliString(letter: letter, site: site))
          phase += p
          s = r
        }
        // Hermitian products only: an imaginary phase means the wrapped term is not Hermitian.
        guard phase % 2 == 0 else {
          throw .parse(what: what, "a term wraps around the ring of \(size) sites onto itself")
        }
        sum.add(phase % 4 == 0 ? term.coefficient : -term.coefficient, s)
      }
    }
    if sum.isEmpty { throw .zeroOperator(what: what) }
    return sum
  }
}

/// Compact number formatting for labels: `1`, `-1.05`, `0.5`.
func formatNumber(_ x: Double) -> String {
  if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
  return "\(x)"
}
