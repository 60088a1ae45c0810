import Foundation

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
  case field(String, String)

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
    case .field(let name, let problem): "system \(name): \(problem)"
    case .notTranslationInvariant(let what):
      "the infinite chain needs a translation-invariant operator, not \(what): use sz_total, sx_total, zz_total, or a custom operator with --translate-operator"
    }
  }
}

/// A spin chain and an operator on it: everything that defines a Lanczos sequence.
///
/// The one typed description of a system: the command line and the explorer build it, every
/// output file records it (`SystemRecord` is its codec), dataset entries rebuild it, and the
/// forecaster reads its size. `hamiltonian()` and `initialOperator()` turn it into Pauli sums.
/// Every value is validated when it is made, so a `SpinChain` that exists can be run.
public struct SpinChain: Sendable, Hashable {
  /// Quantum or classical spins: for classical spins the Pauli letters of `hamiltonian()` and
  /// `initialOperator()` read as spin components S^x, S^y, S^z.
  public let spins: SpinKind
  public let model: ChainModel
  public let op: ChainOperator
  public let geometry: ChainGeometry

  /// Largest chain the Pauli masks and sector keys can address.
  public static let maximumSize = 31

  /// Sites of the open chain whose Pauli sums the infinite chain's unit cells are read from.
  static let cellSourceSize = 12

  /// Validates and fills in a system: built-in parameters get their defaults and are checked
  /// by name, sizes by range, the infinite chain needs a translation-invariant operator, and
  /// custom texts are parsed now rather than when a run starts.
  public init(
    spins: SpinKind = .quantum, model: ChainModel, operator op: ChainOperator, geometry: ChainGeometry
  ) throws(SystemError) {
    self.spins = spins
    switch model {
    case .builtIn(let name, let given): self.model = .builtIn(name, parameters: try Self.resolve(given, for: name))
    case .custom: self.model = model
    }
    self.op = op
    self.geometry = geometry
    switch geometry {
    case .finite(let sites, let boundary):
      let minimum = boundary == .pbc ? 3 : 2
      guard sites >= minimum, sites <= Self.maximumSize else {
        throw .sizeOutOfRange(sites, minimum: minimum, maximum: Self.maximumSize)
      }
    case .infinite:
      switch op {
      case .builtIn(let name) where !name.isUniform: throw .notTranslationInvariant(name.rawValue)
      case .custom(_, false): throw .notTranslationInvariant("a literal custom operator")
      default: break
      }
    }
    _ = try hamiltonian()
    _ = try initialOperator()
  }

  /// A built-in model with its default parameters, overridden by `parameters`, on a finite chain.
  public init(
    model: ModelName, parameters: [String: Double] = [:], size: Int, boundary: Boundary = .pbc,
    operator op: OperatorName, spins: SpinKind = .quantum
  ) throws(SystemError) {
    try self.init(
      spins: spins, model: .builtIn(model, parameters: parameters), operator: .builtIn(op),
      geometry: .finite(sites: size, boundary: boundary))
  }

  /// The general form on a finite chain: a built-in or custom Hamiltonian, a built-in or
  /// custom operator (custom texts win over the names).
  public init(
    model: ModelName?, parameters: [String: Double] = [:], hamiltonianText: String? = nil,
    size: Int, boundary: Boundary, operator op: OperatorName?, operatorText: String? = nil,
    translateOperator: Bool = false, spins: SpinKind = .quantum
  ) throws(SystemError) {
    try self.init(
      spins: spins,
      model: try Self.model(model, parameters: parameters, hamiltonianText: hamiltonianText),
      operator: operatorText.map { .custom(terms: $0, translated: translateOperator) } ?? .builtIn(op ?? .szTotal),
      geometry: .finite(sites: size, boundary: boundary))
  }

  /// The infinite chain with a translation-invariant operator (a uniform built-in one, or a
  /// custom operator translated over the chain).
  public static func infiniteChain(
    model: ModelName?, parameters: [String: Double] = [:], hamiltonianText: String? = nil,
    operator op: OperatorName?, operatorText: String? = nil, translateOperator: Bool = false,
    spins: SpinKind = .quantum
  ) throws(SystemError) -> SpinChain {
    try SpinChain(
      spins: spins, model: try Self.model(model, parameters: parameters, hamiltonianText: hamiltonianText),
      operator: operatorText.map { .custom(terms: $0, translated: translateOperator) } ?? .builtIn(op ?? .szTotal),
      geometry: .infinite)
  }

  private static func model(_ name: ModelName?, parameters: [String: Double], hamiltonianText: String?)
    throws(SystemError) -> ChainModel
  {
    if let text = hamiltonianText {
      if let given = parameters.keys.sorted().first {
        throw .unknownParameter(given, model: "a custom Hamiltonian", valid: [])
      }
      return .custom(unitCell: text)
    }
    guard let name else { throw .noModel }
    return .builtIn(name, parameters: parameters)
  }

  /// The same system on another geometry (a smaller chain for the memory guard, the ring that
  /// stands in for the infinite chain), validated again.
  public func with(geometry: ChainGeometry) throws(SystemError) -> SpinChain {
    try SpinChain(spins: spins, model: model, operator: op, geometry: geometry)
  }

  /// The same system with other spins.
  public func with(spins: SpinKind) throws(SystemError) -> SpinChain {
    try SpinChain(spins: spins, model: model, operator: op, geometry: geometry)
  }

  /// The periodic ring of `sites` sites with this chain's Hamiltonian and operator: what
  /// molecular dynamics simulates in place of the infinite chain (physics.md §6: for t ≤ 3,
  /// sixteen sites behave like infinitely many).
  public func ring(sites: Int) throws(SystemError) -> SpinChain {
    try with(geometry: .finite(sites: sites, boundary: .pbc))
  }

  // MARK: - Reading the description

  public var size: ChainSize { geometry.size }
  public var isInfinite: Bool { geometry == .infinite }
  /// N of a finite chain; nil for the infinite chain.
  public var sites: Int? {
    if case .finite(let n, _) = geometry { return n }
    return nil
  }
  /// The boundary of a finite chain; nil for the infinite chain.
  public var boundary: Boundary? {
    if case .finite(_, let bc) = geometry { return bc }
    return nil
  }
  /// The built-in model, nil for a custom Hamiltonian.
  public var modelName: ModelName? {
    if case .builtIn(let name, _) = model { return name }
    return nil
  }
  /// Every parameter of a built-in model with its value; empty for a custom Hamiltonian.
  public var parameters: [String: Double] {
    if case .builtIn(_, let p) = model { return p }
    return [:]
  }
  /// The built-in operator, nil for custom terms.
  public var operatorName: OperatorName? {
    if case .builtIn(let name) = op { return name }
    return nil
  }

  /// The sites that `hamiltonian()` and `initialOperator()` act on: N, or for the infinite
  /// chain the open chain its unit cells are read from.
  public var pauliSiteCount: Int { sites ?? Self.cellSourceSize }
  private var pauliBoundary: Boundary { boundary ?? .obc }

  private static func resolve(_ given: [String: Double], for model: ModelName) throws(SystemError)
    -> [String: Double]
  {
    var values = model.defaultParameters
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

  /// A human-readable one-liner.
  ///
  /// For example `mfim(J=1, g=-1.05, h=0.5) N=8 pbc, sz_total`.
  public var label: String {
    let hamiltonian: String
    switch model {
    case .builtIn(let name, let p):
      let values = name.parameters.map { "\($0.name)=\(formatNumber(p[$0.name] ?? $0.defaultValue))" }
      hamiltonian = "\(name.rawValue)(\(values.joined(separator: ", ")))"
    case .custom(let text): hamiltonian = "custom(\(text))"
    }
    let operatorText: String
    switch op {
    case .builtIn(let name): operatorText = name.rawValue
    case .custom(let terms, _): operatorText = "custom(\(terms))"
    }
    let kind = spins == .classical ? "classical " : ""
    switch geometry {
    case .infinite: return "\(kind)\(hamiltonian) N=inf, \(operatorText)"
    case .finite(let n, let bc): return "\(kind)\(hamiltonian) N=\(n) \(bc.rawValue), \(operatorText)"
    }
  }
}

/// Pauli sums of the system.
extension SpinChain {
  /// Nearest-neighbour bonds (i, i+d) of the chain.
  private func bonds(distance d: Int) -> [(Int, Int)] {
    let size = pauliSiteCount
    return switch pauliBoundary {
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
    let name: ModelName
    let p: [String: Double]
    switch model {
    case .custom(let text): return try translated(text, what: "Hamiltonian")
    case .builtIn(let n, let parameters): (name, p) = (n, parameters)
    }
    let size = pauliSiteCount
    // Resolved at construction: every parameter is present.
    func value(_ key: String) -> Double { p[key] ?? name.defaultParameters[key] ?? 0 }
    var h = PauliSum()
    func couple(_ a: Character, _ b: Character, _ c: Double, distance: Int) {
      for (i, j) in bonds(distance: distance) { h.add(c, string([(a, i), (b, j)])) }
    }
    func field(_ a: Character, _ c: Double) {
      for i in 0..<size { h.add(c, PauliString(letter: a, site: i)) }
    }
    switch name {
    case .mfim:
      couple("Z", "Z", value("J"), distance: 1)
      field("X", value("g"))
      field("Z", value("h"))
    case .tfim:
      couple("Z", "Z", value("J"), distance: 1)
      field("X", value("g"))
    case .xxz:
      couple("X", "X", value("J"), distance: 1)
      couple("Y", "Y", value("J"), distance: 1)
      couple("Z", "Z", value("Delta"), distance: 1)
    case .j1j2:
      for a: Character in ["X", "Y", "Z"] {
        couple(a, a, value("J1"), distance: 1)
        couple(a, a, value("J2"), distance: 2)
      }
    }
    return h
  }

  /// The operator O whose growth is followed (not yet normalized).
  public func initialOperator() throws(SystemError) -> PauliSum {
    let size = pauliSiteCount
    let name: OperatorName
    switch op {
    case .custom(let text, let translate):
      if translate { return try translated(text, what: "operator") }
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
    case .builtIn(let n): name = n
    }
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
    let size = pauliSiteCount
    let boundary = pauliBoundary
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
