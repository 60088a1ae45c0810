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

/// A chain size: a number of sites, or `inf` for the infinite chain.
enum ChainSize: ExpressibleByArgument, Equatable {
  case finite(Int)
  case infinite

  init?(argument: String) {
    let text = argument.lowercased()
    if text == "inf" || text == "infinite" {
      self = .infinite
    } else if let n = Int(argument) {
      self = .finite(n)
    } else {
      return nil
    }
  }

  var defaultValueDescription: String {
    switch self {
    case .finite(let n): "\(n)"
    case .infinite: "inf"
    }
  }
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
    guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite else { return nil }
    bytes = Int(v * factor)
  }
}

/// The options that choose a spin chain and an operator.
struct SystemOptions: ParsableArguments {
  @Option(help: "Spins: quantum (Pauli operators) or classical (unit vectors, Poisson brackets).")
  var spins: SpinKind = .quantum

  @Option(help: "Model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")) (see 'krylov models').")
  var model: ModelName = .mfim

  @Option(name: .customLong("n"), help: "Number of sites N, or 'inf' for the infinite chain (translation-invariant operators).")
  var size: ChainSize = .finite(8)

  @Option(help: "Boundary conditions: pbc (periodic) or obc (open).")
  var bc: Boundary = .pbc

  @Option(help: "Operator: \(OperatorName.allCases.map(\.rawValue).joined(separator: ", ")).")
  var op: OperatorName = .szTotal

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

  /// The chain these options describe, or a usage error naming the bad value.
  func chain() throws -> SpinChain {
    var params: [String: Double] = [:]
    for p in parameters {
      if params[p.name] != nil { throw ValidationError("parameter '\(p.name)' is given twice") }
      params[p.name] = p.value
    }
    if hamiltonian != nil && !parameters.isEmpty {
      throw ValidationError("--param sets a built-in model's parameters; write them into --hamiltonian instead")
    }
    if translateOperator && operatorText == nil {
      throw ValidationError("--translate-operator needs a custom --operator")
    }
    do {
      var chain: SpinChain
      switch size {
      case .finite(let n):
        chain = try SpinChain(
          model: model, parameters: params, hamiltonianText: hamiltonian, size: n, boundary: bc, operator: op,
          operatorText: operatorText, translateOperator: translateOperator)
      case .infinite:
        chain = try SpinChain.infiniteChain(
          model: model, parameters: params, hamiltonianText: hamiltonian, operator: op, operatorText: operatorText,
          translateOperator: translateOperator)
      }
      chain.spins = spins
      return chain
    } catch {
      throw ValidationError(error.description)
    }
  }
}

/// Writes to standard error (progress, warnings): never mixed into the data.
func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether standard error is a terminal, so progress lines are worth drawing.
var standardErrorIsTerminal: Bool { isatty(2) != 0 }

/// Full precision, shortest round-trip form.
func formatCoefficient(_ x: Double) -> String { "\(x)" }
