import Foundation

/// What a dataset holds: families of spin chains whose Lanczos coefficients are computed.
///
/// ```json
/// { "name": "train", "seed": 7, "steps": 300,
///   "groups": [ { "model": "mfim", "sizes": [6, 8], "boundaries": ["pbc"],
///                 "operators": ["sz_total"], "samples": 4,
///                 "parameters": { "g": { "range": [-1.4, -0.6] }, "h": { "values": [0.5] } } } ] }
/// ```
/// A parameter is a `range` (drawn uniformly, seeded, rounded to 4 decimals) or a list of
/// `values` (drawn from, or, when no group parameter is a range and `samples` is absent,
/// combined exhaustively). Missing parameters take the model's defaults. A group's `spins` is
/// `quantum` (the default) or `classical` (physics.md §6).
public struct DatasetSpec: Codable, Sendable, Equatable {
  public var name: String
  public var seed: UInt64
  public var steps: Int
  public var groups: [Group]

  public struct Group: Codable, Sendable, Equatable {
    /// "quantum" (when absent) or "classical".
    public var spins: String?
    public var model: String
    public var sizes: [ChainSize]
    public var boundaries: [String]?
    public var operators: [String]
    public var parameters: [String: ParameterChoice]?
    public var samples: Int?
    /// Overrides the dataset's steps for this group.
    public var steps: Int?
  }

  public struct ParameterChoice: Codable, Sendable, Equatable {
    public var range: [Double]?
    public var values: [Double]?
  }

  /// Reads and validates a spec file, naming the first problem found.
  public static func load(path: String) throws(DatasetError) -> DatasetSpec {
    let data: Data
    do { data = try InputFile.read(path: path, limit: 16 << 20) } catch {
      throw DatasetError("\(path): cannot read the spec: \(error.reason)")
    }
    let spec: DatasetSpec
    do { spec = try JSONDecoder().decode(DatasetSpec.self, from: data) } catch let error as DecodingError {
      throw DatasetError("\(path): \(describe(error))")
    } catch { throw DatasetError("\(path): \(error)") }
    try spec.validate(source: path)
    return spec
  }

  public func validate(source: String) throws(DatasetError) {
    func fail(_ m: String) -> DatasetError { DatasetError("\(source): \(m)") }
    guard steps >= 1 && steps <= 100_000 else { throw fail("steps must be between 1 and 100000 (got \(steps))") }
    guard !groups.isEmpty else { throw fail("no groups: nothing to compute") }
    for (i, g) in groups.enumerated() {
      let at = "groups[\(i)]"
      if let s = g.spins, SpinKind(rawValue: s) == nil { throw fail("\(at).spins: '\(s)' is not quantum or classical") }
      guard let model = ModelName(rawValue: g.model) else {
        throw fail("\(at).model '\(g.model)' is not one of \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      guard !g.sizes.isEmpty else { throw fail("\(at).sizes is empty") }
      if let b = g.boundaries, b.isEmpty { throw fail("\(at).boundaries is empty (leave it out for pbc)") }
      for b in g.boundaries ?? [] where Boundary(rawValue: b) == nil { throw fail("\(at).boundaries: '\(b)' is not pbc or obc") }
      guard !g.operators.isEmpty else { throw fail("\(at).operators is empty") }
      for o in g.operators where OperatorName(rawValue: o) == nil {
        throw fail("\(at).operators: '\(o)' is not one of \(OperatorName.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      let known = Set(model.parameters.map(\.name))
      for (name, choice) in g.parameters ?? [:] {
        guard known.contains(name) else {
          throw fail("\(at).parameters: '\(name)' is not a parameter of \(g.model) (\(known.sorted().joined(separator: ", ")))")
        }
        switch (choice.range, choice.values) {
        case (let r?, nil):
          guard r.count == 2, r[0] <= r[1], r.allSatisfy(\.isFinite) else {
            throw fail("\(at).parameters.\(name).range must be [low, high]")
          }
        case (nil, let v?):
          guard !v.isEmpty, v.allSatisfy(\.isFinite) else {
            throw fail("\(at).parameters.\(name).values must be a non-empty list of numbers")
          }
        default:
          throw fail("\(at).parameters.\(name) needs exactly one of range or values")
        }
      }
      if let s = g.samples, s < 1 { throw fail("\(at).samples must be at least 1") }
      if let s = g.steps, s < 1 || s > 100_000 { throw fail("\(at).steps must be between 1 and 100000") }
    }
    // Counted before anything is expanded, with checked arithmetic: a spec cannot ask for a
    // list of systems larger than memory.
    var total = 0
    for g in groups {
      let choices = g.parameters ?? [:]
      let anyRange = choices.values.contains { $0.range != nil }
      var draws = g.samples ?? 1
      if !anyRange && g.samples == nil {
        draws = 1
        for c in choices.values {
          let (p, o) = draws.multipliedReportingOverflow(by: c.values?.count ?? 1)
          draws = o ? Int.max : p
        }
      }
      var count = draws
      for factor in [g.operators.count, g.boundaries?.count ?? 1, g.sizes.count] {
        let (p, o) = count.multipliedReportingOverflow(by: factor)
        count = o ? Int.max : p
      }
      let (sum, o) = total.addingReportingOverflow(count)
      total = o ? Int.max : sum
    }
    guard total <= Self.maximumSystems else {
      throw fail(
        "the spec names \(total == Int.max ? "more than \(Int.max)" : "\(total)") systems; at most \(Self.maximumSystems) "
          + "fit in one dataset (split it into several specs)")
    }
  }

  /// The most systems one spec may name: a manifest entry each, rewritten after every system.
  public static let maximumSystems = 100_000

  /// Every system the spec names, in a reproducible order.
  public func systems() throws(DatasetError) -> [DatasetSystem] {
    var rng = SplitMix64(seed: seed)
    var out: [DatasetSystem] = []
    for g in groups {
      // `validate` has checked every name; a spec built in code that skipped it is refused here.
      guard let model = ModelName(rawValue: g.model), let spins = SpinKind(rawValue: g.spins ?? "quantum") else {
        throw DatasetError("unknown model '\(g.model)' or spins '\(g.spins ?? "")'")
      }
      let choices = g.parameters ?? [:]
      let names = choices.keys.sorted()
      var parameterSets: [[String: Double]] = []
      let anyRange = choices.values.contains { $0.range != nil }
      if !anyRange && g.samples == nil {
        parameterSets = [[:]]
        for name in names {
          let values = choices[name]?.values ?? []
          parameterSets = parameterSets.flatMap { set in values.map { set.merging([name: $0]) { $1 } } }
        }
      } else {
        for _ in 0..<(g.samples ?? 1) {
          var set: [String: Double] = [:]
          for name in names {
            guard let c = choices[name] else { continue }
            if let r = c.range {
              let u = Double(rng.next() >> 11) * 0x1p-53
              set[name] = ((r[0] + (r[1] - r[0]) * u) * 1e4).rounded() / 1e4
            } else if let v = c.values {
              set[name] = v[Int(rng.next() % UInt64(v.count))]
            }
          }
          parameterSets.append(set)
        }
      }
      let operators = g.operators.compactMap(OperatorName.init(rawValue:))
      let boundaries = (g.boundaries ?? ["pbc"]).compactMap(Boundary.init(rawValue:))
      guard operators.count == g.operators.count, boundaries.count == (g.boundaries?.count ?? 1) else {
        throw DatasetError("unknown operator or boundary in the group of \(g.model)")
      }
      for params in parameterSets {
        for op in operators {
          for bc in boundaries {
            for size in g.sizes {
              out.append(
                DatasetSystem(
                  spins: spins, model: model, parameters: params, size: size, boundary: bc, operatorName: op,
                  steps: g.steps ?? steps))
            }
          }
        }
      }
    }
    return out
  }
}

/// One system of a dataset.
public struct DatasetSystem: Sendable, Equatable {
  public var spins: SpinKind = .quantum
  public var model: ModelName
  public var parameters: [String: Double]
  public var size: ChainSize
  public var boundary: Boundary
  public var operatorName: OperatorName
  public var steps: Int

  /// The model's defaults overridden by the drawn values.
  public var fullParameters: [String: Double] {
    var p = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.defaultValue) })
    for (k, v) in parameters { p[k] = v }
    return p
  }

  private var parameterText: String {
    fullParameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
  }

  /// The physics without the size: systems sharing it stay on one side of a validation split.
  public var group: String { "\(spinsPrefix)\(model.rawValue)[\(parameterText)] \(operatorName.rawValue) \(boundary.rawValue)" }

  /// Empty for quantum chains, so their keys (and cached files) are what they always were.
  private var spinsPrefix: String { spins == .classical ? "classical " : "" }

  /// The full description: the cache key.
  public var key: String {
    "\(spinsPrefix)\(model.rawValue)[\(parameterText)] N=\(size) \(size == .infinite ? "inf" : boundary.rawValue) \(operatorName.rawValue) steps=\(steps)"
  }

  /// A stable file name for the cache (FNV-1a of the key).
  public var fileName: String { FNV1a.hex(key.utf8) + ".json" }

  public func chain() throws(SystemError) -> SpinChain {
    try SpinChain(
      spins: spins, model: .builtIn(model, parameters: parameters), operator: .builtIn(operatorName),
      geometry: ChainGeometry(size: size, boundary: boundary))
  }
}

public struct DatasetError: Error, Sendable, CustomStringConvertible {
  public var description: String
  /// A system was refused by the memory guard (the command exits 3, as a refused run does).
  public var memoryRefusal: Bool
  public init(_ d: String, memoryRefusal: Bool = false) {
    description = d
    self.memoryRefusal = memoryRefusal
  }
}

/// A JSON decoding error in words: the key at fault and what was expected there.
public func describe(_ error: DecodingError) -> String {
  func path(_ c: [CodingKey]) -> String {
    let p = c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    return p.isEmpty ? "top level" : "'\(p)'"
  }
  func expected(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type, is UInt32.Type, is Int?.Type, is UInt64?.Type:
      "a whole number"
    case is Double.Type, is Float.Type, is Double?.Type: "a number"
    case is Bool.Type, is Bool?.Type: "true or false"
    case is String.Type, is String?.Type: "text"
    default:
      String(describing: type).hasPrefix("Array")
        ? "a list" : String(describing: type).hasPrefix("Dictionary") ? "an object" : "\(type)"
    }
  }
  switch error {
  case .keyNotFound(let key, let ctx):
    return "missing key '\(key.stringValue)' at \(path(ctx.codingPath))"
  case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
    return "wrong type at \(path(ctx.codingPath)): expected \(expected(type))"
  case .dataCorrupted(let ctx):
    if ctx.codingPath.isEmpty { return "not valid JSON" }
    // Foundation's own text for a number out of range or not whole ("Parsed JSON number <1.5>
    // does not fit in Int") is clear; its generic sentences are not.
    let detail = ctx.debugDescription.hasPrefix("Parsed JSON number") ? ctx.debugDescription : "not a valid value"
    return "bad value at \(path(ctx.codingPath)): \(detail)"
  @unknown default: return "\(error)"
  }
}
