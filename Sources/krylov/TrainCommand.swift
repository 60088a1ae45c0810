import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train the forecaster on a dataset and write a safetensors checkpoint.",
    discussion: """
      Trains the causal transformer (docs/model.md) on the trusted coefficients of every \
      sequence in the dataset(s), with AdamW, gradient clipping, warm-up and cosine decay, on \
      all cores. A share of the systems (by model, parameters, operator and boundary, all \
      sizes together) is held out for validation; every --eval-every steps the teacher-forced \
      validation loss and the error of rollouts from the first rolloutPrefix coefficients \
      (30 unless the configuration says otherwise) are printed, \
      and the weights with the lowest rollout error are the ones written. Ctrl-C stops and \
      still writes the best weights so far.

      --initial-weights continues from a trained checkpoint instead of a fresh initialization \
      (fine-tuning; "default" names the embedded quantum model, "classical" the embedded \
      classical one). The model's shape then comes from that checkpoint, and a --config that \
      sets a shape field to another value is refused. The starting weights are scored too, and \
      kept if no step improves on them.

      A JSON --config may set any of: layers, heads, channels, scaleWindow, stepGain, \
      systemInputs (the model reads each chain's size and boundary; true by default), and \
      steps, batchSize, sequenceLength, learningRate, warmupSteps, weightDecay, \
      gradientClip, inputNoise, validationFraction, evaluationInterval, rolloutPrefix \
      (prefix length of the validation rollouts, at most half of each sequence), \
      unknownSystemFraction (share of training windows whose system is withheld), seed; flags \
      override it. After training, the kept weights are rolled out on the validation systems \
      and the quantiles of their errors become the checkpoint's band calibration \
      (docs/model.md).
      """
  )

  @Option(parsing: .upToNextOption, help: "Dataset directories built by 'krylov dataset build'.")
  var data: [String]

  @Option(help: "Checkpoint to write (.safetensors).")
  var out: String

  @Option(help: "JSON file with model and training settings.")
  var config: String?

  @Option(
    help: """
      Start from this checkpoint's weights ("default": the embedded quantum model, "classical": the \
      embedded classical one) instead of a fresh initialization.
      """)
  var initialWeights: String?

  @Option(help: "Random seed (initialization, split, batches, noise).")
  var seed: UInt64?

  @Option(help: "Optimizer steps.")
  var steps: Int?

  @Option(help: "Sequences per batch.")
  var batchSize: Int?

  @Option(help: "Peak learning rate.")
  var learningRate: Double?

  @Option(help: "Steps between evaluations.")
  var evalEvery: Int?

  @Option(
    help: """
      The commit of the code that trains, recorded in the checkpoint so the model can be       reproduced (make model passes it).
      """)
  var sourceCommit: String?

  @Flag(name: .shortAndLong, help: "No progress on standard error.")
  var quiet = false

  func validate() throws {
    if let steps, steps < 1 { throw ValidationError("--steps must be at least 1 (got \(steps))") }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive") }
    if let evalEvery, evalEvery < 1 { throw ValidationError("--eval-every must be at least 1") }
    guard !data.isEmpty else { throw ValidationError("--data needs at least one dataset directory") }
  }

  struct Settings: Codable {
    var layers, heads, channels, scaleWindow: Int?
    var stepGain: Double?
    var systemInputs: Bool?
  }

  func run() throws {
    do { try Checkpoint.checkTarget(out) } catch {
      printError("error: cannot write \(out): \(error)")
      throw ExitCode(1)
    }
    var modelConfig = ForecasterConfig()
    var options = TrainingOptions()
    var shape = Settings()
    if let config {
      let bytes: Data
      do { bytes = try InputFile.read(path: config, limit: 1 << 20) } catch {
        printError("error: \(config): cannot read the configuration: \(error.reason)")
        throw ExitCode(1)
      }
      // One file, two readers: the model's shape here, the training options by their own decoder
      // (absent keys keep their defaults).
      let s: Settings
      do {
        s = try JSONDecoder().decode(Settings.self, from: bytes)
        options = try JSONDecoder().decode(TrainingOptions.self, from: bytes)
      } catch {
        let detail = (error as? DecodingError).map(describe) ?? "\(error)"
        printError("error: \(config): not a valid configuration: \(detail)")
        throw ExitCode(1)
      }
      shape = s
      modelConfig = ForecasterConfig(
        layers: s.layers ?? modelConfig.layers, heads: s.heads ?? modelConfig.heads,
        channels: s.channels ?? modelConfig.channels, scaleWindow: s.scaleWindow ?? modelConfig.scaleWindow,
        stepGain: s.stepGain ?? modelConfig.stepGain, systemInputs: s.systemInputs ?? modelConfig.systemInputs)
    }
    if let seed { options.seed = seed }
    if let steps { options.steps = steps }
    if let batchSize { options.batchSize = batchSize }
    if let learningRate { options.learningRate = learningRate }
    if let evalEvery { options.evaluationInterval = evalEvery }
    if let problem = modelConfig.problem {
      printError("error: invalid model configuration: \(problem)")
      throw ExitCode(1)
    }
    if let problem = options.problem {
      printError("error: invalid training settings: \(problem)")
      throw ExitCode(1)
    }
    var initial: Forecaster?
    if let initialWeights {
      let weights: Forecaster
      do {
        switch initialWeights {
        case "default", "quantum": weights = try DefaultModel.load(.quantum)
        case "classical": weights = try DefaultModel.load(.classical)
        default: weights = try Checkpoint.load(path: initialWeights)
        }
      } catch {
        printError("error: --initial-weights: \(error)")
        throw ExitCode(1)
      }
      initial = weights
      let have = weights.config
      var conflicts: [(String, Double, Double)] = []
      func check(_ name: String, _ asked: Double?, _ has: Double) {
        if let asked, asked != has { conflicts.append((name, asked, has)) }
      }
      check("layers", shape.layers.map(Double.init), Double(have.layers))
      check("heads", shape.heads.map(Double.init), Double(have.heads))
      check("channels", shape.channels.map(Double.init), Double(have.channels))
      check("scaleWindow", shape.scaleWindow.map(Double.init), Double(have.scaleWindow))
      check("stepGain", shape.stepGain, have.stepGain)
      check("systemInputs", shape.systemInputs.map { $0 ? 1 : 0 }, have.systemInputs ? 1 : 0)
      if let (name, asked, has) = conflicts.first {
        printError(
          "error: the configuration asks for \(name) \(String(format: "%g", asked)) but --initial-weights \(initialWeights) has "
            + "\(name) \(String(format: "%g", has)): another shape (drop the shape fields to fine-tune)")
        throw ExitCode(1)
      }
      modelConfig = weights.config
    }

    let loaded = try TrainingData.loadOrExit(data)
    let (sequences, manifestHashes, datasetNames, spinKinds) =
      (loaded.sequences, loaded.manifestHashes, loaded.names, loaded.spinKinds)
    let trainer: Trainer
    do { trainer = try Trainer(config: modelConfig, options: options, sequences: sequences) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    // Activations of a batch, plus parameters, gradients, the best copy and AdamW's two moments.
    let activations = Transformer<Float>.activationBytes(
      config: modelConfig, B: options.batchSize, T: options.sequenceLength)
    let (state, stateOverflow) = ParameterLayout(modelConfig).count.multipliedReportingOverflow(by: 5 * 4)
    let (bytes, overflow) = activations.addingReportingOverflow(state)
    if stateOverflow || overflow || bytes > RunPlan.defaultMemoryLimit {
      printError(
        "error: training would need about \(stateOverflow || overflow ? "more than any machine has" : formatBytes(bytes)) "
          + "(activations \(formatBytes(activations)), parameters and optimizer state \(formatBytes(state))) against "
          + "the limit of \(formatBytes(RunPlan.defaultMemoryLimit)); lower --batch-size, sequenceLength or the model's size")
      throw ExitCode(3)
    }
    if !quiet {
      printError(
        "krylov: training on \(trainer.training.count) sequences, validating on \(trainer.validation.count) "
          + "(held-out systems); \(ParameterLayout(modelConfig).count) parameters, \(options.steps) steps")
    }
    let cancel = CancellationFlag()
    let watcher = InterruptWatcher { cancel.set() }
    let result = trainer.run(
      initial: initial?.model,
      progress: { p in
        guard !quiet else { return }
        let eta = p.elapsedSeconds / Double(p.step) * Double(p.totalSteps - p.step)
        printError(
          String(
            format: "step %5d/%d  loss %.5f  val loss %.5f  val rollout err %.4f%@  %.0f tok/s  lr %.2e  eta %.0f s",
            p.step, p.totalSteps, p.loss, p.validationLoss, p.validationRolloutError, p.isBest ? " *" : "  ",
            p.tokensPerSecond, p.learningRate, eta))
      }, isCancelled: { cancel.isSet })

    let record = TrainingRecord(
      datasets: datasetNames, manifestHashes: manifestHashes, sourceCommit: sourceCommit, spins: spinKinds.sorted(),
      initialWeights: initialWeights ?? "none",
      trainingSystems: result.trainingSystems.count, validationSystems: result.validationSystems,
      bestStep: result.bestStep, bestValidationRolloutError: finiteOrNil(result.bestRolloutError), options: options,
      history: result.history.map {
        .init(
          step: $0.step, loss: finiteOrNil($0.loss), validationLoss: finiteOrNil($0.validationLoss),
          validationRolloutError: finiteOrNil($0.validationRolloutError), tokensPerSecond: finiteOrNil($0.tokensPerSecond))
      }, cancelled: result.cancelled)
    let manifest: String
    do { manifest = try CoefficientFile.json(record, pretty: false).trimmingCharacters(in: .newlines) } catch {
      printError("error: \(error.message)")
      throw ExitCode(1)
    }
    let calibration: String
    let coverage: String
    do {
      calibration = try CoefficientFile.json(result.calibration, pretty: false).trimmingCharacters(in: .newlines)
      coverage = try CoefficientFile.json(TrainingCoverage(contexts: sequences.map(\.context)), pretty: false)
        .trimmingCharacters(in: .newlines)
    } catch {
      printError("error: \(error.message)")
      throw ExitCode(1)
    }
    do {
      try Checkpoint.write(
        result.model,
        extra: ["training": manifest, BandCalibration.metadataKey: calibration, TrainingCoverage.metadataKey: coverage],
        to: out)
    } catch {
      printError("error: cannot write \(out): \(InputFile.reason(error))")
      throw ExitCode(1)
    }
    if !quiet {
      printError(
        "krylov: wrote \(out) ("
          + (result.bestStep == 0 ? "the initial weights: no step improved on them" : "weights of step \(result.bestStep)")
          + ", validation rollout error "
          + String(format: "%.4f", result.bestRolloutError) + ")\(result.cancelled ? "; training was interrupted" : "")")
    }
    if watcher.signalNumber != nil { throw ExitCode(130) }
  }
}

/// The training record kept in a checkpoint's metadata under `training` (docs/formats.md).
struct TrainingRecord: Encodable {
  var datasets: [String]
  /// FNV-1a 64 of each dataset's manifest.json, in the order of `datasets`.
  var manifestHashes: [String]
  var sourceCommit: String?
  var spins: [String]
  var initialWeights: String
  var trainingSystems: Int
  var validationSystems: [String]
  var bestStep: Int
  var bestValidationRolloutError: Double?
  var options: TrainingOptions
  var history: [Point]
  var cancelled: Bool

  struct Point: Encodable {
    var step: Int
    var loss: Double?
    var validationLoss: Double?
    var validationRolloutError: Double?
    var tokensPerSecond: Double?
    enum CodingKeys: String, CodingKey {
      case step, loss
      case validationLoss = "validation_loss"
      case validationRolloutError = "validation_rollout_error"
      case tokensPerSecond = "tokens_per_second"
    }
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(step, forKey: .step)
      try c.encode(loss, forKey: .loss)
      try c.encode(validationLoss, forKey: .validationLoss)
      try c.encode(validationRolloutError, forKey: .validationRolloutError)
      try c.encode(tokensPerSecond, forKey: .tokensPerSecond)
    }
  }

  enum CodingKeys: String, CodingKey {
    case datasets, spins
    case manifestHashes = "manifest_fnv1a64"
    case sourceCommit = "source_commit"
    case initialWeights = "initial_weights"
    case trainingSystems = "training_systems"
    case validationSystems = "validation_systems"
    case bestStep = "best_step"
    case bestValidationRolloutError = "best_validation_rollout_error"
    case options, history, cancelled
  }
}

/// The sequences of one or more dataset directories, each told its chain: what `train` learns
/// from and `calibrate` scores on.
struct TrainingData {
  var sequences: [TrainingSequence] = []
  /// FNV-1a 64 of each directory's manifest.json.
  var manifestHashes: [String] = []
  var names: [String] = []
  var spinKinds = Set<String>()

  static func loadOrExit(_ directories: [String]) throws -> TrainingData {
    var data = TrainingData()
    for directory in directories {
      do {
        let manifest = try DatasetManifest.load(directory: directory)
        data.names.append(manifest.name)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(DatasetManifest.fileName))
        data.manifestHashes.append(FNV1a.hex(bytes))
        for entry in manifest.entries {
          let b = try manifest.trustedCoefficients(of: entry, directory: directory)
          let context = SystemContext(try entry.chain())
          data.sequences.append(TrainingSequence(values: b, group: entry.group, label: entry.label, context: context))
          data.spinKinds.insert(entry.spinKind.rawValue)
        }
      } catch {
        printError("error: \(error)")
        throw ExitCode(1)
      }
    }
    return data
  }
}
