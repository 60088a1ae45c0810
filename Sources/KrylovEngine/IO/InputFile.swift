import Foundation

/// Why a file could not be read, in plain words ("no such file", "it is a directory").
public struct InputFileError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var reason: String
  public var description: String { "\(path): \(reason)" }
}

/// The one reader of input files (coefficients, dataset specs, training settings, saved
/// explorer settings).
///
/// The reason a read fails is said plainly, a device such as /dev/zero is refused instead of
/// read forever, and a file larger than the caller's limit is refused before it is read.
/// Named pipes are read (a script may stream a file), up to the same limit.
public enum InputFile {
  public static func read(path: String, limit: Int) throws(InputFileError) -> Data {
    func fail(_ reason: String) -> InputFileError { InputFileError(path: path, reason: reason) }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw fail(reason(errno: errno)) }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw fail(reason(errno: errno)) }
    switch status.st_mode & S_IFMT {
    case S_IFDIR: throw fail("it is a directory")
    case S_IFREG, S_IFIFO: break
    default: throw fail("it is not a regular file (a device or a socket)")
    }
    if (status.st_mode & S_IFMT) == S_IFREG && Int(status.st_size) > limit {
      throw fail("it holds \(formatBytes(Int(status.st_size))), more than the \(formatBytes(limit)) such a file may")
    }
    var data = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
      if n == 0 { break }
      if n < 0 {
        if errno == EINTR { continue }
        throw fail(reason(errno: errno))
      }
      data.append(contentsOf: chunk[0..<n])
      if data.count > limit { throw fail("it holds more than the \(formatBytes(limit)) such a file may") }
    }
    return data
  }

  /// Creates `path` and any missing parents as directories, or says plainly why not (a file
  /// of that name, permission, a read-only file system), naming the part at fault.
  public static func makeDirectory(_ path: String) throws(InputFileError) {
    guard !path.isEmpty else { throw InputFileError(path: path, reason: "the directory name is empty") }
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
      var status = stat()
      if stat(prefix, &status) == 0 {
        guard status.st_mode & S_IFMT == S_IFDIR else {
          throw InputFileError(path: prefix, reason: "it exists and is not a directory")
        }
        continue
      }
      if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
        throw InputFileError(path: prefix, reason: "cannot create it: " + reason(errno: errno))
      }
    }
  }

  /// A system error number in words: "no such file", "permission denied".
  public static func reason(errno code: Int32) -> String {
    switch code {
    case ENOENT: "no such file"
    case EACCES, EPERM: "permission denied"
    case EISDIR: "it is a directory"
    case ENOTDIR: "a part of the path is not a directory"
    case ENOSPC: "no space left on the device"
    case EROFS: "the file system is read-only"
    case ENAMETOOLONG: "the name is too long"
    default: String(cString: strerror(code)).lowercased()
    }
  }

  /// A file error from Foundation (a failed write, a directory that cannot be created) in
  /// words, instead of its generic sentence ("The operation could not be completed").
  public static func reason(_ error: Error) -> String {
    let ns = error as NSError
    // krylov's own errors say what they mean already.
    guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
    if ns.domain == NSPOSIXErrorDomain { return reason(errno: Int32(ns.code)) }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return reason(errno: Int32(underlying.code))
    }
    switch ns.code {
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file"
    case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
    case NSFileWriteOutOfSpaceError: return "no space left on the device"
    case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
    case NSFileWriteUnknownError: return "it cannot be written there (a directory or a device of that name?)"
    default: return ns.localizedDescription
    }
  }
}
