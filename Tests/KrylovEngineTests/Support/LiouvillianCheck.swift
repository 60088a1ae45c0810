import KrylovEngine
import Testing

/// Follows `applications` applications of a sector's Liouvillian beside the dictionary algebra
/// i[H, ·] on Pauli sums, mapping the sector's vectors back with `pauliSum(block, vector)` after each.
func expectLiouvillianMatchesAlgebra(
  space: any KrylovOperatorSpace, chain: SpinChain, applications: Int,
  pauliSum: (_ block: Int, _ vector: [Double]) -> PauliSum, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let h = try chain.hamiltonian()
  var sum = try chain.initialOperator()
  var block = space.initialBlock
  var vector = space.initialVector
  #expect(
    pauliSum(block, vector).isApproximatelyEqual(to: sum, tolerance: 1e-14), "\(chain.label)",
    sourceLocation: sourceLocation)
  for _ in 0..<applications {
    let next = (block + 1) % space.blockDimensions.count
    var out = [Double](repeating: 0, count: space.blockDimensions[next])
    vector.withUnsafeBufferPointer { input in
      out.withUnsafeMutableBufferPointer { output in
        space.applyLiouvillian(block: block, input: input, output: output, perturbation: 0)
      }
    }
    sum = sum.liouvillian(of: h)
    block = next
    vector = out
    let scale = sum.terms.values.map(abs).max() ?? 1
    #expect(
      pauliSum(block, vector).isApproximatelyEqual(to: sum, tolerance: 1e-12 * scale), "\(chain.label)",
      sourceLocation: sourceLocation)
  }
}
