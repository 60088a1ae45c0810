/// The Liouvillian on translation classes of the infinite classical chain, key to keys.
///
/// A class is keyed by its product in standard position (leftmost non-constant site at 0), so
/// the key is a `HarmonicKey` without leading zeros; with the mirror, the smaller of the two
/// standard keys. Each output differs from its input on the few sites of one Hamiltonian term,
/// so its keys are spliced from the input's forward and mirrored keys in constant time: the
/// words before the term, the term's new words, the words after. Leading zeros left by a site
/// that became constant are shifted out, which is the translation to standard position.
struct InfiniteChainExpander: ClassicalLiouvillianExpander {
  let tables: SphericalHarmonicTables
  /// The Hamiltonian's unit cell: terms whose leftmost site is 0.
  let cell: [SpinMonomial]
  /// Sites a term can reach beyond the element on either side (the Hamiltonian's range − 1).
  let pad: Int
  let reflection: Bool
  let wordBits: [UInt128]
  let wordLength: [Int]

  init(tables: SphericalHarmonicTables, cell: [SpinMonomial], reflection: Bool) {
    self.tables = tables
    self.cell = cell
    self.pad = max(0, (cell.map(\.width).max() ?? 1) - 1)
    self.reflection = reflection
    let n = SphericalHarmonicTables.count(upToDegree: tables.maxDegree + 1)
    wordBits = (0..<n).map { HarmonicKey.word($0).bits }
    wordLength = (0..<n).map { HarmonicKey.word($0).length }
  }

  @inline(__always)
  static func standard(_ x: UInt128) -> UInt128 { x << x.leadingZeroBitCount }

  /// Bits [0, start) of `full`, then `mid` (right-aligned, `length` bits), then bits [end, 128) of `full`.
  @inline(__always)
  static func splice(_ full: UInt128, start: Int, end: Int, used: Int, mid: UInt128, length: Int) -> UInt128 {
    precondition(start + length + max(0, used - end) <= 128, "classical chain: a product outgrew its 128-bit key")
    let prefix = start == 0 ? 0 : full & ~(UInt128.max >> start)
    let middle = length == 0 ? 0 : mid << (128 - start - length)
    return prefix | middle | ((full << end) >> (start + length))
  }

  func canonical(sites: [UInt16]) -> (key: UInt128, orbit: Int)? {
    guard let f = HarmonicKey.encode(sites), let r = HarmonicKey.encode(sites.reversed()) else { return nil }
    let a = Self.standard(f)
    let b = Self.standard(r)
    if !reflection { return (a, 1) }
    return (min(a, b), a == b ? 1 : 2)
  }

  func expand(_ key: UInt128, _ emit: (UInt128, Double) -> Void) {
    var sites = 0
    HarmonicKey.decode(key) { _ in sites += 1 }
    let window = sites + 2 * pad
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * window + 2) { buffer in
      guard let k = buffer.baseAddress else { preconditionFailure("a non-empty allocation has a base address") }
      let length = k + window
      let offset = length + window  // window + 1 entries
      let reverseOffset = offset + window + 1
      for j in 0..<window { k[j] = 0 }
      var j = pad
      HarmonicKey.decode(key) { h in
        k[j] = Int(h)
        j += 1
      }
      var forwardLength = 0
      for j in 0..<window {
        length[j] = wordLength[k[j]]
        offset[j] = forwardLength
        forwardLength += length[j]
      }
      offset[window] = forwardLength
      precondition(forwardLength <= 128, "classical chain: a product outgrew its 128-bit key")
      var reversedBits: UInt128 = 0
      var reversedLength = 0
      for j in stride(from: window - 1, through: 0, by: -1) {
        reverseOffset[j] = reversedLength
        reversedBits = (reversedBits << length[j]) | wordBits[k[j]]
        reversedLength += length[j]
      }
      // Constants from here on: the nested function below captures them by value.
      let reverse = reversedBits << (128 - reversedLength)
      let reverseUsed = reversedLength
      let used = forwardLength
      let forward = key >> pad
      let mirrorKey = Self.standard(reverse)
      let orbitIn = reflection && mirrorKey != key ? 2.0 : 1.0

      /// Emits the product whose term sites `at` carry harmonics `h`.
      @inline(__always)
      func emitProduct(at termSites: UnsafeBufferPointer<Int>, harmonics h: UnsafeBufferPointer<Int>, value: Double) {
        let a = termSites[0]
        let b = termSites[termSites.count - 1]
        var mid: UInt128 = 0
        var midLength = 0
        var reverseMid: UInt128 = 0
        var t = 0
        for j in a...b {
          let harmonic: Int
          if t < termSites.count && termSites[t] == j {
            harmonic = h[t]
            t += 1
          } else {
            harmonic = k[j]
          }
          let w = wordBits[harmonic]
          let l = wordLength[harmonic]
          mid = (mid << l) | w
          reverseMid = reverseMid | (w << midLength)
          midLength += l
        }
        let f = Self.standard(
          Self.splice(forward, start: offset[a], end: offset[b + 1], used: used, mid: mid, length: midLength))
        var out = f
        var orbitOut = 1.0
        if reflection {
          let r = Self.standard(
            Self.splice(
              reverse, start: reverseOffset[b], end: reverseOffset[a] + length[a], used: reverseUsed, mid: reverseMid,
              length: midLength))
          if r != f { orbitOut = 2 }
          out = min(f, r)
        }
        emit(out, orbitIn == orbitOut ? value : value * (orbitIn / orbitOut).squareRoot())
      }

      withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { scratch in
        guard let termSites = scratch.baseAddress else { preconditionFailure("a non-empty allocation has a base address") }
        let harmonics = termSites + 8
        for p in 0..<(pad + sites) {
          for term in cell {
            let r = term.sites.count
            precondition(r <= 8, "classical chain: terms act on at most 8 sites")
            for t in 0..<r { termSites[t] = p + term.sites[t] }
            for s in 0..<r {
              let ks = k[termSites[s]]
              guard ks != 0 else { continue }
              let d = tables.derive[term.components[s]]
              let c = -term.coefficient
              if r == 1 {
                for e in d.column(ks) {
                  harmonics[0] = Int(d.targets[e])
                  emitProduct(
                    at: UnsafeBufferPointer(start: termSites, count: 1),
                    harmonics: UnsafeBufferPointer(start: harmonics, count: 1), value: c * d.values[e])
                }
              } else if r == 2 {
                let o = 1 - s
                let m = tables.multiply[term.components[o]]
                for e in d.column(ks) {
                  harmonics[s] = Int(d.targets[e])
                  for f in m.column(k[termSites[o]]) {
                    harmonics[o] = Int(m.targets[f])
                    emitProduct(
                      at: UnsafeBufferPointer(start: termSites, count: 2),
                      harmonics: UnsafeBufferPointer(start: harmonics, count: 2), value: c * d.values[e] * m.values[f])
                  }
                }
              } else {
                var scratchSites: [UInt16] = []
                let current = (0..<r).map { k[termSites[$0]] }
                forEachTermProduct(
                  tables: tables, components: term.components, harmonics: current, derivationSite: s,
                  scratch: &scratchSites
                ) { newHarmonics, value in
                  for t in 0..<r { harmonics[t] = Int(newHarmonics[t]) }
                  emitProduct(
                    at: UnsafeBufferPointer(start: termSites, count: r),
                    harmonics: UnsafeBufferPointer(start: harmonics, count: r), value: c * value)
                }
              }
            }
          }
        }
      }
    }
  }
}
