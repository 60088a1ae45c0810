import RealModule

/// A decoder-only causal transformer over a sequence of real values, llm.c's GPT-2 in shape.
///
/// Parameters, gradients and activations each live in one slab; `forward` and `backward` are
/// straight pipelines of the layer functions, backward in exactly reverse order. The input is
/// (B, T, F) features per position, the output one real number per position (the predicted
/// next step), the loss a masked mean squared error.
public final class Transformer<S: ForecastScalar>: @unchecked Sendable {
  public let config: ForecasterConfig
  public let layout: ParameterLayout
  let slopes: [S]

  /// The parameter slab (layout.count values).
  public let params: UnsafeMutableBufferPointer<S>
  /// The gradient slab, same layout, filled by `backward`.
  public let grads: UnsafeMutableBufferPointer<S>
  /// The start of `params`, for the kernels.
  let parameterBase: UnsafeMutablePointer<S>
  /// The start of `grads`, for the kernels.
  private let gradientBase: UnsafeMutablePointer<S>

  /// The activation slabs of one (B, T), zero-filled when allocated.
  private struct Activations {
    let layout: ActivationLayout
    let acts: UnsafeMutablePointer<S>  // layout.count
    let dacts: UnsafeMutablePointer<S>  // layout.count
    let inputs: UnsafeMutablePointer<S>  // (B, T, F)
    let dinputs: UnsafeMutablePointer<S>  // (B, T, F)
    let lossScale: UnsafeMutablePointer<S>  // (B, T): 2·mask/Σmask, set by `loss`
    let targets: UnsafeMutablePointer<S>  // (B, T)

    init(config: ForecasterConfig, B: Int, T: Int) {
      let l = ActivationLayout(config: config, B: B, T: T)
      func slab(_ n: Int) -> UnsafeMutablePointer<S> {
        let p = UnsafeMutablePointer<S>.allocate(capacity: n)
        p.initialize(repeating: 0, count: n)
        return p
      }
      acts = slab(l.count)
      dacts = slab(l.count)
      inputs = slab(B * T * config.features)
      dinputs = slab(B * T * config.features)
      lossScale = slab(B * T)
      targets = slab(B * T)
      layout = l
    }

    func deallocate() {
      for slab in [acts, dacts, inputs, dinputs, lossScale, targets] { slab.deallocate() }
    }
  }

  private var activations: Activations?
  private var haveLoss = false

  /// A model with every parameter zero; call `initialize(seed:)` or load weights.
  public init(config: ForecasterConfig) {
    precondition(config.problem == nil, config.problem ?? "")
    self.config = config
    layout = ParameterLayout(config)
    slopes = alibiSlopes(heads: config.heads)
    parameterBase = .allocate(capacity: layout.count)
    parameterBase.initialize(repeating: 0, count: layout.count)
    params = UnsafeMutableBufferPointer(start: parameterBase, count: layout.count)
    gradientBase = .allocate(capacity: layout.count)
    gradientBase.initialize(repeating: 0, count: layout.count)
    grads = UnsafeMutableBufferPointer(start: gradientBase, count: layout.count)
  }

  deinit {
    params.deallocate()
    grads.deallocate()
    releaseActivations()
  }

  /// GPT-2's initialization: weights N(0, 0.02), residual projections scaled by 1/√(2L),
  /// layer-norm gains one, biases zero.
  public func initialize(seed: UInt64) {
    var rng = RandomSource(seed: seed)
    params.update(repeating: 0)
    let residualScale = 1 / Double(2 * config.layers).squareRoot()
    for slot in layout.slots {
      let range = slot.offset..<(slot.offset + slot.count)
      switch slot.name {
      case "ln1w", "ln2w", "lnfw":
        for i in range { params[i] = 1 }
      case "wte", "qkvw", "fcw", "headw":
        for i in range { params[i] = S(0.02 * rng.gaussian()) }
      case "attprojw", "fcprojw":
        for i in range { params[i] = S(0.02 * residualScale * rng.gaussian()) }
      default:
        break  // biases
      }
    }
  }

  /// Bytes the activations of a (B, T) pass take, gradients included: for the memory guard.
  public static func activationBytes(config: ForecasterConfig, B: Int, T: Int) -> Int {
    2 * ActivationLayout.bytes(config: config, B: B, T: T, scalar: S.self)
  }

  private func releaseActivations() {
    activations?.deallocate()
    activations = nil
  }

  /// The activations for (B, T): the current ones when the shape is unchanged, else new ones.
  private func prepare(B: Int, T: Int) -> Activations {
    if let a = activations, a.layout.B == B, a.layout.T == T { return a }
    releaseActivations()
    let a = Activations(config: config, B: B, T: T)
    activations = a
    return a
  }

  /// The input slab (B, T, F) for the next `forward`, allocated for (B, T).
  public func inputBuffer(B: Int, T: Int) -> UnsafeMutableBufferPointer<S> {
    UnsafeMutableBufferPointer(start: inputPointer(B: B, T: T), count: B * T * config.features)
  }

  /// The start of `inputBuffer(B:T:)`.
  func inputPointer(B: Int, T: Int) -> UnsafeMutablePointer<S> {
    prepare(B: B, T: T).inputs
  }

  /// Runs the model on the features in `inputBuffer(B:T:)` and returns the (B, T) outputs.
  ///
  /// - Parameter switches: per-layer ablation switches (nil: none), for inference only.
  @discardableResult
  public func forward(B: Int, T: Int, switches: [AttentionSwitches]? = nil) -> UnsafeBufferPointer<S> {
    let activations = prepare(B: B, T: T)
    haveLoss = false
    let a = activations.acts
    let p = UnsafePointer(parameterBase)
    let l = activations.layout
    let L = config.layers
    let C = config.channels
    let NH = config.heads
    let F = config.features
    let BT = B * T
    matmulForward(a + l.encoded, activations.inputs, p + layout.wte, p + layout.bte, rows: BT, C: F, OC: C)
    for layer in 0..<L {
      let residual = layer == 0 ? a + l.encoded : a + l.residual3 + (layer - 1) * BT * C
      let ln1 = a + l.ln1 + layer * BT * C
      let qkv = a + l.qkv + layer * BT * 3 * C
      let atty = a + l.atty + layer * BT * C
      let att = a + l.att + layer * B * NH * T * T
      let attproj = a + l.attproj + layer * BT * C
      let residual2 = a + l.residual2 + layer * BT * C
      let ln2 = a + l.ln2 + layer * BT * C
      let fch = a + l.fch + layer * BT * 4 * C
      let fchGelu = a + l.fchGelu + layer * BT * 4 * C
      let fcproj = a + l.fcproj + layer * BT * C
      let residual3 = a + l.residual3 + layer * BT * C
      layerNormForward(
        ln1, a + l.ln1Mean + layer * BT, a + l.ln1Rstd + layer * BT, residual,
        p + layout.ln1w + layer * C, p + layout.ln1b + layer * C, rows: BT, C: C)
      matmulForward(
        qkv, ln1, p + layout.qkvw + layer * 3 * C * C, p + layout.qkvb + layer * 3 * C, rows: BT, C: C, OC: 3 * C)
      attentionForward(
        atty, att, qkv, B: B, T: T, C: C, NH: NH, slopes: slopes, switches: switches?[layer] ?? .none)
      matmulForward(
        attproj, atty, p + layout.attprojw + layer * C * C, p + layout.attprojb + layer * C, rows: BT, C: C, OC: C)
      residualForward(residual2, residual, attproj, count: BT * C)
      layerNormForward(
        ln2, a + l.ln2Mean + layer * BT, a + l.ln2Rstd + layer * BT, residual2,
        p + layout.ln2w + layer * C, p + layout.ln2b + layer * C, rows: BT, C: C)
      matmulForward(
        fch, ln2, p + layout.fcw + layer * 4 * C * C, p + layout.fcb + layer * 4 * C, rows: BT, C: C, OC: 4 * C)
      geluForward(fchGelu, fch, count: BT * 4 * C)
      matmulForward(
        fcproj, fchGelu, p + layout.fcprojw + layer * C * 4 * C, p + layout.fcprojb + layer * C,
        rows: BT, C: 4 * C, OC: C)
      residualForward(residual3, residual2, fcproj, count: BT * C)
    }
    let last = a + l.residual3 + (L - 1) * BT * C
    layerNormForward(a + l.lnf, a + l.lnfMean, a + l.lnfRstd, last, p + layout.lnfw, p + layout.lnfb, rows: BT, C: C)
    matmulForward(a + l.output, a + l.lnf, p + layout.headw, p + layout.headb, rows: BT, C: C, OC: 1)
    return UnsafeBufferPointer(start: a + l.output, count: BT)
  }

  /// The masked mean squared error of the last forward's outputs against `targets` (B, T),
  /// counting positions whose mask is nonzero; prepares `backward`.
  public func loss(targets y: UnsafeBufferPointer<S>, mask: UnsafeBufferPointer<S>) -> S {
    guard let activations else { preconditionFailure("loss needs a forward first") }
    let l = activations.layout
    let BT = l.B * l.T
    precondition(y.count == BT && mask.count == BT, "targets and mask must be (B, T)")
    let out = activations.acts + l.output
    let lossScale = activations.lossScale
    let targets = activations.targets
    var weight: S = 0
    for i in 0..<BT { weight += mask[i] }
    let inv: S = weight > 0 ? 1 / weight : 0
    var total: S = 0
    for i in 0..<BT {
      let d = out[i] - y[i]
      total += mask[i] * d * d
      lossScale[i] = 2 * mask[i] * inv
      targets[i] = y[i]
    }
    haveLoss = true
    return total * inv
  }

  /// Sets every gradient to zero.
  public func zeroGrad() { grads.update(repeating: 0) }

  /// Accumulates the gradient of the last `loss` into `grads`.
  public func backward() {
    guard haveLoss, let activations else { preconditionFailure("backward needs a forward followed by loss") }
    let l = activations.layout
    let B = l.B
    let T = l.T
    let L = config.layers
    let C = config.channels
    let NH = config.heads
    let F = config.features
    let BT = B * T
    let a = UnsafePointer(activations.acts)
    let d = activations.dacts
    let p = UnsafePointer(parameterBase)
    let g = gradientBase
    let lossScale = activations.lossScale
    let targets = activations.targets
    d.update(repeating: 0, count: l.count)
    for i in 0..<BT { d[l.output + i] = lossScale[i] * (a[l.output + i] - targets[i]) }

    matmulBackward(
      d + l.lnf, g + layout.headw, g + layout.headb, d + l.output, a + l.lnf, p + layout.headw, rows: BT, C: C, OC: 1)
    let lastOffset = l.residual3 + (L - 1) * BT * C
    layerNormBackward(
      d + lastOffset, g + layout.lnfw, g + layout.lnfb, d + l.lnf, a + lastOffset, p + layout.lnfw,
      a + l.lnfMean, a + l.lnfRstd, rows: BT, C: C)
    for layer in stride(from: L - 1, through: 0, by: -1) {
      let residualOffset = layer == 0 ? l.encoded : l.residual3 + (layer - 1) * BT * C
      let ln1 = l.ln1 + layer * BT * C
      let qkv = l.qkv + layer * BT * 3 * C
      let atty = l.atty + layer * BT * C
      let att = l.att + layer * B * NH * T * T
      let attproj = l.attproj + layer * BT * C
      let residual2 = l.residual2 + layer * BT * C
      let ln2 = l.ln2 + layer * BT * C
      let fch = l.fch + layer * BT * 4 * C
      let fchGelu = l.fchGelu + layer * BT * 4 * C
      let fcproj = l.fcproj + layer * BT * C
      let residual3 = l.residual3 + layer * BT * C

      residualBackward(d + residual2, d + fcproj, d + residual3, count: BT * C)
      matmulBackward(
        d + fchGelu, g + layout.fcprojw + layer * C * 4 * C, g + layout.fcprojb + layer * C, d + fcproj,
        a + fchGelu, p + layout.fcprojw + layer * C * 4 * C, rows: BT, C: 4 * C, OC: C)
      geluBackward(d + fch, d + fchGelu, a + fch, count: BT * 4 * C)
      matmulBackward(
        d + ln2, g + layout.fcw + layer * 4 * C * C, g + layout.fcb + layer * 4 * C, d + fch, a + ln2,
        p + layout.fcw + layer * 4 * C * C, rows: BT, C: C, OC: 4 * C)
      layerNormBackward(
        d + residual2, g + layout.ln2w + layer * C, g + layout.ln2b + layer * C, d + ln2, a + residual2,
        p + layout.ln2w + layer * C, a + l.ln2Mean + layer * BT, a + l.ln2Rstd + layer * BT, rows: BT, C: C)
      residualBackward(d + residualOffset, d + attproj, d + residual2, count: BT * C)
      matmulBackward(
        d + atty, g + layout.attprojw + layer * C * C, g + layout.attprojb + layer * C, d + attproj, a + atty,
        p + layout.attprojw + layer * C * C, rows: BT, C: C, OC: C)
      attentionBackward(d + qkv, d + atty, a + qkv, a + att, B: B, T: T, C: C, NH: NH)
      matmulBackward(
        d + ln1, g + layout.qkvw + layer * 3 * C * C, g + layout.qkvb + layer * 3 * C, d + qkv, a + ln1,
        p + layout.qkvw + layer * 3 * C * C, rows: BT, C: C, OC: 3 * C)
      layerNormBackward(
        d + residualOffset, g + layout.ln1w + layer * C, g + layout.ln1b + layer * C, d + ln1, a + residualOffset,
        p + layout.ln1w + layer * C, a + l.ln1Mean + layer * BT, a + l.ln1Rstd + layer * BT, rows: BT, C: C)
    }
    activations.dinputs.update(repeating: 0, count: BT * F)
    matmulBackward(
      activations.dinputs, g + layout.wte, g + layout.bte, d + l.encoded, activations.inputs, p + layout.wte,
      rows: BT, C: F, OC: C)
  }
}
