import Foundation

/// A tensor as stored in a safetensors file: its dtype name, shape and raw little-endian bytes.
public struct StoredTensor: Sendable, Equatable {
  public var dtype: String
  public var shape: [Int]
  public var bytes: Data
  public init(dtype: String, shape: [Int], bytes: Data) {
    self.dtype = dtype
    self.shape = shape
    self.bytes = bytes
  }
}

/// Why a safetensors file was refused.
public struct SafetensorsError: Error, Sendable, Equatable, CustomStringConvertible {
  public var source: String
  public var message: String
  public var description: String { "\(source): \(message)" }
}

/// The safetensors format, so weights load in the Python ecosystem as they are.
///
/// The format is an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the data. Every structural rule of the format is checked
/// on reading.
public enum Safetensors {
  static let dtypeSizes = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]
  static let maximumHeader = 100 << 20

  /// Encodes tensors (written in name order) and string metadata.
  public static func encode(tensors: [String: StoredTensor], metadata: [String: String]) throws -> Data {
    var entries: [String: HeaderEntry] = [:]
    var offset = 0
    let names = tensors.keys.sorted()
    for name in names {
      guard let t = tensors[name] else { continue }
      entries[name] = HeaderEntry(dtype: t.dtype, shape: t.shape, dataOffsets: [offset, offset + t.bytes.count])
      offset += t.bytes.count
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var json = try encoder.encode(Header(entries: entries, metadata: metadata))
    // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
    while json.count % 8 != 0 { json.append(0x20) }
    var out = Data()
    var length = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
    out.append(json)
    for name in names { if let t = tensors[name] { out.append(t.bytes) } }
    return out
  }

  /// The JSON header as written: one entry per tensor, and `__metadata__` when there is any.
  private struct Header: Encodable {
    var entries: [String: HeaderEntry]
    var metadata: [String: String]
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: StringKey.self)
      if !metadata.isEmpty { try c.encode(metadata, forKey: StringKey("__metadata__")) }
      for (name, entry) in entries { try c.encode(entry, forKey: StringKey(name)) }
    }
  }

  private struct HeaderEntry: Encodable {
    var dtype: String
    var shape: [Int]
    var dataOffsets: [Int]
    enum CodingKeys: String, CodingKey {
      case dtype, shape
      case dataOffsets = "data_offsets"
    }
  }

  private struct StringKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// Decodes a whole file, refusing anything malformed with the reason.
  public static func decode(_ data: Data, source: String) throws(SafetensorsError) -> (
    tensors: [String: StoredTensor], metadata: [String: String]
  ) {
    func fail(_ message: String) -> SafetensorsError { SafetensorsError(source: source, message: message) }
    guard data.count >= 8 else { throw fail("too short to be a safetensors file (\(data.count) bytes)") }
    let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    guard length <= UInt64(maximumHeader) else { throw fail("header length \(length) is implausible: not a safetensors file") }
    guard 8 + Int(length) <= data.count else {
      throw fail("truncated: the header claims \(length) bytes but the file has \(data.count - 8) after the length")
    }
    let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(length)))
    guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
      throw fail("the header is not a JSON object")
    }
    let body = data.subdata(in: (data.startIndex + 8 + Int(length))..<data.endIndex)
    var metadata: [String: String] = [:]
    var tensors: [String: StoredTensor] = [:]
    var ranges: [(Int, Int, String)] = []
    for (name, value) in header {
      if name == "__metadata__" {
        guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
        metadata = m
        continue
      }
      guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
        let shapeAny = entry["shape"] as? [Any], let offsetsAny = entry["data_offsets"] as? [Any]
      else { throw fail("tensor '\(name)' lacks dtype, shape or data_offsets") }
      guard let size = dtypeSizes[dtype] else { throw fail("tensor '\(name)' has unknown dtype '\(dtype)'") }
      let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
      let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
      guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }) else {
        throw fail("tensor '\(name)' has a malformed shape")
      }
      guard offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0] else {
        throw fail("tensor '\(name)' has malformed data_offsets")
      }
      guard offsets[1] <= body.count else {
        throw fail("truncated: tensor '\(name)' ends at byte \(offsets[1]) of a \(body.count)-byte data section")
      }
      // Checked: a shape whose product overflows is refused, not trapped on.
      var bytes = size
      for extent in shape {
        let (product, overflow) = bytes.multipliedReportingOverflow(by: extent)
        guard !overflow else { throw fail("tensor '\(name)': shape \(shape) has more elements than can be addressed") }
        bytes = product
      }
      guard bytes == offsets[1] - offsets[0] else {
        throw fail("tensor '\(name)': shape \(shape) of \(dtype) needs \(bytes) bytes, the file gives \(offsets[1] - offsets[0])")
      }
      ranges.append((offsets[0], offsets[1], name))
      tensors[name] = StoredTensor(
        dtype: dtype, shape: shape,
        bytes: body.subdata(in: (body.startIndex + offsets[0])..<(body.startIndex + offsets[1])))
    }
    // The data section must be covered exactly, with no overlap and no hole.
    var position = 0
    for (start, end, name) in ranges.sorted(by: { $0.0 < $1.0 }) {
      guard start == position else { throw fail("tensor '\(name)' overlaps another or leaves a gap before it") }
      position = end
    }
    guard position == body.count else { throw fail("\(body.count - position) bytes after the last tensor belong to none") }
    return (tensors, metadata)
  }
}
