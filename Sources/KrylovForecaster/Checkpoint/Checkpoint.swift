import Foundation

/// Why a checkpoint could not be used.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Model checkpoints: safetensors files whose tensors are the parameter layout's named views
/// (float32) and whose metadata carries the configuration and the training record.
public enum Checkpoint {
  public static let formatName = "krylov-forecaster"
  public static let formatVersion = "1"

  /// Metadata every checkpoint carries: format, version and the configuration as JSON;
  /// `extra` (the training manifest, normalization notes) is added beside them.
  public static func metadata(config: ForecasterConfig, extra: [String: String]) -> [String: String] {
    var m = extra
    m["format"] = formatName
    m["format_version"] = formatVersion
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    m["config"] = String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self)
    m["normalization"] =
      "x_n = b_n / RMS(b_1..b_\(config.scaleWindow)); features (x_n, \(config.stepGain)*(x_n - x_{n-1}), log max(x_n, 1e-3)"
      + (config.systemInputs ? ", given, 8/N, open, min(n/2N, 4)" : "") + "); output = \(config.stepGain)*(x_{n+1} - x_n)"
    return m
  }

  public static func encode(_ model: Transformer<Float>, extra: [String: String] = [:]) throws -> Data {
    var tensors: [String: StoredTensor] = [:]
    for slot in model.layout.slots {
      var bytes = Data(capacity: slot.count * 4)
      for i in slot.offset..<(slot.offset + slot.count) {
        var bits = model.params[i].bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
      }
      tensors[slot.name] = StoredTensor(dtype: "F32", shape: slot.shape, bytes: bytes)
    }
    return try Safetensors.encode(tensors: tensors, metadata: metadata(config: model.config, extra: extra))
  }

  /// Refuses a target that exists and is not a regular file.
  ///
  /// The atomic write renames a new file over the target, which over a device (/dev/null, even
  /// /dev/full) would replace the device itself. Commands call it before they train or
  /// calibrate, so nothing is computed for a file that cannot be written.
  public static func checkTarget(_ path: String) throws(CheckpointError) {
    var status = stat()
    guard stat(path, &status) == 0 else { return }
    switch status.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFDIR:
      throw CheckpointError(message: "\(path) is a directory: name the model file, such as \(path)/model.safetensors")
    default:
      throw CheckpointError(message: "\(path) exists and is not a regular file (a device?): a model is written to a file")
    }
  }

  /// Writes `model` atomically: a file beside the target, renamed when complete.
  ///
  /// A model with a weight that is not finite (training diverged) is refused, so no file that
  /// cannot forecast is ever written.
  public static func write(_ model: Transformer<Float>, extra: [String: String] = [:], to path: String) throws {
    if let bad = model.params.firstIndex(where: { !$0.isFinite }) {
      throw CheckpointError(
        message: "weight \(bad) is \(model.params[bad]): training diverged (lower the learning rate or the step gain); "
          + "nothing written")
    }
    try checkTarget(path)
    let data = try encode(model, extra: extra)
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  public static func load(path: String) throws(CheckpointError) -> Forecaster {
    // Plain reasons for the common failures (this layer does not see the engine's InputFile).
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CheckpointError(message: "\(path): cannot read the model file: no such file")
    }
    guard !isDirectory.boolValue else { throw CheckpointError(message: "\(path): cannot read the model file: it is a directory") }
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      attributes[.type] as? FileAttributeType == .typeRegular
    else { throw CheckpointError(message: "\(path): cannot read the model file: it is not a regular file") }
    // The largest model krylov trains is a few megabytes; a file beyond 2 GiB is not a checkpoint.
    if let size = attributes[.size] as? Int, size > 2 << 30 {
      throw CheckpointError(message: "\(path): cannot read the model file: it holds \(size >> 20) MiB, more than 2 GiB")
    }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw CheckpointError(message: "\(path): cannot read the model file: permission denied or unreadable")
    }
    return try decode(data, source: path)
  }

  /// Decodes a checkpoint, refusing a corrupt, truncated or mismatched file with the reason.
  public static func decode(_ data: Data, source: String) throws(CheckpointError) -> Forecaster {
    func fail(_ message: String) -> CheckpointError { CheckpointError(message: "\(source): \(message)") }
    let file: (tensors: [String: StoredTensor], metadata: [String: String])
    do { file = try Safetensors.decode(data, source: source) } catch { throw CheckpointError(message: error.description) }
    guard file.metadata["format"] == formatName else {
      throw fail(
        "not a krylov forecaster checkpoint (metadata 'format' is \(file.metadata["format"].map { "'\($0)'" } ?? "missing"))")
    }
    guard file.metadata["format_version"] == formatVersion else {
      throw fail(
        "checkpoint format version \(file.metadata["format_version"] ?? "?") is not supported (this build reads \(formatVersion))"
      )
    }
    guard let configText = file.metadata["config"],
      let config = try? JSONDecoder().decode(ForecasterConfig.self, from: Data(configText.utf8))
    else { throw fail("the configuration in the metadata is missing or malformed") }
    if let problem = config.problem { throw fail("invalid configuration: \(problem)") }
    var calibration: BandCalibration?
    if let text = file.metadata[BandCalibration.metadataKey] {
      guard let decoded = try? JSONDecoder().decode(BandCalibration.self, from: Data(text.utf8)) else {
        throw fail("the band calibration in the metadata is malformed")
      }
      if let problem = decoded.problem { throw fail("invalid band calibration: \(problem)") }
      calibration = decoded
    }
    var coverage: TrainingCoverage?
    if let text = file.metadata[TrainingCoverage.metadataKey] {
      guard let decoded = try? JSONDecoder().decode(TrainingCoverage.self, from: Data(text.utf8)) else {
        throw fail("the training coverage in the metadata is malformed")
      }
      coverage = decoded
    }
    // Every tensor is checked against the configuration before anything is allocated for it,
    // so a small file that declares a huge model is refused instead of asking for its memory.
    let layout = ParameterLayout(config)
    let expected = Set(layout.slots.map(\.name))
    if let extra = Set(file.tensors.keys).subtracting(expected).sorted().first {
      throw fail("unexpected tensor '\(extra)' for this configuration")
    }
    for slot in layout.slots {
      guard let t = file.tensors[slot.name] else { throw fail("tensor '\(slot.name)' is missing") }
      guard t.dtype == "F32" else { throw fail("tensor '\(slot.name)' is \(t.dtype); float32 expected") }
      guard t.shape == slot.shape else {
        throw fail("tensor '\(slot.name)' has shape \(t.shape); the configuration needs \(slot.shape)")
      }
    }
    let model = Transformer<Float>(config: config)
    for slot in model.layout.slots {
      guard let t = file.tensors[slot.name] else { throw fail("tensor '\(slot.name)' is missing") }
      var bad = false
      t.bytes.withUnsafeBytes { raw in
        for i in 0..<slot.count {
          let v = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
          if !v.isFinite { bad = true }
          model.params[slot.offset + i] = v
        }
      }
      if bad { throw fail("tensor '\(slot.name)' holds non-finite values") }
    }
    return Forecaster(model: model, metadata: file.metadata, calibration: calibration, coverage: coverage)
  }
}

/// The models shipped inside the package, used whenever no checkpoint is named.
///
/// One is trained on quantum chains' sequences, one fine-tuned on classical chains'
/// (docs/model-card.md). The forecaster sees only numbers; the caller picks the domain from the
/// sequence's metadata.
public enum DefaultModel {
  public enum Domain: String, Sendable, CaseIterable {
    case quantum, classical

    var resourceName: String {
      switch self {
      case .quantum: "default-model"
      case .classical: "classical-model"
      }
    }

    /// How the model is named to users.
    public var displayName: String {
      switch self {
      case .quantum: "embedded default"
      case .classical: "embedded classical"
      }
    }
  }

  /// Loads the embedded checkpoint for sequences of `domain`.
  public static func load(_ domain: Domain = .quantum) throws(CheckpointError) -> Forecaster {
    guard let url = Bundle.module.url(forResource: domain.resourceName, withExtension: "safetensors") else {
      throw CheckpointError(message: "the \(domain.displayName) model is missing from this build")
    }
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw CheckpointError(message: "the \(domain.displayName) model cannot be read: \(error.localizedDescription)")
    }
    return try Checkpoint.decode(data, source: "\(domain.displayName) model")
  }
}
