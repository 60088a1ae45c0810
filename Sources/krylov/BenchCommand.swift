import ArgumentParser
import Foundation
import KrylovEngine

struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure the Lanczos engine: time, rate, memory and bandwidth against the machine's copy bandwidth.",
    discussion: """
      Runs mfim / sz_total / pbc for each size with the given steps (both the run and its \
      trust probe, one per core) and reports seconds, coefficients per second, peak memory, \
      and the memory traffic of the kernels as a fraction of the copy bandwidth measured in
      the same run. Build in release mode for meaningful figures: swift build -c release.
      """
  )

  @Option(parsing: .upToNextOption, help: "Chain sizes.")
  var sizes: [Int] = [8, 10, 11]

  @Option(help: "Coefficients per run.")
  var steps: Int = 200

  @Option(help: "Model.")
  var model: ModelName = .mfim

  @Option(help: "Operator.")
  var op: OperatorName = .szTotal

  @Option(help: ArgumentHelp("Reorthogonalization: auto, full or partial.", valueName: "mode"))
  var reorth: ReorthogonalizationOption = .auto

  @Option(help: ArgumentHelp("Storage of the Krylov vectors: auto, double or single.", valueName: "precision"))
  var precision: PrecisionOption = .auto

  @Option(help: "Output format: csv or json (one record per size).")
  var format: OutputFormat = .csv

  func validate() throws {
    try requireRange("--steps", steps, 1...100_000)
    guard !sizes.isEmpty else { throw ValidationError("--sizes needs at least one size") }
  }

  func run() async throws {
    // Measured first and after each run, so drift on a shared machine shows; runs use the mean.
    var copies = [CopyBandwidth.measure()]
    printError(String(format: "krylov bench: copy bandwidth %.2f GB/s (2 threads, 256 MiB each)", copies[0] / 1e9))
    var records: [BenchDocument.Run] = []
    if format == .csv {
      print(
        "model,op,n,steps,reorth,precision,reorth_steps,computed,trusted,setup_s,run_s,coeff_per_s,peak_rss_MiB,traffic_GB,bandwidth_GBps,copy_GBps,fraction_of_copy"
      )
    }
    for n in sizes {
      let chain: SpinChain
      do { chain = try SpinChain(model: model, size: n, boundary: .pbc, operator: op) } catch {
        throw ValidationError(error.description)
      }
      let plan = try RunPlan(
        chain: chain, steps: steps, reorthogonalization: reorth.mode, precision: precision.precision)
      do { try plan.checkMemory(limit: RunPlan.defaultMemoryLimit) } catch {
        printError("error: \(error)")
        throw ExitCode(3)
      }
      resetPeakResident()
      let setupStart = Date()
      let space = try plan.buildSectorSpace()
      let setup = Date().timeIntervalSince(setupStart)
      let driver = LanczosDriver(space: space, options: plan.lanczosOptions)
      let result = driver.run()
      let peak = peakResidentBytes()
      let traffic = KernelTraffic.bytes(space: space, result: result, precision: plan.precision)
      let bandwidth = traffic / result.totalSeconds
      copies.append(CopyBandwidth.measure())
      let copy = (copies[copies.count - 2] + copies[copies.count - 1]) / 2
      records.append(
        BenchDocument.Run(
          model: model.rawValue, op: op.rawValue, n: n, steps: steps, computed: result.coefficients.count,
          trusted: result.trustedCount, setupSeconds: setup, runSeconds: result.totalSeconds,
          coefficientsPerSecond: Double(result.coefficients.count) / result.totalSeconds,
          peakResidentMiB: Double(peak) / 1048576, trafficGB: traffic / 1e9, bandwidthGBps: bandwidth / 1e9,
          copyGBps: copy / 1e9, fractionOfCopy: bandwidth / copy, dimensions: space.blockDimensions,
          reorth: plan.reorthogonalization.rawValue, precision: plan.precision.rawValue,
          reorthogonalizedSteps: result.reorthogonalizedSteps))
      if format == .csv {
        print(
          String(
            format: "%@,%@,%d,%d,%@,%@,%d,%d,%d,%.3f,%.3f,%.1f,%.1f,%.2f,%.2f,%.2f,%.2f", model.rawValue, op.rawValue, n,
            steps, plan.reorthogonalization.rawValue, plan.precision.rawValue, result.reorthogonalizedSteps,
            result.coefficients.count, result.trustedCount, setup, result.totalSeconds,
            Double(result.coefficients.count) / result.totalSeconds, Double(peak) / 1048576, traffic / 1e9,
            bandwidth / 1e9, copy / 1e9, bandwidth / copy))
      }
    }
    if format == .json {
      let sink = try DataSink.openOrExit(nil)
      try sink.writeJSON(BenchDocument(copyBandwidthGBps: copies.map { $0 / 1e9 }, runs: records))
      try sink.finish()
    }
  }
}

/// What `krylov bench --format json` writes.
struct BenchDocument: Encodable {
  var copyBandwidthGBps: [Double]
  var runs: [Run]

  struct Run: Encodable {
    var model: String
    var op: String
    var n: Int
    var steps: Int
    var computed: Int
    var trusted: Int
    var setupSeconds: Double
    var runSeconds: Double
    var coefficientsPerSecond: Double
    var peakResidentMiB: Double
    var trafficGB: Double
    var bandwidthGBps: Double
    var copyGBps: Double
    var fractionOfCopy: Double
    var dimensions: [Int]
    var reorth: String
    var precision: String
    var reorthogonalizedSteps: Int

    enum CodingKeys: String, CodingKey {
      case model, op, n, steps, computed, trusted
      case setupSeconds = "setup_s"
      case runSeconds = "run_s"
      case coefficientsPerSecond = "coeff_per_s"
      case peakResidentMiB = "peak_rss_MiB"
      case trafficGB = "traffic_GB"
      case bandwidthGBps = "bandwidth_GBps"
      case copyGBps = "copy_GBps"
      case fractionOfCopy = "fraction_of_copy"
      case dimensions, reorth, precision
      case reorthogonalizedSteps = "reorthogonalized_steps"
    }
  }

  enum CodingKeys: String, CodingKey {
    case copyBandwidthGBps = "copy_bandwidth_GBps"
    case runs
  }
}

/// Resets the peak-resident counter (VmHWM) so each run reports its own peak.
func resetPeakResident() {
  if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
    handle.write(Data("5".utf8))
    try? handle.close()
  }
}

/// The machine's copy bandwidth: two threads each copying a 256 MiB buffer, best of five.
enum CopyBandwidth {
  /// The two buffers, shared by the copying threads: each thread copies its own half.
  private struct Buffers: @unchecked Sendable {
    let source: UnsafeMutableRawPointer
    let target: UnsafeMutableRawPointer
  }

  static func measure() -> Double {
    let bytes = 256 << 20
    let source = UnsafeMutableRawPointer.allocate(byteCount: 2 * bytes, alignment: 64)
    let target = UnsafeMutableRawPointer.allocate(byteCount: 2 * bytes, alignment: 64)
    defer {
      source.deallocate()
      target.deallocate()
    }
    memset(source, 1, 2 * bytes)
    memset(target, 0, 2 * bytes)
    let buffers = Buffers(source: source, target: target)
    var best = Double.infinity
    for _ in 0..<5 {
      let start = Date()
      DispatchQueue.concurrentPerform(iterations: 2) { i in
        _ = memcpy(buffers.target + i * bytes, buffers.source + i * bytes, bytes)
      }
      best = min(best, Date().timeIntervalSince(start))
    }
    // A copy reads and writes every byte.
    return Double(2 * 2 * bytes) / best
  }
}

/// Bytes the Lanczos kernels must move, counted from the algorithm (each operand read once per use).
enum KernelTraffic {
  /// Bytes the kernels must move for `result`, counted from the algorithm for both runs.
  static func bytes(space: any SparseOperatorSpace, result: LanczosResult, precision: VectorPrecision) -> Double {
    let dims = space.blockDimensions
    let blocks = dims.count
    var stored = [Int](repeating: 0, count: blocks)
    stored[space.initialBlock] = 1
    var total = 0.0
    let reorthogonalized = [Set(result.reorthogonalizedAt), Set(result.probeReorthogonalizedAt)]
    for n in 1...max(1, result.coefficients.count) where !result.coefficients.isEmpty {
      let source = (space.initialBlock + n - 1) % blocks
      let target = (space.initialBlock + n) % blocks
      let m = space.matrices[source]
      // Sparse product, both runs in one pass: the matrix and row starts once; each run's
      // gathered input and output.
      let spmv = Double(m.storageBytes) + 2 * Double(dims[source] * 8 + dims[target] * 8)
      // Two Gram-Schmidt passes in three sweeps over the block's stored vectors, where done.
      let head = precision.vectorsInDouble(of: stored[target])
      let storedBytes = Double(head * 8 + (stored[target] - head) * (precision == .double ? 8 : 4)) * Double(dims[target])
      let reorth = reorthogonalized.reduce(0.0) { $0 + ($1.contains(n) ? 3 * storedBytes : 0) }
      // Recurrence term, norm, store, rotation and probe perturbation: about seven vector sweeps per run.
      let vector = 2 * Double(7 * dims[target] * 8)
      total += spmv + reorth + vector
      stored[target] += 1
    }
    return total
  }
}
