import ArgumentParser
import ArrowCore

#if canImport(Glibc)
import Glibc
#endif

/// The command-line interface Arrow's cross-implementation integration testing drives.
@main
struct ArrowIntegration: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arrow-integration",
        abstract: "Convert and check Arrow IPC files against Arrow's integration JSON format.",
        subcommands: [Validate.self, JSONToArrow.self, ArrowToJSON.self, StreamToFile.self, FileToStream.self, Cat.self]
    )
}

/// Prints to standard error.
func report(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Reads an IPC file or stream (told apart by the `ARROW1` magic).
func readArrow(_ path: String) throws(ArrowError) -> (schema: Schema, batches: [RecordBatch]) {
    let buffer = try Buffer(mappingFile: path)
    if isArrowFile(buffer.bytes) {
        let reader = try IPCFileReader(buffer)
        return (reader.schema, try reader.batches())
    }
    return try IPCStreamReader.readAll(buffer)
}

/// Runs `body`, turning ArrowCore errors into a message and exit code 2.
func runReporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ArrowError {
        report("arrow-integration: \(error)")
        throw ExitCode(2)
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that an IPC file or stream equals an integration JSON file.",
        discussion: "Exit status: 0 when schema and every batch are equal, 1 when they differ, 2 when a file cannot be read.")

    @Option(help: "The IPC file or stream.") var arrow: String
    @Option(help: "The integration JSON file (.json or .json.gz).") var json: String

    func run() throws {
        var expected: IntegrationFile?
        var actual: (schema: Schema, batches: [RecordBatch])?
        try runReporting {
            expected = try IntegrationFile.read(path: json)
            actual = try readArrow(arrow)
        }
        guard let expected, let actual else { throw ExitCode(2) }
        if let difference = IntegrationComparison.firstDifference(expected: (expected.schema, expected.batches), actual: actual) {
            report("arrow-integration: \(arrow) differs from \(json): \(difference)")
            throw ExitCode(1)
        }
    }
}

struct JSONToArrow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "json-to-arrow", abstract: "Write an integration JSON file as an IPC file.")

    @Option(help: "The integration JSON file to read.") var json: String
    @Option(help: "The IPC file to write.") var arrow: String
    @Option(help: "Body compression: none, lz4 or zstd.") var compression: CompressionChoice = .none

    func run() throws {
        try runReporting {
            let file = try IntegrationFile.read(path: json)
            let bytes = try IPCFileWriter.encode(schema: file.schema, batches: file.batches, options: compression.options)
            try bytes.write(toFile: arrow)
        }
    }
}

struct ArrowToJSON: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "arrow-to-json", abstract: "Write an IPC file or stream as integration JSON.")

    @Option(help: "The IPC file or stream to read.") var arrow: String
    @Option(help: "The integration JSON file to write.") var json: String

    func run() throws {
        try runReporting {
            let (schema, batches) = try readArrow(arrow)
            try Buffer(copying: IntegrationFile(schema: schema, batches: batches).jsonData()).write(toFile: json)
        }
    }
}

struct StreamToFile: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stream-to-file", abstract: "Convert an IPC stream on standard input to an IPC file on standard output.")

    @Option(help: "Body compression: none, lz4 or zstd.") var compression: CompressionChoice = .none
    @Flag(name: .customLong("big-endian"), help: "Write big-endian data.") var bigEndian = false

    func run() throws {
        try runReporting {
            let input = try Buffer(readingAllFrom: 0, name: "standard input")
            let (schema, batches) = try IPCStreamReader.readAll(input)
            var options = compression.options
            options.bigEndian = bigEndian
            let writer = try IPCFileWriter(output: IPCFileDescriptorOutput(descriptor: 1), schema: schema, options: options)
            for batch in batches { try writer.write(batch) }
            try writer.finish()
        }
    }
}

struct FileToStream: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "file-to-stream", abstract: "Convert an IPC file to an IPC stream on standard output.")

    @Argument(help: "The IPC file.") var path: String
    @Option(help: "Body compression: none, lz4 or zstd.") var compression: CompressionChoice = .none

    func run() throws {
        try runReporting {
            let reader = try IPCFileReader(try Buffer(mappingFile: path))
            let writer = try IPCStreamWriter(output: IPCFileDescriptorOutput(descriptor: 1), schema: reader.schema, options: compression.options)
            for i in 0..<reader.batchCount { try writer.write(try reader.batch(i)) }
            try writer.finish()
        }
    }
}

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the schema and batches of an IPC file or stream as text tables.")

    @Argument(help: "The IPC file or stream.") var path: String
    @Option(help: "Print at most this many rows of each batch.") var maxRows: Int?

    func run() throws {
        try runReporting {
            let (schema, batches) = try readArrow(path)
            print(PrettyPrinter.render(schema))
            for (i, batch) in batches.enumerated() {
                print("\nbatch \(i): \(batch.length) rows")
                print(PrettyPrinter.render(batch, maxRows: maxRows))
            }
        }
    }
}

enum CompressionChoice: String, ExpressibleByArgument {
    case none, lz4, zstd

    var options: IPCWriteOptions {
        switch self {
        case .none: IPCWriteOptions()
        case .lz4: IPCWriteOptions(compression: .lz4Frame)
        case .zstd: IPCWriteOptions(compression: .zstd)
        }
    }
}
