/// The defaults a run starts from, declared once for the command line and the explorer.
///
/// A classical chain's basis grows about 2.2 times per step, so a couple of dozen
/// coefficients is all that exists (physics.md §6): classical runs start on the infinite
/// chain with 18 steps and forecast from 10.
public struct RunDefaults: Sendable, Equatable {
  public var size: ChainSize
  public var steps: Int
  /// k: the forecast starts from b_1..b_k.
  public var prefix: Int

  public static func of(_ spins: SpinKind) -> RunDefaults {
    switch spins {
    case .quantum: RunDefaults(size: .finite(10), steps: 200, prefix: 30)
    case .classical: RunDefaults(size: .infinite, steps: 18, prefix: 10)
    }
  }

  public static let model = ModelName.mfim
  public static let boundary = Boundary.pbc
  public static let operatorName = OperatorName.szTotal
}
