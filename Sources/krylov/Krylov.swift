import ArgumentParser
import Foundation

@main
struct Krylov: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "krylov",
    abstract: "Operator growth in quantum spin chains: exact Lanczos coefficients, forecasts, and what they tell.",
    discussion: """
      Pick a spin chain (model, size, boundary, operator) and compute its Lanczos coefficients \
      b_n exactly, inside the operator's symmetry sector, each marked as trusted or not; \
      forecast the ones beyond with a small transformer trained by krylov itself, beside \
      asymptotic fits and a linear AR baseline, with its attention and head ablations. \
      Conventions follow docs/physics.md: Pauli matrices, (A|B) = Tr(A†B)/2^N, L = [H, .].
      With no subcommand, krylov opens the interactive explorer.

      Examples:
        krylov                                      # the explorer
        krylov lanczos --model mfim --n 8 --op sz_total --steps 300
        krylov lanczos --n 10 --format json --output b.json
        krylov observe --input b.json --tmax 10 --dt 0.1
        krylov simulate --spins classical --n 16 --samples 100000 --tmax 3   # classical MD
        krylov forecast --input b.json --prefix 30 --horizon 200
        krylov models
      """,
    version: "0.2.0",
    subcommands: [
      ExploreCommand.self, RenderCommand.self, LanczosCommand.self, ObserveCommand.self, SimulateCommand.self, ModelsCommand.self,
      DatasetCommand.self, TrainCommand.self, CalibrateCommand.self,
      ForecastCommand.self, AttentionCommand.self, AblateCommand.self, EvaluateCommand.self, InterpretCommand.self,
      BenchCommand.self, BenchForecasterCommand.self, BenchExplorerCommand.self,
    ],
    defaultSubcommand: ExploreCommand.self
  )

  /// Runs the chosen command; usage errors exit with status 2 (the argument parser's own
  /// default is 64), everything else as the command decides.
  static func main() async {
    checkStandardOutputAtExit()
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      // The parser's messages quote what was typed: printed through printError, escaped.
      let code = exitCode(for: error)
      if code == .validationFailure {
        printError(fullMessage(for: error))
        Foundation.exit(2)
      }
      if code.isSuccess {
        exit(withError: error)  // --help, --version: to standard output, as the parser prints them
      }
      let message = fullMessage(for: error)
      if !message.isEmpty { printError(message) }
      Foundation.exit(code.rawValue)
    }
  }
}
