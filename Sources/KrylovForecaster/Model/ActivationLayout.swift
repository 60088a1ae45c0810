/// The activations of one forward pass over (B, T) as one slab with named offsets.
///
/// The backward pass uses a second slab of the same layout for the activation gradients.
struct ActivationLayout {
  let B, T: Int
  let count: Int
  let encoded: Int  // (B, T, C)
  let ln1, ln1Mean, ln1Rstd: Int  // (L, B, T, C), (L, B, T), (L, B, T)
  let qkv: Int  // (L, B, T, 3C)
  let atty: Int  // (L, B, T, C)
  let att: Int  // (L, B, NH, T, T)
  let attproj: Int  // (L, B, T, C)
  let residual2: Int  // (L, B, T, C)
  let ln2, ln2Mean, ln2Rstd: Int  // (L, B, T, C), (L, B, T), (L, B, T)
  let fch, fchGelu: Int  // (L, B, T, 4C)
  let fcproj: Int  // (L, B, T, C)
  let residual3: Int  // (L, B, T, C)
  let lnf, lnfMean, lnfRstd: Int  // (B, T, C), (B, T), (B, T)
  let output: Int  // (B, T)

  init(config: ForecasterConfig, B: Int, T: Int) {
    let L = config.layers
    let C = config.channels
    let NH = config.heads
    let BT = B * T
    var offset = 0
    func add(_ n: Int) -> Int {
      defer { offset += n }
      return offset
    }
    self.B = B
    self.T = T
    encoded = add(BT * C)
    ln1 = add(L * BT * C)
    ln1Mean = add(L * BT)
    ln1Rstd = add(L * BT)
    qkv = add(L * BT * 3 * C)
    atty = add(L * BT * C)
    att = add(L * B * NH * T * T)
    attproj = add(L * BT * C)
    residual2 = add(L * BT * C)
    ln2 = add(L * BT * C)
    ln2Mean = add(L * BT)
    ln2Rstd = add(L * BT)
    fch = add(L * BT * 4 * C)
    fchGelu = add(L * BT * 4 * C)
    fcproj = add(L * BT * C)
    residual3 = add(L * BT * C)
    lnf = add(BT * C)
    lnfMean = add(BT)
    lnfRstd = add(BT)
    output = add(BT)
    count = offset
  }

  /// Bytes of one slab in scalar type S.
  static func bytes<S>(config: ForecasterConfig, B: Int, T: Int, scalar: S.Type) -> Int {
    ActivationLayout(config: config, B: B, T: T).count * MemoryLayout<S>.stride
  }
}
