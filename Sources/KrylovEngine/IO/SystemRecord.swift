import Foundation

/// The `system` block of every file krylov writes: the one codec of a `SpinChain`.
///
/// JSON files hold it as an object, CSV files as `# key: value` lines with the same keys
/// (docs/formats.md). It reads what every earlier version wrote: the nested `params` object
/// of `krylov lanczos` and the flattened parameters of dataset sequence files, `n` as a
/// number or a string, and the `model: custom` / `operator: custom` lines beside the custom
/// texts. Turning a record into a `SpinChain` validates it and names the field at fault.
public struct SystemRecord: Sendable, Equatable {
  public var spins: String?
  public var model: String?
  public var params: [String: Double]?
  public var hamiltonian: String?
  public var n: String?
  public var bc: String?
  public var operatorName: String?
  public var operatorText: String?
  public var translateOperator: Bool?
  /// Numbers beside the known keys: where format 1 dataset files kept the parameters.
  public var otherNumbers: [String: Double] = [:]

  public init(
    spins: String? = nil, model: String? = nil, params: [String: Double]? = nil, hamiltonian: String? = nil,
    n: String? = nil, bc: String? = nil, operatorName: String? = nil, operatorText: String? = nil,
    translateOperator: Bool? = nil
  ) {
    self.spins = spins
    self.model = model
    self.params = params
    self.hamiltonian = hamiltonian
    self.n = n
    self.bc = bc
    self.operatorName = operatorName
    self.operatorText = operatorText
    self.translateOperator = translateOperator
  }

  /// The record of a chain, as every writer stores it.
  public init(_ chain: SpinChain) {
    spins = chain.spins.rawValue
    switch chain.model {
    case .builtIn(let name, let p):
      model = name.rawValue
      params = p
    case .custom(let text): hamiltonian = text
    }
    switch chain.geometry {
    case .finite(let sites, let boundary):
      n = "\(sites)"
      bc = boundary.rawValue
    case .infinite: n = "inf"
    }
    switch chain.op {
    case .builtIn(let name): operatorName = name.rawValue
    case .custom(let terms, let translated):
      operatorText = terms
      translateOperator = translated
    }
  }

  /// The validated chain, or the field that is missing or wrong.
  public func chain() throws(SystemError) -> SpinChain {
    let kind: SpinKind
    if let spins {
      guard let k = SpinKind(rawValue: spins) else { throw .field("spins", "'\(spins)' is not quantum or classical") }
      kind = k
    } else {
      kind = .quantum
    }
    let chainModel: ChainModel
    if let hamiltonian {
      chainModel = .custom(unitCell: hamiltonian)
    } else {
      guard let model else { throw .field("model", "missing (a model name, or a custom 'hamiltonian')") }
      guard let name = ModelName(rawValue: model) else {
        throw .field("model", "'\(model)' is not a model (\(ModelName.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      let known = Set(name.parameters.map { $0.name.lowercased() })
      let given = params ?? otherNumbers.filter { known.contains($0.key.lowercased()) }
      chainModel = .builtIn(name, parameters: given)
    }
    guard let n else { throw .field("n", "missing (a number of sites, or inf)") }
    guard let size = ChainSize(text: n) else { throw .field("n", "'\(n)' is neither a whole number nor inf") }
    let geometry: ChainGeometry
    switch size {
    case .finite(let sites):
      guard let bc else { throw .field("bc", "missing (pbc or obc)") }
      guard let boundary = Boundary(rawValue: bc) else { throw .field("bc", "'\(bc)' is not pbc or obc") }
      geometry = .finite(sites: sites, boundary: boundary)
    case .infinite: geometry = .infinite
    }
    let chainOperator: ChainOperator
    if let operatorText {
      chainOperator = .custom(terms: operatorText, translated: translateOperator ?? false)
    } else {
      guard let operatorName else { throw .field("operator", "missing (an operator name, or a custom 'operator_text')") }
      guard let name = OperatorName(rawValue: operatorName) else {
        throw .field(
          "operator", "'\(operatorName)' is not an operator (\(OperatorName.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      chainOperator = .builtIn(name)
    }
    return try SpinChain(spins: kind, model: chainModel, operator: chainOperator, geometry: geometry)
  }

  // MARK: - CSV metadata lines

  /// `key: value` pairs in the order CSV files list them.
  public var metadata: [(key: String, value: String)] {
    var lines: [(String, String)] = []
    if let spins { lines.append(("spins", spins)) }
    if let model { lines.append(("model", model)) }
    if let params {
      lines.append(("params", params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
    }
    if let hamiltonian { lines.append(("hamiltonian", hamiltonian)) }
    if let n { lines.append(("n", n)) }
    if let bc { lines.append(("bc", bc)) }
    if let operatorName { lines.append(("operator", operatorName)) }
    if let operatorText { lines.append(("operator_text", operatorText)) }
    if let translateOperator { lines.append(("translate_operator", "\(translateOperator)")) }
    return lines
  }

  /// The record held by CSV metadata, from the keys it knows; nil when the lines name no system.
  public init?(metadata: [String: String]) throws(SystemError) {
    let keys = ["spins", "model", "params", "hamiltonian", "n", "bc", "operator", "operator_text"]
    guard keys.contains(where: { metadata[$0] != nil }) else { return nil }
    self.init(spins: metadata["spins"], n: metadata["n"])
    if let text = metadata["hamiltonian"] {
      hamiltonian = text
    } else {
      model = metadata["model"]
    }
    if let text = metadata["params"], hamiltonian == nil {
      var values: [String: Double] = [:]
      for pair in text.split(whereSeparator: { $0 == " " || $0 == "," }) {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let v = Double(parts[1]), v.isFinite else {
          throw .field("params", "'\(pair)' is not name=value")
        }
        values[String(parts[0])] = v
      }
      params = values
    }
    if let infinite = n.flatMap(ChainSize.init(text:)), infinite == .infinite {
      bc = nil
    } else {
      bc = metadata["bc"]
    }
    if var text = metadata["operator_text"] {
      // Format 1 marked a translated operator with a suffix.
      var translated = metadata["translate_operator"] == "true"
      if text.hasSuffix(" (translated)") {
        text.removeLast(" (translated)".count)
        translated = true
      }
      operatorText = text
      translateOperator = translated
    } else {
      operatorName = metadata["operator"]
    }
  }
}

extension SystemRecord: Codable {
  private typealias Key = StringCodingKey

  private static let knownKeys: Set<String> = [
    "spins", "model", "params", "hamiltonian", "n", "bc", "operator", "operator_text", "translate_operator",
  ]

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    spins = try c.decodeIfPresent(String.self, forKey: Key("spins"))
    hamiltonian = try c.decodeIfPresent(String.self, forKey: Key("hamiltonian"))
    model = hamiltonian == nil ? try c.decodeIfPresent(String.self, forKey: Key("model")) : nil
    params = hamiltonian == nil ? try c.decodeIfPresent([String: Double].self, forKey: Key("params")) : nil
    n = try c.decodeIfPresent(ChainSize.self, forKey: Key("n"))?.description
    let boundary = try c.decodeIfPresent(String.self, forKey: Key("bc"))
    bc = n == "inf" ? nil : boundary
    operatorText = try c.decodeIfPresent(String.self, forKey: Key("operator_text"))
    translateOperator = operatorText == nil ? nil : try c.decodeIfPresent(Bool.self, forKey: Key("translate_operator")) ?? false
    operatorName = operatorText == nil ? try c.decodeIfPresent(String.self, forKey: Key("operator")) : nil
    for key in c.allKeys where !Self.knownKeys.contains(key.stringValue) {
      if let v = try? c.decode(Double.self, forKey: key) { otherNumbers[key.stringValue] = v }
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encodeIfPresent(spins, forKey: Key("spins"))
    try c.encodeIfPresent(model, forKey: Key("model"))
    try c.encodeIfPresent(params, forKey: Key("params"))
    try c.encodeIfPresent(hamiltonian, forKey: Key("hamiltonian"))
    if let n {
      if let size = ChainSize(text: n) { try c.encode(size, forKey: Key("n")) } else { try c.encode(n, forKey: Key("n")) }
    }
    try c.encodeIfPresent(bc, forKey: Key("bc"))
    try c.encodeIfPresent(operatorName, forKey: Key("operator"))
    try c.encodeIfPresent(operatorText, forKey: Key("operator_text"))
    try c.encodeIfPresent(translateOperator, forKey: Key("translate_operator"))
  }
}

/// A chain is stored as its record; reading one validates it.
extension SpinChain: Codable {
  public init(from decoder: Decoder) throws {
    let record = try SystemRecord(from: decoder)
    do { self = try record.chain() } catch {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
    }
  }

  public func encode(to encoder: Encoder) throws { try SystemRecord(self).encode(to: encoder) }
}

/// A coding key from any string: for objects whose keys are names (parameters, methods).
public struct StringCodingKey: CodingKey, Sendable {
  public var stringValue: String
  public var intValue: Int? { nil }
  public init(_ s: String) { stringValue = s }
  public init?(stringValue: String) { self.stringValue = stringValue }
  public init?(intValue: Int) { nil }
}
