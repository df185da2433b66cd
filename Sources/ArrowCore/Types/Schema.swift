/// Ordered key/value metadata attached to a field or schema. Order is kept because the IPC
/// format keeps it; lookups are by key.
public struct Metadata: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    /// The pairs in order.
    public var pairs: [(key: String, value: String)]

    /// Metadata with no pairs.
    public init() { pairs = [] }

    /// Metadata from ordered pairs.
    public init(_ pairs: [(key: String, value: String)]) { self.pairs = pairs }

    public init(dictionaryLiteral elements: (String, String)...) {
        pairs = elements.map { (key: $0.0, value: $0.1) }
    }

    /// Whether there are no pairs.
    public var isEmpty: Bool { pairs.isEmpty }

    /// The value of the last pair with `key`, or nil. Setting replaces every pair with that key.
    public subscript(key: String) -> String? {
        get { pairs.last(where: { $0.key == key })?.value }
        set {
            pairs.removeAll { $0.key == key }
            if let newValue { pairs.append((key: key, value: newValue)) }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { pairs.makeIterator() }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.key)
            hasher.combine(pair.value)
        }
    }

    /// Equality that ignores the order of pairs.
    public func equalsIgnoringOrder(_ other: Metadata) -> Bool {
        let l = pairs.map { "\($0.key)\u{0}\($0.value)" }.sorted()
        let r = other.pairs.map { "\($0.key)\u{0}\($0.value)" }.sorted()
        return l == r
    }
}

/// A named, typed column of a schema or child of a nested type.
public struct Field: Sendable, Hashable {
    /// The name; names need not be unique.
    public var name: String
    /// The logical type.
    public var type: DataType
    /// Whether the column may contain nulls.
    public var nullable: Bool
    /// Custom metadata, including extension type keys.
    public var metadata: Metadata

    /// Creates a field.
    public init(_ name: String, _ type: DataType, nullable: Bool = true, metadata: Metadata = Metadata()) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.metadata = metadata
    }

    /// The extension type name from `ARROW:extension:name`, if this field holds an extension type.
    public var extensionName: String? { metadata["ARROW:extension:name"] }
}

/// The columns of a record batch or table, with custom metadata.
public struct Schema: Sendable, Hashable {
    /// The top-level fields in column order.
    public var fields: [Field]
    /// Custom metadata.
    public var metadata: Metadata

    /// Creates a schema.
    public init(_ fields: [Field], metadata: Metadata = Metadata()) {
        self.fields = fields
        self.metadata = metadata
    }

    /// The index of the first field named `name`.
    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }
}

extension Field: CustomStringConvertible {
    public var description: String { "\(name): \(type)\(nullable ? "" : " not null")" }
}

extension Schema: CustomStringConvertible {
    public var description: String {
        var lines = fields.map(\.description)
        if !metadata.isEmpty { lines.append("-- metadata: \(metadata.pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
