/// The transformer's shape and the normalization of its inputs.
///
/// Dimension letters used across the module (llm.c's): B batch, T sequence length,
/// C channels, NH heads, hs = C/NH head size, L layers, F input features per position.
public struct ForecasterConfig: Codable, Sendable, Equatable {
  /// L: transformer blocks.
  public var layers: Int
  /// NH: attention heads per block.
  public var heads: Int
  /// C: width of the residual stream.
  public var channels: Int
  /// How many leading coefficients set a sequence's scale (b_n is divided by their RMS).
  public var scaleWindow: Int
  /// Factor between a step x_{n+1} − x_n of the scaled sequence and the model's output.
  public var stepGain: Double
  /// Whether the model reads the system's size and boundary (`SystemContext`) beside the sequence.
  ///
  /// Checkpoints from before size-aware models lack the field: false.
  public var systemInputs: Bool

  public init(
    layers: Int = 4, heads: Int = 4, channels: Int = 64, scaleWindow: Int = 10, stepGain: Double = 5,
    systemInputs: Bool = true
  ) {
    self.layers = layers
    self.heads = heads
    self.channels = channels
    self.scaleWindow = scaleWindow
    self.stepGain = stepGain
    self.systemInputs = systemInputs
  }

  enum CodingKeys: String, CodingKey { case layers, heads, channels, scaleWindow, stepGain, systemInputs }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    layers = try c.decode(Int.self, forKey: .layers)
    heads = try c.decode(Int.self, forKey: .heads)
    channels = try c.decode(Int.self, forKey: .channels)
    scaleWindow = try c.decode(Int.self, forKey: .scaleWindow)
    stepGain = try c.decode(Double.self, forKey: .stepGain)
    systemInputs = try c.decodeIfPresent(Bool.self, forKey: .systemInputs) ?? false
  }

  /// F: features per position (see `SequenceEncoding`).
  public var features: Int { SequenceEncoding.featureCount(systemInputs: systemInputs) }
  public var headSize: Int { channels / heads }

  /// A description of what is wrong with this configuration, or nil.
  public var problem: String? {
    if layers < 1 || layers > 64 { return "layers must be between 1 and 64 (got \(layers))" }
    if heads < 1 || heads > 64 { return "heads must be between 1 and 64 (got \(heads))" }
    if channels < 1 || channels > 4096 { return "channels must be between 1 and 4096 (got \(channels))" }
    if channels % heads != 0 { return "channels (\(channels)) must be a multiple of heads (\(heads))" }
    if scaleWindow < 1 || scaleWindow > 1000 { return "scaleWindow must be between 1 and 1000 (got \(scaleWindow))" }
    // The model learns gain × the step; beyond 10^6 those targets overflow training in Float.
    if !(stepGain > 0) || stepGain > 1e6 { return "stepGain must be between 0 and 10^6 (got \(stepGain))" }
    return nil
  }
}

/// One named parameter tensor: where it lives in the slab and its shape.
public struct TensorSlot: Sendable, Equatable {
  public var name: String
  public var offset: Int
  public var shape: [Int]
  public var count: Int { shape.reduce(1, *) }
}

/// The parameters as one slab with named views, in llm.c's order and shapes.
///
/// Gradients and AdamW moments use the same layout, so optimizer updates are one flat loop
/// and a checkpoint is one contiguous write per tensor.
public struct ParameterLayout: Sendable {
  public let slots: [TensorSlot]
  public let count: Int
  // Offsets of each named view; per-layer tensors are stacked along a leading L.
  public let wte, bte: Int  // (C, F), (C): the input embedding
  public let ln1w, ln1b: Int  // (L, C)
  public let qkvw, qkvb: Int  // (L, 3C, C), (L, 3C)
  public let attprojw, attprojb: Int  // (L, C, C), (L, C)
  public let ln2w, ln2b: Int  // (L, C)
  public let fcw, fcb: Int  // (L, 4C, C), (L, 4C)
  public let fcprojw, fcprojb: Int  // (L, C, 4C), (L, C)
  public let lnfw, lnfb: Int  // (C)
  public let headw, headb: Int  // (1, C), (1): the output head

  public init(_ config: ForecasterConfig) {
    let L = config.layers
    let C = config.channels
    let F = config.features
    var slots: [TensorSlot] = []
    var offset = 0
    func add(_ name: String, _ shape: [Int]) -> Int {
      let slot = TensorSlot(name: name, offset: offset, shape: shape)
      slots.append(slot)
      offset += slot.count
      return slot.offset
    }
    wte = add("wte", [C, F])
    bte = add("bte", [C])
    ln1w = add("ln1w", [L, C])
    ln1b = add("ln1b", [L, C])
    qkvw = add("qkvw", [L, 3 * C, C])
    qkvb = add("qkvb", [L, 3 * C])
    attprojw = add("attprojw", [L, C, C])
    attprojb = add("attprojb", [L, C])
    ln2w = add("ln2w", [L, C])
    ln2b = add("ln2b", [L, C])
    fcw = add("fcw", [L, 4 * C, C])
    fcb = add("fcb", [L, 4 * C])
    fcprojw = add("fcprojw", [L, C, 4 * C])
    fcprojb = add("fcprojb", [L, C])
    lnfw = add("lnfw", [C])
    lnfb = add("lnfb", [C])
    headw = add("headw", [1, C])
    headb = add("headb", [1])
    self.slots = slots
    self.count = offset
  }

  public func slot(named name: String) -> TensorSlot? { slots.first { $0.name == name } }
}
