import ArgumentParser

@main
struct Krylov: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "krylov",
    abstract: "Operator growth in quantum spin chains: exact Lanczos coefficients and what they tell.",
    discussion: """
      Pick a spin chain (model, size, boundary, operator) and compute its Lanczos coefficients
      b_n exactly, inside the operator's symmetry sector, each marked as trusted or not.
      Conventions follow docs/physics.md: Pauli matrices, (A|B) = Tr(A†B)/2^N, L = [H, .].

      Examples:
        krylov lanczos --model mfim --n 8 --op sz_total --steps 300
        krylov lanczos --n 10 --format json --output b.json
        krylov observe --input b.json --tmax 10 --dt 0.1
        krylov models
      """,
    version: "0.1.0",
    subcommands: [LanczosCommand.self, ObserveCommand.self, ModelsCommand.self, BenchCommand.self]
  )
}
