import ArgumentParser
import Foundation
import KrylovEngine
import Synchronization

/// Where a command's data goes: standard output, or a file that appears only when complete.
///
/// File output is written to a temporary file beside the target and renamed over it at the end
/// (also after Ctrl-C, with what was computed), so an existing file is never left half-written.
/// Anything that is not a regular file (`/dev/null`, a named pipe, a terminal) is written to
/// directly: renaming over it would replace the device with a file.
final class DataSink {
  private let handle: FileHandle
  private let temporaryPath: String?
  private let finalPath: String?
  /// What the sink writes to, for messages: the path, or standard output.
  private var name = "standard output"

  init(path: String?) throws {
    guard let path else {
      handle = .standardOutput
      temporaryPath = nil
      finalPath = nil
      return
    }
    guard !path.isEmpty else { throw DataSinkError("the output file name is empty") }
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw DataSinkError("cannot write \(path): the directory \(directory) does not exist")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw DataSinkError("cannot write \(path): it is a directory")
    }
    var status = stat()
    if stat(path, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG {
      guard let h = FileHandle(forWritingAtPath: path) else {
        throw DataSinkError("cannot write \(path): permission denied")
      }
      handle = h
      temporaryPath = nil
      finalPath = nil
      name = path
      return
    }
    let temporary = directory + "/." + url.lastPathComponent + ".partial-\(getpid())"
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
      let h = FileHandle(forWritingAtPath: temporary)
    else {
      throw DataSinkError("cannot write \(path): permission denied or read-only directory")
    }
    handle = h
    temporaryPath = temporary
    finalPath = path
    name = path
  }

  /// Opens `path` (or standard output when nil), or reports why not and exits with status 1.
  static func openOrExit(_ path: String?) throws -> DataSink {
    do { return try DataSink(path: path) } catch {
      printError("error: \(error)")
      throw ExitCode(1)
    }
  }

  /// The first write that failed (a full disk, a closed pipe): reported by `finish()`.
  private var failure: (any Error)?

  /// Appends text.
  ///
  /// A failed write is remembered and reported by `finish()`; later writes are dropped.
  func write(_ text: String) {
    guard failure == nil else { return }
    do { try handle.write(contentsOf: Data(text.utf8)) } catch { failure = error }
  }

  /// Writes `value` as JSON, or reports what JSON cannot hold (a NaN, for one) and exits with
  /// status 1, removing the unfinished file: an existing target is left as it was.
  func writeJSON<T: Encodable>(_ value: T) throws {
    do { write(try CoefficientFile.json(value)) } catch {
      printError("error: \(error.message)")
      abandon()
      throw ExitCode(1)
    }
  }

  /// Closes and removes the unfinished file.
  func abandon() {
    try? handle.close()
    if let temporaryPath { unlink(temporaryPath) }
  }

  /// Moves the finished file into place.
  func finish() throws {
    if let failure {
      try? handle.close()
      let reason = InputFile.reason(failure)
      let target = name
      if let temporaryPath {
        throw DataSinkError("cannot write \(target): \(reason); what was written is kept in \(temporaryPath)")
      }
      throw DataSinkError("cannot write \(target): \(reason)")
    }
    guard let temporaryPath, let finalPath else {
      if handle !== FileHandle.standardOutput { try handle.close() }
      return
    }
    try handle.close()
    if rename(temporaryPath, finalPath) != 0 {
      throw DataSinkError("cannot move the output into \(finalPath): \(String(cString: strerror(errno)))")
    }
  }
}

struct DataSinkError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// Runs `handler` once on SIGINT, SIGTERM or SIGHUP instead of dying, so work can stop cleanly.
///
/// SIGHUP is a closed terminal or ssh session. Stopping cleanly means what was computed is still
/// written. A second signal while the first is being honoured exits at once (128 + signal): the
/// user insists.
///
/// The signal handler only stores the signal (all it may safely do); a dedicated thread, not a
/// dispatch queue, notices it within 50 ms and runs `handler`: a running Lanczos job can keep
/// every dispatch worker busy, which would delay a dispatch signal source indefinitely.
final class InterruptWatcher: @unchecked Sendable {
  private let done = CancellationFlag()

  init(handler: @escaping @Sendable () -> Void) {
    interruptSignal.store(0, ordering: .relaxed)
    for sig in [SIGINT, SIGTERM, SIGHUP] {
      signal(sig) { received in
        if interruptSignal.exchange(received, ordering: .relaxed) != 0 { _exit(128 + received) }
      }
    }
    let thread = Thread { [done] in
      // This thread takes the signals even if the process started with them blocked (a parent
      // can hand its mask down), since a blocked signal would never reach the handler.
      unblockStopSignals()
      while !done.isSet {
        if interruptSignal.load(ordering: .relaxed) != 0 {
          handler()
          return
        }
        Thread.sleep(forTimeInterval: 0.05)
      }
    }
    thread.start()
  }

  /// The signal received, if any.
  var signalNumber: Int32? {
    let s = interruptSignal.load(ordering: .relaxed)
    return s == 0 ? nil : s
  }

  deinit { done.set() }
}

/// Unblocks SIGINT, SIGTERM and SIGHUP for the calling thread.
func unblockStopSignals() {
  var set = sigset_t()
  sigemptyset(&set)
  for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, sig) }
  pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// The last SIGINT/SIGTERM/SIGHUP received (0: none), stored by the signal handler.
let interruptSignal = Atomic<Int32>(0)
