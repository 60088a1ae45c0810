import ArgumentParser
import Foundation
import KrylovAnalysis
import KrylovEngine
import KrylovForecaster

struct CalibrateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "calibrate",
    abstract: "Recompute a checkpoint's 80% band from the validation systems of its training data.",
    discussion: """
      The weights are not touched. The band is calibrated on the validation systems the \
      checkpoint's training record lists (those its training never saw, whichever trainer wrote \
      it), or, for a record without them, on the seeded split by system its training options \
      give (as 'krylov train' makes it); the model is rolled out on \
      each, told its system and with it withheld, and the quantiles of its errors become the \
      band's table (docs/model.md, "Uncertainty"). \
      Use it on a checkpoint trained before its band method changed, or to calibrate on the \
      data a model will be used on. Measure coverage on other systems ('krylov evaluate').
      """
  )

  @Option(parsing: .upToNextOption, help: "Dataset directories (as given to 'krylov train').")
  var data: [String]

  @Option(help: "The checkpoint to calibrate.")
  var model: String

  @Option(help: "Where the calibrated checkpoint goes (may be the same file).")
  var out: String

  func validate() throws {
    guard !data.isEmpty else { throw ValidationError("--data needs at least one dataset directory") }
  }

  func run() throws {
    do { try Checkpoint.checkTarget(out) } catch {
      printError("error: cannot write \(out): \(error)")
      throw ExitCode(1)
    }
    let forecaster: Forecaster
    do { forecaster = try Checkpoint.load(path: model) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    var options = TrainingOptions()
    var validationLabels: [String]?
    if let training = forecaster.metadata["training"],
      let record = try? JSONDecoder().decode(TrainingRecordSplit.self, from: Data(training.utf8))
    {
      options = record.options
      validationLabels = record.validationSystems.flatMap { $0.isEmpty ? nil : $0 }
    } else {
      printError("krylov: \(model) records no training options; using the defaults to choose validation systems")
    }
    let sequences = try TrainingData.loadOrExit(data).sequences
    let trainer: Trainer
    do {
      trainer = try Trainer(
        config: forecaster.config, options: options, sequences: sequences, validationLabels: validationLabels)
    } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
    let calibration = trainer.calibrate(forecaster.model)
    var metadata = forecaster.metadata
    for key in Checkpoint.metadata(config: forecaster.config, extra: [:]).keys { metadata[key] = nil }
    do {
      metadata[BandCalibration.metadataKey] = try CoefficientFile.json(calibration, pretty: false)
        .trimmingCharacters(in: .newlines)
      try Checkpoint.write(forecaster.model, extra: metadata, to: out)
    } catch {
      printError("error: cannot write \(out): \(InputFile.reason(error))")
      throw ExitCode(1)
    }
    let regimes = calibration.regimes.keys.sorted().joined(separator: ", ")
    printError(
      "krylov: calibrated on \(trainer.validation.count) validation sequences (\(regimes)); wrote \(out)")
  }
}

/// The part of a checkpoint's `training` record that `calibrate` reads: the options, and the
/// systems held out for validation (by `krylov train` or by the PyTorch trainer, whose split
/// differs), which are the ones the band is calibrated on.
private struct TrainingRecordSplit: Decodable {
  var options: TrainingOptions
  var validationSystems: [String]?
  enum CodingKeys: String, CodingKey {
    case options
    case validationSystems = "validation_systems"
  }
}
