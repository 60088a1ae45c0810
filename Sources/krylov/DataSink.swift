import Foundation

/// Where a command's data goes: standard output, or a file that appears only when complete.
///
/// File output is written to a temporary file beside the target and renamed over it at the end
/// (also after Ctrl-C, with what was computed), so an existing file is never left half-written.
final class DataSink {
  private let handle: FileHandle
  private let temporaryPath: String?
  private let finalPath: String?

  init(path: String?) throws {
    guard let path else {
      handle = .standardOutput
      temporaryPath = nil
      finalPath = nil
      return
    }
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw DataSinkError("cannot write \(path): the directory \(directory) does not exist")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw DataSinkError("cannot write \(path): it is a directory")
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
  }

  func write(_ text: String) {
    handle.write(Data(text.utf8))
  }

  /// Moves the finished file into place.
  func finish() throws {
    guard let temporaryPath, let finalPath else { return }
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

/// Runs `handler` once on SIGINT or SIGTERM instead of dying, so work can stop cleanly.
final class InterruptWatcher: @unchecked Sendable {
  private var sources: [DispatchSourceSignal] = []
  private(set) var signalNumber: Int32?

  init(handler: @escaping @Sendable () -> Void) {
    for sig in [SIGINT, SIGTERM] {
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      source.setEventHandler { [weak self] in
        self?.signalNumber = sig
        handler()
      }
      source.resume()
      sources.append(source)
    }
  }

  deinit {
    for s in sources { s.cancel() }
  }
}
