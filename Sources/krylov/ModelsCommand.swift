import ArgumentParser
import KrylovEngine

struct ModelsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models", abstract: "List the built-in models, their parameters and the operators.")

  func run() {
    print("Models (Hamiltonians; sites 0..N-1, Pauli matrices):")
    for m in ModelName.allCases {
      let params = m.parameters.map { "\($0.name)=\(formatCoefficient($0.defaultValue))" }.joined(separator: " ")
      print("  \(m.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(m.summary)")
      print("         parameters (defaults): \(params)")
    }
    print("\nOperators:")
    for o in OperatorName.allCases {
      print("  \(o.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(o.summary)")
    }
    print("\nCustom: --hamiltonian '1.0*Z0Z1 + -1.05*X0 + 0.5*Z0' (a unit cell, translated),")
    print("        --operator 'Z0' (literal; add --translate-operator to sum it over the chain).")
  }
}
