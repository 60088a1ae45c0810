import Foundation

/// Approximate Lanczos coefficients of the infinite chain beyond what fits exactly: the operator
/// is kept as a dictionary of translation classes (leftmost site 0, as in `InfiniteChainSpace`)
/// and after every step only the `keep` classes with the largest coefficients survive
/// (PauliStrings.jl's truncation).
///
/// Every coefficient from this run is approximate and is reported as not trusted. Until the
/// first truncation the recursion is the exact one (no class was dropped), which `exactUntil`
/// records; beyond it the error is not controlled. No reorthogonalization: the vectors are not
/// kept (that is the point of truncating).
public struct TruncatedInfiniteLanczos: Sendable {
  public let hamiltonianCell: PauliSum
  public let operatorCell: PauliSum
  public let keep: Int

  public struct Step: Sendable, Equatable {
    public var n: Int
    public var b: Double
    /// Classes held after this step's truncation.
    public var classes: Int
    /// Whether this step dropped classes.
    public var truncated: Bool
    public var seconds: Double
  }

  public struct Result: Sendable {
    public var coefficients: [Double]
    /// The last n computed before any class was dropped (0 if the first step truncated).
    public var exactUntil: Int
    public var cancelled: Bool
  }

  public enum TruncationError: Error, CustomStringConvertible {
    case tooWide(Int)
    public var description: String {
      switch self {
      case .tooWide(let w): "the truncated infinite chain reached strings \(w) sites wide; at most 62 are held"
      }
    }
  }

  /// Each b_n is reported multiplied by this (the energy scale the plan divided out of H).
  let coefficientScale: Double

  /// Bytes one kept class costs at the peak of a step: it sits in the current, previous and
  /// new dictionaries (a 16-byte string and an 8-byte value each, with hashing overhead) and
  /// in the sort that keeps the K largest.
  public static let bytesPerClass = 256

  /// The most classes `keep` may ask for under `memoryLimit`: K beyond it is refused before the
  /// run, since once the chain reaches that many classes the run would exceed the limit.
  public static func maximumKeep(memoryLimit: Int) -> Int { max(1, memoryLimit / bytesPerClass) }

  public init(hamiltonianCell: PauliSum, operatorCell: PauliSum, keep: Int, coefficientScale: Double = 1) {
    self.hamiltonianCell = hamiltonianCell
    self.operatorCell = operatorCell
    self.keep = max(1, keep)
    self.coefficientScale = coefficientScale
  }

  /// For a plan made with `chain.infinite`: its unit cells, at the plan's energy scale.
  public init(plan: RunPlan, keep: Int) {
    self.init(
      hamiltonianCell: plan.hamiltonian, operatorCell: plan.initialOperator, keep: keep,
      coefficientScale: plan.energyScale)
  }

  /// i[H, O] for a translation-invariant O given by its classes: every translate of the
  /// Hamiltonian's unit cell that overlaps a class, the products shifted back to site 0.
  func liouvillian(_ o: [PauliString: Double], isCancelled: () -> Bool = { false }) throws -> [PauliString: Double] {
    let range = InfiniteChainSpace.width(hamiltonianCell)
    let pad = max(range - 1, 0)
    let terms = Array(hamiltonianCell.terms)
    var out: [PauliString: Double] = [:]
    out.reserveCapacity(o.count * 4)
    for (index, (r, c)) in o.enumerated() {
      // A step over millions of classes takes seconds: a stop request is honoured within one block.
      if index & 0xFFFF == 0xFFFF, isCancelled() { throw CancellationError() }
      let w = 64 - r.support.leadingZeroBitCount
      guard w + 2 * pad <= 64 else { throw TruncationError.tooWide(w + 2 * pad) }
      let s = PauliString(x: r.x << UInt64(pad), z: r.z << UInt64(pad))
      for (h, hc) in terms {
        let hw = 64 - h.support.leadingZeroBitCount
        for shift in max(0, pad - hw + 1)...(pad + w - 1) {
          let t = PauliString(x: h.x << UInt64(shift), z: h.z << UInt64(shift))
          guard t.support & s.support != 0, let (sign, q) = t.liouvillian(acting: s) else { continue }
          out[InfiniteChainSpace.normalized(q), default: 0] += hc * sign * c
        }
      }
    }
    return out
  }

  /// Runs `steps` steps, reporting each; `isCancelled` is polled between steps.
  public func run(
    steps: Int, isCancelled: () -> Bool = { false }, onStep: (Step) -> Void = { _ in }
  ) throws -> Result {
    let norm0 = operatorCell.norm
    guard norm0 > 0 else { return Result(coefficients: [], exactUntil: 0, cancelled: false) }
    var current = operatorCell.terms.mapValues { $0 / norm0 }
    var previous: [PauliString: Double] = [:]
    var coefficients: [Double] = []
    var exactUntil = 0
    var everTruncated = false
    var lastB = 0.0
    for n in 1...max(1, steps) {
      if isCancelled() { return Result(coefficients: coefficients, exactUntil: exactUntil, cancelled: true) }
      let start = DispatchTime.now()
      // A_n = L O_{n−1} + b_{n−1} O_{n−2} (the sign for the real antisymmetric map, docs/physics.md).
      var a: [PauliString: Double]
      do { a = try liouvillian(current, isCancelled: isCancelled) } catch is CancellationError {
        return Result(coefficients: coefficients, exactUntil: exactUntil, cancelled: true)
      }
      if n > 1 { for (s, c) in previous { a[s, default: 0] += lastB * c } }
      var truncated = false
      if a.count > keep {
        let kept = a.sorted { abs($0.value) > abs($1.value) }.prefix(keep)
        a = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        truncated = true
      }
      let b = a.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
      everTruncated = everTruncated || truncated
      if !everTruncated { exactUntil = n }
      coefficients.append(b * coefficientScale)
      onStep(
        Step(
          n: n, b: b * coefficientScale, classes: a.count, truncated: truncated,
          seconds: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9))
      guard b > 0 else { break }
      for k in a.keys { a[k, default: 0] /= b }
      previous = current
      current = a
      lastB = b
    }
    return Result(coefficients: coefficients, exactUntil: exactUntil, cancelled: false)
  }
}
