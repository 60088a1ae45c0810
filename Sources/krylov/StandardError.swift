import Foundation
import KrylovEngine

/// Writes to standard error (progress, warnings, errors): never mixed into the data.
///
/// Messages quote what users and files gave (a value, a header line), so control characters
/// are shown escaped (`\u{1B}`), never sent: a file cannot clear the screen, retitle the window
/// or colour the shell through an error message. A newline ends each message.
func printError(_ text: String) {
  writeStandardError(terminalSafe(text) + "\n")
}

/// `text` with every control character other than newline and tab written as `\u{XX}`:
/// C0 controls (escape among them), DEL and the C1 range, which terminals act on.
func terminalSafe(_ text: String) -> String {
  var out = String.UnicodeScalarView()
  for scalar in text.unicodeScalars {
    let v = scalar.value
    let control = (v < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(v)
    if control {
      out.append(contentsOf: "\\u{\(String(v, radix: 16, uppercase: true))}".unicodeScalars)
    } else {
      out.append(scalar)
    }
  }
  return String(out)
}

/// Writes bytes to standard error as they are.
///
/// The progress line's own escape sequences go through here. A failed write (a closed or full
/// standard error) is dropped: diagnostics must never stop the work, and Foundation's
/// `FileHandle.write` would trap on it.
func writeStandardError(_ text: String) {
  let bytes = Array(text.utf8)
  var offset = 0
  while offset < bytes.count {
    let written = bytes[offset...].withUnsafeBytes { raw in Foundation.write(2, raw.baseAddress, raw.count) }
    if written > 0 {
      offset += written
    } else if written < 0 && errno == EINTR {
      continue
    } else {
      return
    }
  }
}

/// Makes a failed write to standard output an error exit, for every command that prints.
///
/// `print` is buffered and its failures are silent: with standard output on a full disk,
/// `krylov models > /dev/full` would exit 0 having written nothing. At exit the buffer is
/// flushed and checked; a failure is reported and the status becomes 1.
func checkStandardOutputAtExit() {
  atexit {
    // Every stream is flushed (stdout among them); a write that fails there fails again.
    guard fflush(nil) != 0 else { return }
    let reason = errno != 0 ? InputFile.reason(errno: errno) : "the write failed"
    writeStandardError("error: cannot write standard output: \(reason)\n")
    _exit(1)
  }
}

/// Leaves the process without exit-time clean-up, after flushing every output stream.
///
/// Background work (a run, a forecast, an eigendecomposition) may still be inside OpenBLAS,
/// whose exit handlers free the buffers it works in: a normal exit can then crash. A failed
/// flush is reported and the status becomes 1, as `checkStandardOutputAtExit` does.
func exitLeavingWorkersAlone(status: Int32) -> Never {
  if fflush(nil) != 0 {
    let reason = errno != 0 ? InputFile.reason(errno: errno) : "the write failed"
    writeStandardError("error: cannot write standard output: \(reason)\n")
    _exit(1)
  }
  _exit(status)
}
