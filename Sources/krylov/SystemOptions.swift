import ArgumentParser
import Foundation
import KrylovEngine

extension Boundary: ExpressibleByArgument {}
extension ModelName: ExpressibleByArgument {}
extension OperatorName: ExpressibleByArgument {}
extension SymmetryMode: ExpressibleByArgument {}
extension SpinKind: ExpressibleByArgument {}

/// Output formats shared by the data-producing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case csv, json
}

/// `--reorth`: the engine's choice by sector size, or one forced.
enum ReorthogonalizationOption: String, ExpressibleByArgument, CaseIterable {
  case auto, full, partial
  var mode: Reorthogonalization? { Reorthogonalization(rawValue: rawValue) }
}

/// `--precision`: the engine's choice by sector size, or one forced.
enum PrecisionOption: String, ExpressibleByArgument, CaseIterable {
  case auto, double, single
  var precision: VectorPrecision? { VectorPrecision(rawValue: rawValue) }
}

extension ChainSize: ExpressibleByArgument {
  public init?(argument: String) { self.init(text: argument) }
  public var defaultValueDescription: String { description }
}

/// A `name=value` model parameter.
struct ParameterAssignment: ExpressibleByArgument {
  var name: String
  var value: Double

  init?(argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2, !parts[0].isEmpty, let v = Double(parts[1]), v.isFinite else { return nil }
    name = parts[0]
    value = v
  }

  static var defaultCompletionKind: CompletionKind { .default }
}

/// A memory size such as `8G`, `512M`, `16GiB` or a plain number of bytes.
struct MemorySize: ExpressibleByArgument {
  var bytes: Int

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
    let units: [(String, Double)] = [
      ("TIB", 0x1p40), ("GIB", 0x1p30), ("MIB", 0x1p20), ("KIB", 0x1p10),
      ("TB", 0x1p40), ("GB", 0x1p30), ("MB", 0x1p20), ("KB", 0x1p10),
      ("T", 0x1p40), ("G", 0x1p30), ("M", 0x1p20), ("K", 0x1p10), ("B", 1),
    ]
    var factor = 1.0
    var number = Substring(text)
    for (suffix, f) in units where text.hasSuffix(suffix) {
      factor = f
      number = text.dropLast(suffix.count)
      break
    }
    // Up to 2^62 bytes: beyond it no machine has the memory, and Int(v) would overflow.
    guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v > 0, v * factor < 0x1p62 else { return nil }
    bytes = max(1, Int(v * factor))
  }
}

/// The options that choose a chain and its operator, whatever its spins.
///
/// Every command that runs a system takes these; the spins are `SystemOptions`' (quantum or
/// classical) or, for `simulate`, classical only.
struct ChainOptions: ParsableArguments {
  @Option(help: "Model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")) (see 'krylov models').")
  var model: ModelName = RunDefaults.model

  @Option(
    name: .customLong("n"),
    help: ArgumentHelp(
      "Number of sites N, or 'inf' for the infinite chain (translation-invariant operators). Default: 10 for quantum spins, inf for classical ones.",
      valueName: "N|inf"))
  var size: ChainSize?

  @Option(help: "Boundary conditions: pbc (periodic) or obc (open).")
  var bc: Boundary = RunDefaults.boundary

  @Option(help: "Operator: \(OperatorName.allCases.map(\.rawValue).joined(separator: ", ")).")
  var op: OperatorName = RunDefaults.operatorName

  @Option(
    name: .customLong("param"),
    help: ArgumentHelp("A model parameter, e.g. g=-1.05 (repeatable).", valueName: "name=value"))
  var parameters: [ParameterAssignment] = []

  @Option(
    help: ArgumentHelp(
      "A custom Hamiltonian: one unit cell such as '1.0*Z0Z1 + -1.05*X0 + 0.5*Z0', translated over the chain.",
      valueName: "text"))
  var hamiltonian: String?

  @Option(
    name: .customLong("operator"),
    help: ArgumentHelp("A custom operator such as 'Z0' or '0.5*X0X1 + Z2', taken literally.", valueName: "text"))
  var operatorText: String?

  @Flag(help: "Translate the custom operator over the chain like a Hamiltonian unit cell.")
  var translateOperator = false

  /// The chain these options describe with `spins`, or a usage error naming the bad value.
  func chain(spins: SpinKind) throws -> SpinChain {
    var params: [String: Double] = [:]
    for p in parameters {
      // Parameter names match without regard to case, so g=1 and G=2 name one parameter.
      if let other = params.keys.first(where: { $0.lowercased() == p.name.lowercased() }) {
        throw ValidationError(
          other == p.name
            ? "parameter '\(p.name)' is given twice" : "parameters '\(other)' and '\(p.name)' are the same parameter")
      }
      params[p.name] = p.value
    }
    if hamiltonian != nil && !parameters.isEmpty {
      throw ValidationError("--param sets a built-in model's parameters; write them into --hamiltonian instead")
    }
    if translateOperator && operatorText == nil {
      throw ValidationError("--translate-operator needs a custom --operator")
    }
    do {
      return try SpinChain(
        spins: spins,
        model: hamiltonian.map { .custom(unitCell: $0) } ?? .builtIn(model, parameters: params),
        operator: operatorText.map { .custom(terms: $0, translated: translateOperator) } ?? .builtIn(op),
        geometry: ChainGeometry(size: size ?? RunDefaults.of(spins).size, boundary: bc))
    } catch {
      throw ValidationError(error.description)
    }
  }
}

/// The options that choose a system: its spins and its chain.
struct SystemOptions: ParsableArguments {
  @Option(help: "Spins: quantum (Pauli operators) or classical (unit vectors, Poisson brackets).")
  var spins: SpinKind = .quantum

  @OptionGroup var chain: ChainOptions

  /// The chain these options describe, or a usage error naming the bad value.
  func system() throws -> SpinChain { try chain.chain(spins: spins) }

  /// The size asked for, or the default of the spins.
  var size: ChainSize { chain.size ?? RunDefaults.of(spins).size }
}

/// Whether standard error is a terminal, so progress lines are worth drawing.
var standardErrorIsTerminal: Bool { isatty(2) != 0 }

/// Full precision, shortest round-trip form.
func formatCoefficient(_ x: Double) -> String { "\(x)" }
