/// A file's schema as a tree, with each leaf column's path and maximum levels.
public struct ParquetSchema: Sendable {
    /// A field of the schema: a group with children, or a leaf column.
    public struct Node: Sendable {
        public var element: ParquetSchemaElement
        public var children: [Node]
        /// The leaf's index among the file's columns; nil for a group.
        public var columnIndex: Int?
    }

    /// A leaf column: where its values sit in the tree and the levels that place them.
    public struct Column: Sendable {
        public var path: [String]
        public var element: ParquetSchemaElement
        public var physicalType: ParquetPhysicalType
        /// The highest definition level (a value present at every optional level above it).
        public var maxDefinitionLevel: Int
        /// The highest repetition level (the number of repeated fields on its path).
        public var maxRepetitionLevel: Int
    }

    /// The root group (the file's message).
    public let root: Node
    /// The leaf columns in file order, as the row groups' column chunks are.
    public let columns: [Column]

    /// Nesting deeper than this is refused (Parquet's levels are bounded far below it).
    public static let maximumDepth = 128

    /// The tree of `elements`, a depth-first flattening whose first element is the root.
    public init(_ elements: [ParquetSchemaElement]) throws(ParquetError) {
        guard !elements.isEmpty else { throw ParquetError("the schema has no elements") }
        var index = 0
        var columns: [Column] = []
        root = try Self.node(elements, at: &index, path: [], definition: 0, repetition: 0, depth: 0, columns: &columns)
        guard root.columnIndex == nil else { throw ParquetError("the schema's root is not a group") }
        guard index == elements.count else {
            throw ParquetError("the schema has \(elements.count - index) elements after its root's children")
        }
        self.columns = columns
    }

    private static func node(_ elements: [ParquetSchemaElement], at index: inout Int, path: [String],
                             definition: Int, repetition: Int, depth: Int, columns: inout [Column]) throws(ParquetError) -> Node {
        guard depth < maximumDepth else { throw ParquetError("the schema nests deeper than \(maximumDepth)") }
        guard index < elements.count else { throw ParquetError("the schema ends inside a group's children") }
        let element = elements[index]
        index += 1
        let isRoot = depth == 0
        let path = isRoot ? path : path + [element.name]
        let definition = definition + (!isRoot && element.repetition != .required ? 1 : 0)
        let repetition = repetition + (element.repetition == .repeated ? 1 : 0)
        if let count = element.numChildren, element.type == nil || isRoot {
            guard count >= 0, count <= elements.count - index else {
                throw ParquetError("schema element '\(element.name)' claims \(count) children; \(elements.count - index) elements follow")
            }
            var children: [Node] = []
            for _ in 0..<count {
                children.append(try node(elements, at: &index, path: path, definition: definition, repetition: repetition,
                                         depth: depth + 1, columns: &columns))
            }
            return Node(element: element, children: children, columnIndex: nil)
        }
        guard let type = element.type else {
            throw ParquetError("schema element '\(element.name)' has neither a type nor children")
        }
        guard !isRoot else { throw ParquetError("the schema's root is a leaf") }
        if type == .fixedLenByteArray, (element.typeLength ?? -1) < 0 {
            throw ParquetError("FIXED_LEN_BYTE_ARRAY column '\(element.name)' has no valid type_length")
        }
        columns.append(Column(path: path, element: element, physicalType: type,
                              maxDefinitionLevel: definition, maxRepetitionLevel: repetition))
        return Node(element: element, children: [], columnIndex: columns.count - 1)
    }
}
