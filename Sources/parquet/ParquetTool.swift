import ArgumentParser
import ArrowCore
import Foundation
import Parquet

/// The `parquet` tool: what a Parquet file holds. Exit 0 on success, 2 when a file cannot be
/// read (the message says why), 64 on a usage error.
@main
struct ParquetTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parquet",
        abstract: "Inspect Parquet files.",
        subcommands: [SchemaCommand.self, MetaCommand.self, CatCommand.self, ToArrowCommand.self, FromArrowCommand.self])
}

/// The keys of an encrypted file.
struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("footer-key"), help: "The footer key of an encrypted file, in hex.") var footerKey: String?
    @Option(name: .customLong("column-key"), help: "A column key of an encrypted file: PATH:HEX (repeatable).") var columnKeys: [String] = []
    @Option(name: .customLong("aad-prefix"), help: "The AAD prefix an encrypted file does not store.") var aadPrefix: String?

    static func hex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }

    func validate() throws {
        if let footerKey, Self.hex(footerKey) == nil { throw ValidationError("--footer-key takes hex digits") }
        for key in columnKeys {
            guard let colon = key.lastIndex(of: ":"), Self.hex(String(key[key.index(after: colon)...])) != nil else {
                throw ValidationError("--column-key takes PATH:HEX, for example double_field:01020304050607080900010203040500")
            }
        }
    }

    /// The keys given, or nil when none are.
    var keys: ParquetDecryptionKeys? {
        guard footerKey != nil || !columnKeys.isEmpty || aadPrefix != nil else { return nil }
        var columns: [String: [UInt8]] = [:]
        for key in columnKeys {
            guard let colon = key.lastIndex(of: ":"), let bytes = Self.hex(String(key[key.index(after: colon)...])) else { continue }
            columns[String(key[..<colon])] = bytes
        }
        return ParquetDecryptionKeys(footerKey: footerKey.flatMap(Self.hex), columnKeys: columns, aadPrefix: aadPrefix.map { Array($0.utf8) })
    }
}

/// Opens `path`, or exits 2 with the reason.
func open(_ path: String, keys: KeyOptions) throws -> ParquetFile {
    do {
        return try ParquetFile(path: path, keys: keys.keys)
    } catch {
        FileHandle.standardError.write(Data("parquet: \(path): \(error.message)\n".utf8))
        throw ExitCode(2)
    }
}

/// Opens `path` for reading into Arrow, or exits 2 with the reason.
func openReader(_ path: String, keys: KeyOptions) throws -> ParquetReader {
    let file = try open(path, keys: keys)
    do {
        return try ParquetReader(file: file)
    } catch {
        FileHandle.standardError.write(Data("parquet: \(path): \(error.message)\n".utf8))
        throw ExitCode(2)
    }
}

/// Exits 2 with `error`, about `path`.
func fail(_ path: String, _ error: any Error) -> ExitCode {
    let message = (error as? ParquetError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("parquet: \(path): \(message)\n".utf8))
    return ExitCode(2)
}

/// The conditions of a --filter, or none; a usage error when they are malformed.
func conditions(_ json: String?) throws -> [ParquetPredicate] {
    guard let json else { return [] }
    do {
        return try ParquetPredicate.parse(json: json)
    } catch {
        throw ValidationError("--filter: \(error.message)")
    }
}

/// Comma-separated names, or nil.
func list(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
}

func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

extension ParquetSchemaElement {
    /// `optional int32 id (INT(32, signed))`, as the Parquet schema notation writes it.
    var line: String {
        var parts: [String] = []
        if let repetition { parts.append(repetition.description.lowercased()) }
        if let type {
            parts.append(type == .fixedLenByteArray ? "fixed_len_byte_array(\(typeLength ?? 0))" : type.description.lowercased())
        } else {
            parts.append("group")
        }
        parts.append(name)
        var annotation = logicalType?.description ?? convertedType?.description
        if logicalType == nil, convertedType == .decimal, let precision, let scale { annotation = "DECIMAL(\(precision), \(scale))" }
        if let annotation { parts.append("(\(annotation))") }
        if let fieldID { parts.append("= \(fieldID)") }
        return parts.joined(separator: " ")
    }
}

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema", abstract: "The Parquet schema: its tree, and each leaf column with its levels.")

    @Argument(help: "The Parquet file.") var file: String
    @OptionGroup var keys: KeyOptions
    @Flag(help: "One JSON object: the leaf columns.") var json = false

    func run() throws {
        let parquet = try open(file, keys: keys)
        if json {
            try printJSON(["columns": parquet.schema.columns.map { column -> [String: Any] in
                [
                    "path": column.path,
                    "physical_type": column.physicalType.description,
                    "type_length": column.element.typeLength.map { Int($0) } as Any? ?? NSNull(),
                    "max_definition_level": column.maxDefinitionLevel,
                    "max_repetition_level": column.maxRepetitionLevel,
                    "converted_type": column.element.convertedType?.description ?? NSNull(),
                    "logical_type": column.element.effectiveLogicalType?.kind ?? NSNull(),
                ]
            }])
            return
        }
        func show(_ node: ParquetSchema.Node, indent: String) {
            if node.children.isEmpty && node.columnIndex != nil {
                print("\(indent)\(node.element.line);")
                return
            }
            let header = indent.isEmpty ? "message \(node.element.name)" : node.element.line
            print("\(indent)\(header) {")
            for child in node.children { show(child, indent: indent + "  ") }
            print("\(indent)}")
        }
        show(parquet.schema.root, indent: "")
        print("")
        print("columns (max definition level, max repetition level):")
        for column in parquet.schema.columns {
            print("  \(column.path.joined(separator: ".")): \(column.physicalType) (\(column.maxDefinitionLevel), \(column.maxRepetitionLevel))")
        }
    }
}

struct MetaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta", abstract: "Row groups and column chunks: encodings, codecs, sizes, statistics.")

    @Argument(help: "The Parquet file.") var file: String
    @OptionGroup var keys: KeyOptions
    @Flag(help: "One JSON object.") var json = false

    func run() throws {
        let parquet = try open(file, keys: keys)
        let metadata = parquet.metadata
        if json {
            try printJSON(Self.object(metadata))
            return
        }
        print("version \(metadata.version), \(metadata.numRows) rows in \(metadata.rowGroups.count) row group(s)")
        if let createdBy = metadata.createdBy { print("created by \(createdBy)") }
        for pair in metadata.keyValueMetadata ?? [] {
            let value = pair.value ?? ""
            print("metadata \(pair.key): \(value.count > 80 ? String(value.prefix(77)) + "..." : value)")
        }
        for (g, group) in metadata.rowGroups.enumerated() {
            print("row group \(g): \(group.numRows) rows, \(group.totalByteSize) bytes")
            for chunk in group.columns {
                guard let column = chunk.metadata else {
                    print("  (encrypted column metadata)")
                    continue
                }
                var line = "  \(column.pathInSchema.joined(separator: ".")): \(column.type) \(column.codec)"
                line += " [\(column.encodings.map(\.description).joined(separator: ","))]"
                line += " \(column.numValues) values, \(column.totalCompressedSize) bytes (\(column.totalUncompressedSize) uncompressed)"
                if let nulls = column.statistics?.nullCount { line += ", \(nulls) nulls" }
                print(line)
            }
        }
    }

    static func object(_ metadata: ParquetFileMetadata) -> [String: Any] {
        [
            "version": Int(metadata.version),
            "num_rows": metadata.numRows,
            "created_by": metadata.createdBy ?? NSNull(),
            "key_value_metadata": Dictionary((metadata.keyValueMetadata ?? []).map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { $1 }),
            "row_groups": metadata.rowGroups.map { group -> [String: Any] in
                [
                    "num_rows": group.numRows,
                    "total_byte_size": group.totalByteSize,
                    "columns": group.columns.map { chunk -> [String: Any] in
                        guard let column = chunk.metadata else { return ["encrypted": true] }
                        let statistics = column.statistics
                        return [
                            "path": column.pathInSchema,
                            "physical_type": column.type.description,
                            "codec": column.codec.description,
                            "encodings": column.encodings.map(\.description),
                            "num_values": column.numValues,
                            "total_compressed_size": column.totalCompressedSize,
                            "total_uncompressed_size": column.totalUncompressedSize,
                            "data_page_offset": column.dataPageOffset,
                            "dictionary_page_offset": column.dictionaryPageOffset.map { $0 as Any } ?? NSNull(),
                            "has_statistics": statistics != nil,
                            "null_count": statistics?.nullCount.map { $0 as Any } ?? NSNull(),
                            "encrypted": chunk.isEncrypted,
                        ]
                    },
                ]
            },
        ]
    }
}

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cat", abstract: "The rows, as a table.")

    @Argument(help: "The Parquet file.") var file: String
    @OptionGroup var keys: KeyOptions
    @Option(help: "Top-level columns to show, comma-separated.") var columns: String?
    @Option(help: "Show at most this many rows.") var limit: Int?
    @Option(name: .customLong("row-groups"), help: "Row groups to read, comma-separated.") var rowGroups: String?
    @Option(help: "Conditions every row must meet, as JSON: [[\"col\", \">=\", 10]].") var filter: String?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
        if let groups = list(rowGroups), groups.contains(where: { Int($0) == nil }) {
            throw ValidationError("--row-groups takes numbers, for example 0,2")
        }
    }

    func run() throws {
        let reader = try openReader(file, keys: keys)
        var options = ParquetReadOptions(columns: list(columns), rowGroups: list(rowGroups)?.compactMap { Int($0) },
                                         batchSize: min(limit ?? 65_536, 65_536).clamped(1))
        options.filter = try conditions(filter)
        var left = limit ?? Int.max
        do {
            var iterator = try reader.batchIterator(options)
            var first = true
            while left > 0, let batch = try iterator.nextBatch() {
                let shown = min(left, batch.length)
                let slice = shown < batch.length ? try batch.slice(0, shown) : batch
                // One table: the header only once.
                var text = PrettyPrinter.render(slice)
                if !first, let headerEnd = text.range(of: "\n")?.upperBound,
                   let ruleEnd = text[headerEnd...].range(of: "\n")?.upperBound {
                    text = String(text[ruleEnd...])
                }
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
                first = false
                left -= shown
            }
            if first { print(PrettyPrinter.render(iterator.schema)) }
        } catch {
            throw fail(file, error)
        }
    }
}

extension Int {
    func clamped(_ minimum: Int) -> Int { Swift.max(self, minimum) }
}

struct ToArrowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "to-arrow", abstract: "The rows as an Arrow IPC stream: to standard output, or to --out.")
    static let units: [String: TimeUnit] = ["ns": .nanosecond, "us": .microsecond, "ms": .millisecond, "s": .second]

    @Argument(help: "The Parquet file.") var file: String
    @OptionGroup var keys: KeyOptions
    @Option(help: "Top-level columns to write, comma-separated.") var columns: String?
    @Option(name: .customLong("row-groups"), help: "Row groups to read, comma-separated.") var rowGroups: String?
    @Option(help: "The IPC stream to write (standard output without it).") var out: String?
    @Option(name: .customLong("batch-size"), help: "Rows per record batch.") var batchSize = 65_536
    @Option(help: "Conditions every row must meet, as JSON: [[\"col\", \">=\", 10], [\"name\", \"in\", [\"a\", \"b\"]]].") var filter: String?
    @Option(help: "Threads decoding columns at once.") var threads = 1
    @Flag(name: .customLong("verify-checksums"), help: "Check pages that carry a CRC against it.") var verifyChecksums = false
    @Option(name: .customLong("int96-unit"), help: "The unit of INT96 timestamps: ns (default), us, ms or s.") var int96Unit: String?

    func validate() throws {
        if let int96Unit, Self.units[int96Unit] == nil { throw ValidationError("--int96-unit is ns, us, ms or s") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let groups = list(rowGroups), groups.contains(where: { Int($0) == nil }) {
            throw ValidationError("--row-groups takes numbers, for example 0,2")
        }
    }

    func run() throws {
        let reader = try openReader(file, keys: keys)
        var options = ParquetReadOptions(columns: list(columns), rowGroups: list(rowGroups)?.compactMap { Int($0) }, batchSize: batchSize,
                                         threads: threads)
        options.verifiesChecksums = verifyChecksums
        options.filter = try conditions(filter)
        options.int96Unit = int96Unit.flatMap { Self.units[$0] }
        var descriptor: Int32 = 1
        if let out {
            descriptor = Foundation.open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else { throw fail(out, ParquetError("cannot create: \(String(cString: strerror(errno)))")) }
        }
        defer { if descriptor != 1 { close(descriptor) } }
        do {
            var iterator = try reader.batchIterator(options)
            let writer = try IPCStreamWriter(output: IPCFileDescriptorOutput(descriptor: descriptor), schema: iterator.schema)
            while let batch = try iterator.nextBatch() { try writer.write(batch) }
            try writer.finish()
        } catch {
            throw fail(file, error)
        }
    }
}

struct FromArrowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-arrow", abstract: "Writes an Arrow IPC file or stream as Parquet.")

    @Argument(help: "The Arrow IPC file or stream.") var input: String
    @Argument(help: "The Parquet file to write.") var output: String
    @Option(help: "none, snappy, gzip, zstd, lz4_raw or brotli.") var compression = "snappy"
    @Option(name: .customLong("compression-level"), help: "The codec's level.") var compressionLevel: Int?
    @Option(name: .customLong("row-group-rows"), help: "The most rows in a row group.") var rowGroupRows = 1 << 20
    @Option(name: .customLong("data-page-version"), help: "1 or 2.") var dataPageVersion = 1
    @Option(name: .customLong("data-page-size"), help: "The encoded size a data page is cut at, in bytes.") var dataPageSize = 1 << 20
    @Option(help: "on or off: dictionary-encode columns.") var dictionary = "on"
    @Option(help: "on or off: min, max and null count per column chunk.") var statistics = "on"
    @Option(name: .customLong("page-index"), help: "on or off: each page's location, first row, min, max and nulls.") var pageIndex = "on"
    @Option(name: .customLong("bloom-filter"), help: "Top-level columns that get bloom filters, comma-separated.") var bloomFilter: String?

    static let codecs: [String: ParquetCompression] = [
        "none": .uncompressed, "uncompressed": .uncompressed, "snappy": .snappy, "gzip": .gzip, "zstd": .zstd,
        "lz4_raw": .lz4Raw, "lz4": .lz4Raw, "brotli": .brotli,
    ]

    func validate() throws {
        guard Self.codecs[compression.lowercased()] != nil else { throw ValidationError("--compression: one of none, snappy, gzip, zstd, lz4_raw, brotli") }
        guard [1, 2].contains(dataPageVersion) else { throw ValidationError("--data-page-version: 1 or 2") }
        guard ["on", "off"].contains(dictionary), ["on", "off"].contains(statistics), ["on", "off"].contains(pageIndex) else {
            throw ValidationError("--dictionary, --statistics and --page-index take on or off")
        }
        guard rowGroupRows > 0, dataPageSize > 0 else { throw ValidationError("--row-group-rows and --data-page-size must be positive") }
    }

    func run() throws {
        let options = ParquetWriteOptions(compression: Self.codecs[compression.lowercased()] ?? .snappy, compressionLevel: compressionLevel,
                                          dataPageVersion: dataPageVersion, dictionary: dictionary == "on", dataPageSize: dataPageSize,
                                          rowGroupRows: rowGroupRows, statistics: statistics == "on", pageIndex: pageIndex == "on",
                                          bloomFilterColumns: Set(list(bloomFilter) ?? []))
        let bytes: Buffer
        do {
            bytes = try Buffer(mappingFile: input)
        } catch {
            throw fail(input, error)
        }
        do {
            if isArrowFile(bytes.bytes) {
                let reader = try IPCFileReader(bytes)
                let writer = try ParquetWriter(path: output, schema: reader.schema, options: options)
                for i in 0..<reader.batchCount { try writer.write(try reader.batch(i)) }
                try writer.finish()
            } else {
                var reader = try IPCStreamReader(bytes)
                let writer = try ParquetWriter(path: output, schema: reader.schema, options: options)
                while let batch = try reader.nextBatch() { try writer.write(batch) }
                try writer.finish()
            }
        } catch {
            throw fail(input, error)
        }
    }
}
