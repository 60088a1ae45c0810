/// The cell of the attention map under the cursor: a query and a key position, counted from 0.
public struct AttentionCursor: Equatable, Sendable {
  public var query: Int
  public var key: Int

  public init(query: Int, key: Int) {
    self.query = query
    self.key = key
  }

  /// The cursor moved by `rows` queries and `columns` keys, kept in the causal triangle of a
  /// map of `positions` positions (0 ≤ key ≤ query < positions): the key follows a query that
  /// moves above it.
  public func moved(rows: Int, columns: Int, positions: Int) -> AttentionCursor {
    let query = min(max(self.query + rows, 0), max(positions - 1, 0))
    return AttentionCursor(query: query, key: min(max(key + columns, 0), query))
  }
}
