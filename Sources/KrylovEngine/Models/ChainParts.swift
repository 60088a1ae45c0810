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

  /// The model's defaults for every parameter.
  public var defaultParameters: [String: Double] {
    Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.defaultValue) })
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

/// Quantum spins or classical spins: the same models and operators describe both.
///
/// Quantum spins are Pauli operators (physics.md §2); classical spins are unit vectors with the
/// Poisson bracket (physics.md §6).
public enum SpinKind: String, CaseIterable, Sendable, Codable {
  case quantum, classical
}

/// A chain's length: N sites, or the infinite chain (the thermodynamic limit).
///
/// The one size type of the project: the command line's `--n`, the explorer's N row and
/// dataset specs all hold this value. Written as a whole number or `inf`.
public enum ChainSize: Sendable, Hashable, Codable, CustomStringConvertible {
  case finite(Int)
  case infinite

  /// Reads `12`, `inf` or `infinite`; nil for anything else.
  public init?(text: String) {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    if t == "inf" || t == "infinite" {
      self = .infinite
    } else if let n = Int(t) {
      self = .finite(n)
    } else {
      return nil
    }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let n = try? c.decode(Int.self) {
      self = .finite(n)
    } else if let s = try? c.decode(String.self), let size = ChainSize(text: s) {
      self = size
    } else {
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "a size is a whole number or \"inf\"")
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .finite(let n): try c.encode(n)
    case .infinite: try c.encode("inf")
    }
  }

  public var description: String {
    switch self {
    case .finite(let n): "\(n)"
    case .infinite: "inf"
    }
  }

  /// 1/N, and 0 for the infinite chain: the size as a number that stays bounded.
  public var inverse: Double {
    switch self {
    case .finite(let n): n > 0 ? 1 / Double(n) : 0
    case .infinite: 0
    }
  }
}

/// Where the spins sit: a finite chain with its boundary, or the infinite chain (which has
/// no boundary).
public enum ChainGeometry: Sendable, Hashable {
  case finite(sites: Int, boundary: Boundary)
  case infinite

  /// A size and a boundary as the user gives them; the boundary of the infinite chain is ignored.
  public init(size: ChainSize, boundary: Boundary) {
    switch size {
    case .finite(let n): self = .finite(sites: n, boundary: boundary)
    case .infinite: self = .infinite
    }
  }

  public var size: ChainSize {
    switch self {
    case .finite(let n, _): .finite(n)
    case .infinite: .infinite
    }
  }
}

/// The Hamiltonian: a built-in model with every parameter's value, or a custom unit cell.
public enum ChainModel: Sendable, Hashable {
  /// A built-in model; `parameters` holds every parameter of the model (defaults filled in).
  case builtIn(ModelName, parameters: [String: Double])
  /// One unit cell such as `1.0*Z0Z1 + -1.05*X0`, translated over the chain.
  case custom(unitCell: String)
}

/// The operator whose growth is followed: a built-in one, or custom Pauli terms.
public enum ChainOperator: Sendable, Hashable {
  case builtIn(OperatorName)
  /// Literal terms such as `0.5*X0X1 + Z2`; `translated` repeats them over the chain like a
  /// Hamiltonian unit cell.
  case custom(terms: String, translated: Bool)

  /// Whether the operator is the same on every site (what the infinite chain needs).
  public var isTranslationInvariant: Bool {
    switch self {
    case .builtIn(let name): name.isUniform
    case .custom(_, let translated): translated
    }
  }
}
