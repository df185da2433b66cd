import ArrowCore

/// The slots of a node among a leaf's entries: how many, and which are null.
struct Slots {
    var count = 0
    var nulls = 0
    /// One byte per slot, 1 when it holds a value; nil when every slot does.
    var valid: [UInt8]?

    /// The validity bitmap, or an empty buffer when no slot is null.
    func bitmap() -> Buffer {
        guard nulls > 0, let valid else { return Buffer() }
        return packBits(valid, count: count)
    }
}

/// Packs `count` bytes of 0 or 1 into an Arrow bitmap.
func packBits(_ bytes: UnsafePointer<UInt8>, count: Int) -> Buffer {
    let size = (count + 7) / 8
    let allocation = AlignedAllocation(capacity: size, zeroed: true)
    let out = allocation.base.assumingMemoryBound(to: UInt8.self)
    var i = 0
    while i + 8 <= count {
        var b: UInt8 = 0
        for k in 0..<8 { b |= (bytes[i + k] & 1) << UInt8(k) }
        out[i >> 3] = b
        i += 8
    }
    while i < count {
        out[i >> 3] |= (bytes[i] & 1) << UInt8(i & 7)
        i += 1
    }
    return Buffer(owner: allocation, baseAddress: allocation.base, count: size)
}

func packBits(_ bytes: [UInt8], count: Int) -> Buffer {
    bytes.withUnsafeBufferPointer { packBits($0.baseAddress ?? UnsafePointer(bitPattern: 1).unsafelyUnwrapped, count: count) }
}

/// Builds a batch's Arrow arrays from its leaves' levels and values.
struct BatchAssembler {
    /// The leaves read, by column index.
    let leaves: [Int: LeafColumnReader]

    func build(_ node: ReadNode) throws(ParquetError) -> ArrayData {
        switch node {
        case .leaf(let field, let column, let levels):
            guard let reader = leaves[column] else { throw ParquetError("column \(column) was not read") }
            return try leaf(field, reader: reader, levels: levels)
        case .structure(let field, let children, let levels):
            guard let column = node.columns.first, let reader = leaves[column] else { throw ParquetError("a struct without columns") }
            let slots = Self.slots(reader.batch, levels, maxRepetition: reader.maxRepetition, maxDefinition: reader.maxDefinition)
            var arrays: [ArrayData] = []
            for child in children {
                let array = try build(child)
                guard array.length == slots.count else {
                    throw ParquetError("field \(field.name): child \(child.field.name) has \(array.length) values for \(slots.count) slots")
                }
                arrays.append(array)
            }
            return ArrayData(type: field.type, length: slots.count, nullCount: slots.nulls, buffers: [slots.bitmap()], children: arrays)
        case .list(let field, let element, let levels, let elementDefinition, let elementRepetition):
            guard let column = node.columns.first, let reader = leaves[column] else { throw ParquetError("a list without columns") }
            let batch = reader.batch
            let n = batch.entries
            let hasDefinition = batch.definition.count > 0, hasRepetition = reader.maxRepetition > 0
            let full = Int16(reader.maxDefinition)
            let def = batch.definitionLevels, rep = batch.repetitionLevels
            let ancestor = Int16(levels.ancestorDefinition), slotRepetition = Int16(levels.repetition)
            let threshold = Int16(levels.definition)
            let elementLevel = Int16(elementDefinition), elementRepeat = Int16(elementRepetition)
            let large: Bool
            if case .largeList = field.type { large = true } else { large = false }
            let width = large ? 8 : 4
            let offsetAllocation = AlignedAllocation(capacity: (n + 1) * width, zeroed: false)
            let offsets = offsetAllocation.base
            var elements = 0
            var slots = Slots()
            let valid = [UInt8](unsafeUninitializedCapacity: n) { out, written in
                guard let out = out.baseAddress else { return }
                // Without branches on the levels: each entry writes its slot's offset and
                // validity where the next slot goes, and moves on only if it is a slot.
                @inline(__always) func scan<Offset: FixedWidthInteger>(_ target: UnsafeMutablePointer<Offset>) {
                    var count = 0, nulls = 0, held = 0
                    if !hasDefinition && hasRepetition {
                        // Every entry holds a value: slots and elements by repetition alone.
                        for i in 0..<n {
                            let r = rep[i]
                            target[count] = Offset(truncatingIfNeeded: held)
                            count &+= r <= slotRepetition ? 1 : 0
                            held &+= r <= elementRepeat ? 1 : 0
                        }
                        out.initialize(repeating: 1, count: count)
                        target[count] = Offset(truncatingIfNeeded: held)
                        written = count
                        slots.count = count
                        slots.nulls = 0
                        elements = held
                        return
                    }
                    for i in 0..<n {
                        let d = hasDefinition ? def[i] : full, r = hasRepetition ? rep[i] : 0
                        let isSlot = d >= ancestor && r <= slotRepetition
                        let ok = d >= threshold
                        target[count] = Offset(truncatingIfNeeded: held)
                        out[count] = ok ? 1 : 0
                        count &+= isSlot ? 1 : 0
                        nulls &+= isSlot && !ok ? 1 : 0
                        held &+= d >= elementLevel && r <= elementRepeat ? 1 : 0
                    }
                    target[count] = Offset(truncatingIfNeeded: held)
                    written = count
                    slots.count = count
                    slots.nulls = nulls
                    elements = held
                }
                if large {
                    scan(offsets.bindMemory(to: Int64.self, capacity: n + 1))
                } else {
                    scan(offsets.bindMemory(to: Int32.self, capacity: n + 1))
                }
            }
            slots.valid = slots.nulls > 0 ? valid : nil
            guard large || elements <= Int(Int32.max) else { throw ParquetError("field \(field.name): more than 2^31 list elements in a batch") }
            let offsetBuffer = Buffer(owner: offsetAllocation, baseAddress: offsets, count: (slots.count + 1) * width)
            let child = try build(element)
            guard child.length == elements else {
                throw ParquetError("field \(field.name): \(child.length) elements for lists that hold \(elements)")
            }
            return ArrayData(type: field.type, length: slots.count, nullCount: slots.nulls, buffers: [slots.bitmap(), offsetBuffer],
                             children: [child])
        }
    }

    /// The slots of a node with `levels` among the entries of `batch`.
    static func slots(_ batch: LeafBatch, _ levels: NodeLevels, maxRepetition: Int, maxDefinition: Int) -> Slots {
        let n = batch.entries
        let flat = levels.ancestorDefinition == 0 && (maxRepetition == 0 || levels.repetition >= maxRepetition)
        // Every entry a slot, every slot full: nothing to look at.
        if flat && (batch.entriesBelowMaximum == 0 || batch.definition.count == 0) { return Slots(count: n, nulls: 0, valid: nil) }
        // Every entry holds a value, so every entry below this node is a slot and a full one.
        if batch.entriesBelowMaximum == 0 && levels.repetition >= maxRepetition { return Slots(count: n, nulls: 0, valid: nil) }
        let hasDefinition = batch.definition.count > 0, full = Int16(maxDefinition)
        let def = batch.definitionLevels
        let rep = batch.repetitionLevels
        let threshold = Int16(levels.definition), ancestor = Int16(levels.ancestorDefinition), repetition = Int16(levels.repetition)
        var nulls = 0
        var count = 0
        let valid = [UInt8](unsafeUninitializedCapacity: n) { out, written in
            guard let out = out.baseAddress else { return }
            if flat {
                for i in 0..<n {
                    let ok: UInt8 = def[i] >= threshold ? 1 : 0
                    out[i] = ok
                    nulls &+= Int(1 &- ok)
                }
                count = n
            } else {
                for i in 0..<n {
                    let d = hasDefinition ? def[i] : full, r = maxRepetition > 0 ? rep[i] : 0
                    if d >= ancestor && r <= repetition {
                        let ok: UInt8 = d >= threshold ? 1 : 0
                        out[count] = ok
                        count &+= 1
                        nulls &+= Int(1 &- ok)
                    }
                }
            }
            written = count
        }
        return Slots(count: count, nulls: nulls, valid: nulls > 0 ? valid : nil)
    }

    // MARK: Leaves

    private func leaf(_ field: Field, reader: LeafColumnReader, levels: NodeLevels) throws(ParquetError) -> ArrayData {
        let batch = reader.batch
        let slots = Self.slots(batch, levels, maxRepetition: reader.maxRepetition, maxDefinition: reader.maxDefinition)
        let values = batch.values
        let present = slots.count - slots.nulls
        guard values.count == present else {
            throw ParquetError("column \(reader.name): \(values.count) values for \(present) non-null slots")
        }
        do throws(ParquetError) {
            if case .dictionary(_, let valueType, _) = field.type {
                return try dictionaryArray(field.type, valueType: valueType, reader: reader, slots: slots)
            }
            let dense = try LeafConversion.dense(values, to: field.type)
            return try LeafConversion.array(dense, type: field.type, slots: slots)
        } catch {
            throw ParquetError("column \(reader.name): \(error.message)")
        }
    }

    private func dictionaryArray(_ type: DataType, valueType: DataType, reader: LeafColumnReader,
                                 slots: Slots) throws(ParquetError) -> ArrayData {
        let values = reader.batch.values
        if values.keepsDictionary || values.count == 0 {
            let dictionary = try reader.arrowDictionary(valueType)
            let indices = values.indices.finish()
            let spread = LeafConversion.spreadFixed(indices, width: 4, slots: slots)
            return ArrayData(type: type, length: slots.count, nullCount: slots.nulls, buffers: [slots.bitmap(), spread],
                             dictionary: dictionary)
        }
        // The chunk fell back to plain pages: its values are encoded again here.
        let dense = try LeafConversion.dense(values, to: valueType)
        let plain = try LeafConversion.array(dense, type: valueType, slots: Slots(count: values.count, nulls: 0, valid: nil))
        let (indices, dictionary) = try LeafConversion.dictionaryEncode(plain, valueType: valueType)
        let spread = LeafConversion.spreadFixed(indices, width: 4, slots: slots)
        return ArrayData(type: type, length: slots.count, nullCount: slots.nulls, buffers: [slots.bitmap(), spread], dictionary: dictionary)
    }
}

/// Dense values in an Arrow layout, before nulls are spread among them.
enum DenseValues {
    case fixed(Buffer, width: Int)
    /// Booleans, one byte each.
    case bytesAsBits(Buffer)
    case binary(offsets: Buffer, data: Buffer)
    case null
}

/// Physical values to Arrow values.
enum LeafConversion {
    static func dense(_ values: LeafValues, to type: DataType) throws(ParquetError) -> DenseValues {
        let physical = values.physicalType
        switch (physical, type) {
        case (_, .null):
            return .null
        case (.boolean, .bool):
            return .bytesAsBits(values.values.finish())
        case (.int32, .int32), (.int32, .uint32), (.int32, .date32), (.int32, .time32),
             (.int64, .int64), (.int64, .uint64), (.int64, .timestamp), (.int64, .time64), (.int64, .duration),
             (.float, .float32), (.double, .float64), (.fixedLenByteArray, .fixedSizeBinary), (.fixedLenByteArray, .float16):
            return .fixed(values.values.finish(), width: values.width)
        case (.int32, .int8), (.int32, .uint8):
            return .fixed(map(values, Int32.self, to: Int8.self) { Int8(truncatingIfNeeded: $0) }, width: 1)
        case (.int32, .int16), (.int32, .uint16):
            return .fixed(map(values, Int32.self, to: Int16.self) { Int16(truncatingIfNeeded: $0) }, width: 2)
        case (.int32, .date64):
            return .fixed(map(values, Int32.self, to: Int64.self) { Int64($0) &* 86_400_000 }, width: 8)
        case (.int32, .decimal(let bits, _, _)):
            return .fixed(widenDecimal(values, Int32.self, bytes: bits / 8), width: bits / 8)
        case (.int64, .decimal(let bits, _, _)):
            return .fixed(widenDecimal(values, Int64.self, bytes: bits / 8), width: bits / 8)
        case (.int96, .timestamp(let unit, _)):
            return .fixed(int96(values, unit: unit), width: 8)
        case (.byteArray, .decimal(let bits, _, _)), (.fixedLenByteArray, .decimal(let bits, _, _)):
            return .fixed(try bigEndianDecimal(values, bytes: bits / 8), width: bits / 8)
        case (.byteArray, .utf8), (.byteArray, .binary), (.byteArray, .largeUtf8), (.byteArray, .largeBinary),
             (.byteArray, .utf8View), (.byteArray, .binaryView):
            return .binary(offsets: values.offsets.finish(), data: values.values.finish())
        default:
            throw ParquetError("\(physical) values cannot be read as \(type)")
        }
    }

    /// The Arrow array of `dense` values placed in `slots`.
    static func array(_ dense: DenseValues, type: DataType, slots: Slots) throws(ParquetError) -> ArrayData {
        let validity = slots.bitmap()
        switch dense {
        case .null:
            return ArrayData(type: .null, length: slots.count, nullCount: slots.count, buffers: [])
        case .fixed(let buffer, let width):
            return ArrayData(type: type, length: slots.count, nullCount: slots.nulls,
                             buffers: [validity, spreadFixed(buffer, width: width, slots: slots)])
        case .bytesAsBits(let bytes):
            let bits: Buffer
            if let valid = slots.valid {
                var spread = [UInt8](repeating: 0, count: slots.count)
                var k = 0
                let source = bytes.bytes
                for i in 0..<slots.count where valid[i] != 0 {
                    spread[i] = source[k]
                    k += 1
                }
                bits = packBits(spread, count: slots.count)
            } else {
                bits = packBits(bytes.bytes.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1).unsafelyUnwrapped,
                                count: slots.count)
            }
            return ArrayData(type: type, length: slots.count, nullCount: slots.nulls, buffers: [validity, bits])
        case .binary(let offsets, let data):
            let spread = spreadOffsets(offsets, slots: slots)
            switch type {
            case .largeUtf8, .largeBinary:
                let wide = (0...slots.count).map { Int64(spread.value(at: $0, as: Int32.self)) }
                return ArrayData(type: type, length: slots.count, nullCount: slots.nulls, buffers: [validity, Buffer(values: wide), data])
            case .utf8View, .binaryView:
                return ArrayData(type: type, length: slots.count, nullCount: slots.nulls,
                                 buffers: [validity, views(offsets: spread, data: data, count: slots.count), data])
            default:
                return ArrayData(type: type, length: slots.count, nullCount: slots.nulls, buffers: [validity, spread, data])
            }
        }
    }

    /// Fixed-width values moved to their slots (zeros in null slots); the buffer itself when none is null.
    static func spreadFixed(_ buffer: Buffer, width: Int, slots: Slots) -> Buffer {
        guard let valid = slots.valid else { return buffer }
        let allocation = AlignedAllocation(capacity: slots.count * width, zeroed: true)
        let out = allocation.base
        guard let source = buffer.baseAddress else { return Buffer(owner: allocation, baseAddress: out, count: slots.count * width) }
        var k = 0
        switch width {
        case 4:
            for i in 0..<slots.count where valid[i] != 0 {
                out.storeBytes(of: source.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self), toByteOffset: 4 * i, as: UInt32.self)
                k += 1
            }
        case 8:
            for i in 0..<slots.count where valid[i] != 0 {
                out.storeBytes(of: source.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self), toByteOffset: 8 * i, as: UInt64.self)
                k += 1
            }
        default:
            for i in 0..<slots.count where valid[i] != 0 {
                (out + i * width).copyMemory(from: source + k * width, byteCount: width)
                k += 1
            }
        }
        return Buffer(owner: allocation, baseAddress: out, count: slots.count * width)
    }

    /// Int32 offsets of dense byte arrays moved to their slots (null slots empty).
    static func spreadOffsets(_ offsets: Buffer, slots: Slots) -> Buffer {
        guard let valid = slots.valid else { return offsets }
        var out = [Int32](repeating: 0, count: slots.count + 1)
        var k = 0
        for i in 0..<slots.count {
            if valid[i] != 0 {
                out[i + 1] = out[i] + (offsets.value(at: k + 1, as: Int32.self) - offsets.value(at: k, as: Int32.self))
                k += 1
            } else {
                out[i + 1] = out[i]
            }
        }
        return Buffer(values: out)
    }

    /// 16-byte views over `data` for byte arrays with `offsets`.
    static func views(offsets: Buffer, data: Buffer, count: Int) -> Buffer {
        let allocation = AlignedAllocation(capacity: 16 * count, zeroed: true)
        let out = allocation.base
        for i in 0..<count {
            let start = Int(offsets.value(at: i, as: Int32.self)), end = Int(offsets.value(at: i + 1, as: Int32.self))
            let size = end - start
            let view = out + 16 * i
            view.storeBytes(of: Int32(size), as: Int32.self)
            guard size > 0, let base = data.baseAddress else { continue }
            if size <= 12 {
                (view + 4).copyMemory(from: base + start, byteCount: size)
            } else {
                (view + 4).copyMemory(from: base + start, byteCount: 4)
                view.storeBytes(of: Int32(0), toByteOffset: 8, as: Int32.self)
                view.storeBytes(of: Int32(start), toByteOffset: 12, as: Int32.self)
            }
        }
        return Buffer(owner: allocation, baseAddress: out, count: 16 * count)
    }

    private static func map<S: BitwiseCopyable, T: BitwiseCopyable>(_ values: LeafValues, _: S.Type, to: T.Type,
                                                                   _ transform: (S) -> T) -> Buffer {
        let n = values.count
        let allocation = AlignedAllocation(capacity: n * MemoryLayout<T>.stride, zeroed: false)
        let out = allocation.base.assumingMemoryBound(to: T.self)
        for i in 0..<n { out[i] = transform(values.values.load(i, as: S.self)) }
        return Buffer(owner: allocation, baseAddress: allocation.base, count: n * MemoryLayout<T>.stride)
    }

    private static func widenDecimal<S: FixedWidthInteger & BitwiseCopyable>(_ values: LeafValues, _: S.Type, bytes: Int) -> Buffer {
        let n = values.count
        let allocation = AlignedAllocation(capacity: n * bytes, zeroed: false)
        for i in 0..<n {
            let v = Int64(values.values.load(i, as: S.self))
            let target = allocation.base + i * bytes
            target.storeBytes(of: v.littleEndian, as: Int64.self)
            let fill: UInt8 = v < 0 ? 0xFF : 0
            (target + 8).initializeMemory(as: UInt8.self, repeating: fill, count: bytes - 8)
        }
        return Buffer(owner: allocation, baseAddress: allocation.base, count: n * bytes)
    }

    /// Big-endian two's complement integers (BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY decimals) as
    /// little-endian integers of `bytes` bytes.
    private static func bigEndianDecimal(_ values: LeafValues, bytes: Int) throws(ParquetError) -> Buffer {
        let n = values.count
        let allocation = AlignedAllocation(capacity: n * bytes, zeroed: false)
        for i in 0..<n {
            let source: UnsafeRawBufferPointer
            if values.isByteArray {
                source = values.byteArray(i)
            } else {
                source = UnsafeRawBufferPointer(start: values.values.base + i * values.width, count: values.width)
            }
            let target = (allocation.base + i * bytes).assumingMemoryBound(to: UInt8.self)
            let negative = source.count > 0 && source[0] & 0x80 != 0
            let fill: UInt8 = negative ? 0xFF : 0
            if source.count > bytes {
                for k in 0..<(source.count - bytes) where source[k] != fill {
                    throw ParquetError("a decimal of \(source.count) bytes does not fit in \(bytes)")
                }
            }
            for k in 0..<bytes {
                // Byte k of the little-endian result is byte (count - 1 - k) of the big-endian input.
                let index = source.count - 1 - k
                target[k] = index >= 0 ? source[index] : fill
            }
        }
        return Buffer(owner: allocation, baseAddress: allocation.base, count: n * bytes)
    }

    /// INT96 timestamps (nanoseconds of the day, then the Julian day) as `unit`s since the epoch.
    private static func int96(_ values: LeafValues, unit: TimeUnit) -> Buffer {
        let n = values.count
        let allocation = AlignedAllocation(capacity: n * 8, zeroed: false)
        let out = allocation.base.assumingMemoryBound(to: Int64.self)
        let base = UnsafeRawPointer(values.values.base)
        for i in 0..<n {
            // The nanoseconds are unsigned, as Arrow C++ reads them: a value out of the day's
            // range divides as the same bit pattern there does.
            let nanos = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 12 * i, as: UInt64.self))
            let day = Int64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12 * i + 8, as: UInt32.self)))
            let days = day &- 2_440_588
            switch unit {
            case .nanosecond: out[i] = days &* 86_400_000_000_000 &+ Int64(bitPattern: nanos)
            case .microsecond: out[i] = days &* 86_400_000_000 &+ Int64(nanos / 1000)
            case .millisecond: out[i] = days &* 86_400_000 &+ Int64(nanos / 1_000_000)
            case .second: out[i] = days &* 86_400 &+ Int64(nanos / 1_000_000_000)
            }
        }
        return Buffer(owner: allocation, baseAddress: allocation.base, count: n * 8)
    }

    /// A dictionary array's indices and dictionary of `valueType` for the values of `array`
    /// (byte arrays, no nulls).
    static func dictionaryEncode(_ array: ArrayData, valueType: DataType) throws(ParquetError) -> (Buffer, ArrayData) {
        var positions: [[UInt8]: Int32] = [:]
        var indices = [Int32]()
        indices.reserveCapacity(array.length)
        let offsets = GrowableBuffer(), data = GrowableBuffer()
        offsets.append(Int32(0))
        for i in 0..<array.length {
            let bytes = array.bytes(i)
            let key = [UInt8](bytes)
            if let index = positions[key] {
                indices.append(index)
                continue
            }
            let index = Int32(positions.count)
            positions[key] = index
            indices.append(index)
            if let base = bytes.baseAddress { data.append(base, count: bytes.count) }
            offsets.append(Int32(data.count))
        }
        let dictionary = try Self.array(.binary(offsets: offsets.finish(), data: data.finish()), type: valueType,
                                   slots: Slots(count: positions.count, nulls: 0, valid: nil))
        return (Buffer(values: indices), dictionary)
    }
}
