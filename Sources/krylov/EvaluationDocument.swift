import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

/// What `krylov evaluate --format json` writes (docs/formats.md).
struct EvaluationDocument: Encodable {
  var prefix: Int
  var horizon: Int
  var systems: [System]
  var aggregates: [String: Aggregate]
  var skipped: [String]
  var md: MolecularDynamics

  struct System: Encodable {
    var system: String
    var spins: String
    var model: String
    var size: String
    var errors: ErrorsRecord
    var bandCoverage: Double?
    var cMaxAbsVsMD: [String: Double?]?
    var mdLargestStderr: Double??
    var mdSites: Int?
    var mdEnd: Double??
    var continued: Continued?

    enum CodingKeys: String, CodingKey {
      case system, spins, model, size, errors
      case bandCoverage = "band_coverage"
      case cMaxAbsVsMD = "c_max_abs_vs_md"
      case mdLargestStderr = "md_largest_stderr"
      case mdSites = "md_sites"
      case mdEnd = "md_end"
      case continued
    }

    // Present only for simulated systems; within those, a value that cannot be computed is null.
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(system, forKey: .system)
      try c.encode(spins, forKey: .spins)
      try c.encode(model, forKey: .model)
      try c.encode(size, forKey: .size)
      try c.encode(errors, forKey: .errors)
      try c.encodeIfPresent(bandCoverage, forKey: .bandCoverage)
      try c.encodeIfPresent(cMaxAbsVsMD, forKey: .cMaxAbsVsMD)
      if let mdLargestStderr { try c.encode(mdLargestStderr, forKey: .mdLargestStderr) }
      try c.encodeIfPresent(mdSites, forKey: .mdSites)
      if let mdEnd { try c.encode(mdEnd, forKey: .mdEnd) }
      try c.encodeIfPresent(continued, forKey: .continued)
    }
  }

  struct Continued: Encodable {
    var to: Int
    var mdSites: Int
    var mdEnd: Double?
    var methods: [String: Method]

    struct Method: Encodable {
      var cMaxAbsVsMD: Double?
      var agreesUntil: Double?
      enum CodingKeys: String, CodingKey {
        case cMaxAbsVsMD = "c_max_abs_vs_md"
        case agreesUntil = "agrees_until"
      }
      func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cMaxAbsVsMD, forKey: .cMaxAbsVsMD)
        try c.encode(agreesUntil, forKey: .agreesUntil)
      }
    }

    enum CodingKeys: String, CodingKey {
      case to
      case mdSites = "md_sites"
      case mdEnd = "md_end"
      case methods
    }
  }

  /// Geometric means over a class of systems, per method.
  struct Aggregate: Encodable {
    var methods: [String: Errors]
    var cMaxAbsVsMD: [String: Double?]?

    struct Errors: Encodable {
      var bRelativeRMS: Double?
      var cMaxAbs: Double?
      enum CodingKeys: String, CodingKey {
        case bRelativeRMS = "b_relative_rms"
        case cMaxAbs = "c_max_abs"
      }
      func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bRelativeRMS, forKey: .bRelativeRMS)
        try c.encode(cMaxAbs, forKey: .cMaxAbs)
      }
    }

    // The methods sit at the top level of the aggregate, beside "c_max_abs_vs_md".
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: StringCodingKey.self)
      for (name, errors) in methods { try c.encode(errors, forKey: StringCodingKey(name)) }
      if let cMaxAbsVsMD { try c.encode(cMaxAbsVsMD, forKey: StringCodingKey("c_max_abs_vs_md")) }
    }
  }

  struct MolecularDynamics: Encodable {
    var samples: Int
    var tmax: Double
    var seed: UInt64
  }
}
