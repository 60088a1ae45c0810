import KrylovEngine
import KrylovForecaster

extension SystemContext {
  /// What the forecaster is told of a chain: its size (or ∞) and boundary.
  public init(_ chain: SpinChain) {
    self.init(chain.geometry)
  }

  public init(_ geometry: ChainGeometry) {
    switch geometry {
    case .infinite: self = .infinite
    case .finite(let sites, let boundary): self = .finite(sites, openBoundary: boundary == .obc)
    }
  }
}
