import ArrowCore
import FlightManager
import FlightRPC
import Foundation
import SparkConnect
import Testing
@testable import FlightSQLSpark

@Suite struct SparkSQLTextTests {
    @Test func markersOutsideLiteralsAndComments() {
        let text = SparkSQLText("SELECT ?, '?', `a?b`, \"x ? y\" -- ?\n /* ? /* ? */ ? */ FROM t WHERE a = ?")
        #expect(text.positionalMarkers == 2)
        #expect(text.namedMarkers.isEmpty)
        #expect(text.firstKeyword == "SELECT")
        #expect(text.isQuery)
    }

    @Test func namedMarkersInOrderOfFirstUse() {
        let text = SparkSQLText("select * from t where a = :low and b < :high or a = :low and c = ':not' and d::int = 1")
        #expect(text.namedMarkers == ["low", "high"])
        #expect(text.positionalMarkers == 0)
    }

    @Test func escapedQuotesStayInsideTheirLiteral() {
        let text = SparkSQLText(#"SELECT 'it\'s ?', `we``ird?` , ? FROM t"#)
        #expect(text.positionalMarkers == 1)
    }

    @Test func topLevelOrderByOnly() {
        #expect(SparkSQLText("SELECT a FROM t ORDER BY a").ordersResult)
        #expect(SparkSQLText("select a from t order\n  by a desc limit 10").ordersResult)
        #expect(!SparkSQLText("SELECT * FROM (SELECT a FROM t ORDER BY a) s").ordersResult)
        #expect(!SparkSQLText("SELECT a, row_number() OVER (ORDER BY a) FROM t").ordersResult)
        #expect(!SparkSQLText("SELECT 'ORDER BY' FROM t").ordersResult)
    }

    @Test func statementKinds() {
        #expect(SparkSQLText("  WITH x AS (SELECT 1) SELECT * FROM x").isQuery)
        #expect(SparkSQLText("(SELECT 1) UNION (SELECT 2)").isQuery)
        #expect(SparkSQLText("show tables").isQuery)
        #expect(!SparkSQLText("CREATE TABLE t (a INT)").isQuery)
        #expect(!SparkSQLText("/* a comment */ INSERT INTO t VALUES (1)").isQuery)
        #expect(SparkSQLText("-- c\nset spark.sql.ansi.enabled = false").firstKeyword == "SET")
    }
}

@Suite struct SparkPlanEstimateTests {
    @Test func readsTheOptimizedRootsSize() {
        let explained = """
            == Optimized Logical Plan ==
            Aggregate [sum(id#0L) AS s#2L], Statistics(sizeInBytes=16.0 B)
            +- Range (0, 1000000, step=1, splits=Some(2)), Statistics(sizeInBytes=7.6 MiB, rowCount=1.00E+6)

            == Physical Plan ==
            """
        #expect(SparkPlanEstimate.sizeInBytes(explained) == 16)
        let scan = "== Optimized Logical Plan ==\nRelation [a#1] parquet, Statistics(sizeInBytes=1.5 GiB)\n"
        let gigabytes: Double = 1.5 * 1_073_741_824
        #expect(SparkPlanEstimate.sizeInBytes(scan) == gigabytes)
        let unknown: Double = SparkPlanEstimate.sizeInBytes("== Optimized Logical Plan ==\nLocalRelation, Statistics(sizeInBytes=8.0 EiB)") ?? 0
        #expect(unknown > 1e18)
        #expect(SparkPlanEstimate.sizeInBytes("no statistics here") == nil)
        #expect(SparkPlanEstimate.sizeInBytes("Statistics(sizeInBytes=3.0 XB)") == nil)
    }
}

@Suite struct SparkTableFilesTests {
    func optimized(_ plan: String) -> String {
        "== Parsed Logical Plan ==\n'Project [*]\n\n== Optimized Logical Plan ==\n\(plan)\n\n== Physical Plan ==\n*(1) ColumnarToRow\n"
    }

    @Test func onlyScansOfAParquetRelationAreTaken() {
        let scan = "Relation spark_catalog.default.ints[a#15L,b#16L,when#17] parquet, Statistics(sizeInBytes=9.2 KiB)"
        let all = ["a", "b", "when"]
        #expect(SparkTableFiles.scan(optimized(scan)) == SparkTableFiles.Scan(columns: all, names: all))
        #expect(SparkTableFiles.scan(optimized("Relation spark_catalog.default.t[x#3] parquet"))?.names == ["x"])
        // Columns chosen, reordered and renamed.
        let projected = optimized("Project [when#17, a#15L AS x#20L], Statistics(sizeInBytes=3.0 KiB)\n+- " + scan)
        #expect(SparkTableFiles.scan(projected) == SparkTableFiles.Scan(columns: ["when", "a"], names: ["when", "x"]))
        // An expression, an unknown attribute, a filter, another format, a name holding a
        // comma: not taken.
        #expect(SparkTableFiles.scan(optimized("Project [(a#15L + 1) AS y#21L]\n+- " + scan)) == nil)
        #expect(SparkTableFiles.scan(optimized("Project [z#99L]\n+- " + scan)) == nil)
        #expect(SparkTableFiles.scan(optimized("Filter (a#15L > 3)\n+- " + scan)) == nil)
        #expect(SparkTableFiles.scan(optimized("Project [a#15L]\n+- Filter (a#15L > 3)\n   +- " + scan)) == nil)
        #expect(SparkTableFiles.scan(optimized("Relation spark_catalog.default.t[a#1] orc")) == nil)
        #expect(SparkTableFiles.scan(optimized("Relation spark_catalog.default.t[id#1L,we,ird#2] parquet")) == nil)
        #expect(SparkTableFiles.scan("Relation spark_catalog.default.t[a#1] parquet") == nil)
    }

    @Test func onlyLocalFileURIsArePaths() {
        #expect(SparkTableFiles.localPath("file:///tmp/w/t/part-00000.snappy.parquet") == "/tmp/w/t/part-00000.snappy.parquet")
        #expect(SparkTableFiles.localPath("file:/tmp/w/a%20b/p.parquet") == "/tmp/w/a b/p.parquet")
        #expect(SparkTableFiles.localPath("hdfs://namenode/w/t/p.parquet") == nil)
        #expect(SparkTableFiles.localPath("s3a://bucket/t/p.parquet") == nil)
    }
}

@Suite struct SparkTypesTests {
    func sparkType(_ build: (inout Spark_Connect_DataType) -> Void) -> Spark_Connect_DataType {
        var type = Spark_Connect_DataType()
        build(&type)
        return type
    }

    @Test func sparkTypesMapAsSparksArrowConversionDoes() throws {
        var decimal = Spark_Connect_DataType.Decimal()
        decimal.precision = 20
        decimal.scale = 4
        var array = Spark_Connect_DataType.Array()
        array.elementType = sparkType { $0.long = .init() }
        array.containsNull = false
        var map = Spark_Connect_DataType.Map()
        map.keyType = sparkType { $0.string = .init() }
        map.valueType = sparkType { $0.timestamp = .init() }
        map.valueContainsNull = true
        #expect(try SparkTypes.arrowType(sparkType { $0.decimal = decimal }, timeZone: "UTC") == .decimal(bitWidth: 128, precision: 20, scale: 4))
        #expect(try SparkTypes.arrowType(sparkType { $0.decimal = .init() }, timeZone: "UTC") == .decimal(bitWidth: 128, precision: 10, scale: 0))
        #expect(try SparkTypes.arrowType(sparkType { $0.timestamp = .init() }, timeZone: "Europe/Paris") == .timestamp(.microsecond, timeZone: "Europe/Paris"))
        #expect(try SparkTypes.arrowType(sparkType { $0.timestampNtz = .init() }, timeZone: "UTC") == .timestamp(.microsecond, timeZone: nil))
        #expect(try SparkTypes.arrowType(sparkType { $0.dayTimeInterval = .init() }, timeZone: "UTC") == .duration(.microsecond))
        #expect(try SparkTypes.arrowType(sparkType { $0.array = array }, timeZone: "UTC") == .list(Field("element", .int64, nullable: false)))
        let entries: DataType = .struct([Field("key", .utf8, nullable: false), Field("value", .timestamp(.microsecond, timeZone: "UTC"))])
        let mapType: DataType = .map(Field("entries", entries, nullable: false), keysSorted: false)
        let mapped = try SparkTypes.arrowType(sparkType { $0.map = map }, timeZone: "UTC")
        #expect(mapped == mapType)
        #expect(SparkTypes.sparkName(sparkType { $0.map = map }) == "map<string,timestamp>")
        #expect(throws: FlightError.self) { try SparkTypes.arrowType(sparkType { $0.variant = .init() }, timeZone: "UTC") }
    }

    @Test func conformRelabelsZonesAndChildNamesButNotLayouts() throws {
        let builder = PrimitiveBuilder<Int64>()
        builder.append(1)
        builder.appendNull()
        let zoned = builder.finish()
        let utc = ArrayData(type: .timestamp(.microsecond, timeZone: "UTC"), length: zoned.length, nullCount: zoned.nullCount, buffers: zoned.buffers)
        let relabelled = try SparkTypes.conform(utc, to: .timestamp(.microsecond, timeZone: "Etc/UTC"))
        #expect(relabelled.type == .timestamp(.microsecond, timeZone: "Etc/UTC"))
        #expect(relabelled.buffers.count == utc.buffers.count)
        #expect(throws: FlightError.self) { try SparkTypes.conform(utc, to: .timestamp(.microsecond, timeZone: nil)) }
        #expect(throws: FlightError.self) { try SparkTypes.conform(utc, to: .timestamp(.nanosecond, timeZone: "UTC")) }
        #expect(throws: FlightError.self) { try SparkTypes.conform(zoned, to: .int32) }
        let list = ArrayData(type: .list(Field("item", utc.type)), length: 1, nullCount: 0,
                             buffers: [Buffer(copying: [UInt8]()), Buffer(copying: [0, 0, 0, 0, 2, 0, 0, 0] as [UInt8])], children: [utc])
        let element = Field("element", .timestamp(.microsecond, timeZone: "Etc/UTC"))
        #expect(try SparkTypes.conform(list, to: .list(element)).type == .list(element))
        #expect(!SparkTypes.parquetRoundTrips(.struct([Field("i", .interval(.yearMonth))])))
        #expect(SparkTypes.parquetRoundTrips(.list(Field("element", .decimal(bitWidth: 128, precision: 38, scale: 2)))))
    }
}

@Suite struct SparkParametersTests {
    @Test func arrowValuesBecomeSparkLiterals() throws {
        let ints = PrimitiveBuilder<Int64>()
        ints.append(-7)
        ints.appendNull()
        let stamps = PrimitiveBuilder<Int64>()
        stamps.append(-1_500)
        stamps.append(3_000_000)
        let nanos = stamps.finish()
        let batch = try RecordBatch(schema: Schema([Field("n", .int64), Field("t", .timestamp(.nanosecond, timeZone: nil))]), columns: [
            ints.finish(),
            ArrayData(type: .timestamp(.nanosecond, timeZone: nil), length: 2, nullCount: 0, buffers: nanos.buffers),
        ])
        let first = try SparkParameters.literals(batch, row: 0)
        #expect(first[0].long == -7)
        // Nanoseconds to microseconds towards negative infinity.
        #expect(first[1].timestampNtz == -2)
        let second = try SparkParameters.literals(batch, row: 1)
        #expect(second[0].null.long == Spark_Connect_DataType.Long())
        #expect(second[1].timestampNtz == 3_000)
        #expect(try SparkParameters.namedLiterals(batch, row: 0)["n"]?.long == -7)
        #expect(throws: FlightError.self) { try SparkParameters.literals(batch, row: 2) }
    }
}

@Suite struct SparkStagingTests {
    @Test func stagedTasksRefuseFileNamesOutsideTheirDirectory() throws {
        let good = StagedTask(query: UUID(), partition: 0, partitions: 1, slices: [StagedSlice(file: "part-00000.parquet", rowGroups: [0])])
        #expect(try StagedTask(good.task) == good)
        for name in ["../x.parquet", ".manifest", "a/b.parquet"] {
            let bad = StagedTask(query: UUID(), partition: 0, partitions: 1, slices: [StagedSlice(file: name, rowGroups: [0])])
            #expect(throws: FlightError.self) { try StagedTask(bad.task) }
        }
        #expect(throws: FlightError.self) { try StagedTask(PartitionTask(kind: StagedTask.kind, payload: Array("{".utf8))) }
    }

    @Test func theLastPartitionReadAndExpiryRemoveADirectory() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("staging-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let staging = try SparkStaging(root: root)
        let read = UUID(), expired = UUID(), live = UUID()
        for id in [read, expired, live] { try FileManager.default.createDirectory(atPath: staging.directory(id), withIntermediateDirectories: false) }
        try staging.publish(read, partitions: 2, expires: Date().addingTimeInterval(600))
        try staging.publish(expired, partitions: 1, expires: Date().addingTimeInterval(-1))
        try staging.publish(live, partitions: 1, expires: Date().addingTimeInterval(600))
        staging.markRead(read, partition: 1, of: 2)
        #expect(FileManager.default.fileExists(atPath: staging.directory(read)))
        staging.markRead(read, partition: 1, of: 2)
        #expect(FileManager.default.fileExists(atPath: staging.directory(read)), "a partition read twice counts once")
        staging.markRead(read, partition: 0, of: 2)
        #expect(!FileManager.default.fileExists(atPath: staging.directory(read)))
        #expect(staging.sweep() == 1)
        #expect(!FileManager.default.fileExists(atPath: staging.directory(expired)))
        #expect(FileManager.default.fileExists(atPath: staging.directory(live)))
    }
}

@Suite struct SparkEngineStartTests {
    @Test func anUnreachableSparkIsUnavailableAndABadAddressInvalid() async throws {
        // Port 1: nothing listens there (binding it needs privileges no Spark has).
        let unreachable = "sc://127.0.0.1:1"
        await #expect(throws: FlightError.self) { _ = try await SparkEngine(configuration: SparkEngineConfiguration(connect: unreachable)) }
        do {
            _ = try await SparkEngine(configuration: SparkEngineConfiguration(connect: unreachable))
        } catch let error as FlightError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("cannot reach Spark Connect"))
        }
        do {
            _ = try await SparkEngine(configuration: SparkEngineConfiguration(connect: "http://spark:15002"))
            Issue.record("a bad address was accepted")
        } catch let error as FlightError {
            #expect(error.code == .invalidArgument)
        }
    }
}
