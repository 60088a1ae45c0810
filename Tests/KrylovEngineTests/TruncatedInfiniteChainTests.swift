import KrylovEngine
import Testing

@Suite("Truncated infinite chain")
struct TruncatedInfiniteChainTests {
  @Test("With nothing dropped it equals the exact infinite chain", arguments: [OperatorName.szTotal, .sxTotal])
  func agreesWithExact(op: OperatorName) throws {
    let chain = try SpinChain.infiniteChain(model: .mfim, operator: op)
    let plan = try RunPlan(chain: chain, steps: 8)
    let exact = LanczosDriver(space: try plan.buildSpace(), options: LanczosOptions(steps: 8)).run()
    let truncated = try TruncatedInfiniteLanczos(plan: plan, keep: 1_000_000).run(steps: 8)
    #expect(truncated.exactUntil == 8)
    #expect(exact.coefficients.count == 8)
    for (a, b) in zip(truncated.coefficients, exact.coefficients) { #expect(abs(a - b) < 1e-10 * b) }
  }

  @Test("A small budget truncates, reports where, and stays exact before it")
  func truncationReported() throws {
    let chain = try SpinChain.infiniteChain(model: .mfim, operator: .szTotal)
    let plan = try RunPlan(chain: chain, steps: 8)
    let exact = LanczosDriver(space: try plan.buildSpace(), options: LanczosOptions(steps: 8)).run()
    var steps: [TruncatedInfiniteLanczos.Step] = []
    let result = try TruncatedInfiniteLanczos(plan: plan, keep: 40).run(steps: 20, onStep: { steps.append($0) })
    #expect(result.coefficients.count == 20)
    #expect(result.exactUntil >= 2 && result.exactUntil < 8)
    #expect(steps.allSatisfy { $0.classes <= 40 })
    #expect(steps[result.exactUntil].truncated)
    for n in 0..<result.exactUntil {
      let a: Double = result.coefficients[n]
      let b: Double = exact.coefficients[n]
      #expect(abs(a - b) < 1e-10 * b)
    }
  }
}
