import ArrowCore
import CArrowABI
import Synchronization

// A C entry point for a foreign Arrow implementation loaded in the same process (the interop
// tests drive it from pyarrow through ctypes). Every function returns 0 on success and non-zero
// on failure, leaving the message for `arrow_bridge_last_error`. Input structs are always taken
// over (released by us, now or when the data is dropped), output structs are filled only on
// success.

/// A NUL-terminated message in C memory, freed when replaced.
private final class ErrorMessage: @unchecked Sendable {
    // Written only in `init`.
    let text: UnsafeMutablePointer<CChar>

    init(_ message: String) {
        let bytes = Array(message.utf8CString)
        text = .allocate(capacity: bytes.count)
        text.initialize(from: bytes, count: bytes.count)
    }

    deinit { text.deallocate() }
}

/// The last failure's message; the pointer handed out stays valid until the next failure.
private let lastError = Mutex<ErrorMessage>(ErrorMessage(""))

private func fail(_ error: any Error) -> Int32 {
    let message = ErrorMessage("\(error)")
    lastError.withLock { $0 = message }
    return 1
}

/// The message of the last failure of any bridge function in this process, or an empty string.
/// The pointer stays valid until the next failure.
@_cdecl("arrow_bridge_last_error")
public func arrowBridgeLastError() -> UnsafePointer<CChar> {
    lastError.withLock { UnsafePointer($0.text) }
}

/// Releases whichever of the input structs are present; for failures before they are imported.
private func releaseInputs(_ schema: UnsafeMutablePointer<ArrowSchema>?, _ array: UnsafeMutablePointer<ArrowArray>?) {
    if let schema { CDataInterface.release(schema) }
    if let array { CDataInterface.release(array) }
}

/// Imports a lone array and its field (as `pyarrow.Array._export_to_c` exports them), validates
/// it, and exports the field and the imported `ArrayData` back into the output structs. The
/// output shares the input's memory, so the producer's release runs once both the input and the
/// output are released.
@_cdecl("arrow_bridge_roundtrip")
public func arrowBridgeRoundtrip(_ schemaIn: UnsafeMutablePointer<ArrowSchema>?, _ arrayIn: UnsafeMutablePointer<ArrowArray>?,
                                 _ schemaOut: UnsafeMutablePointer<ArrowSchema>?, _ arrayOut: UnsafeMutablePointer<ArrowArray>?) -> Int32 {
    guard let schemaIn, let arrayIn, let schemaOut, let arrayOut else {
        releaseInputs(schemaIn, arrayIn)
        return fail(ArrowError.invalid("a NULL struct pointer"))
    }
    do {
        let (field, data) = try CDataInterface.importArray(from: arrayIn, field: schemaIn)
        try data.validate()
        try CDataInterface.exportArray(data, into: arrayOut)
        do {
            try CDataInterface.exportField(field, into: schemaOut)
        } catch {
            CDataInterface.release(arrayOut)
            throw error
        }
        return 0
    } catch {
        return fail(error)
    }
}

/// Imports a record batch (a struct array and its schema, as `pyarrow.RecordBatch._export_to_c`
/// exports them) and exports it back. With `copy` non-zero the batch first goes through an IPC
/// stream written and read by ArrowCore, so that what is exported lives in memory Swift allocated.
@_cdecl("arrow_bridge_roundtrip_batch")
public func arrowBridgeRoundtripBatch(_ schemaIn: UnsafeMutablePointer<ArrowSchema>?, _ arrayIn: UnsafeMutablePointer<ArrowArray>?,
                                      _ schemaOut: UnsafeMutablePointer<ArrowSchema>?, _ arrayOut: UnsafeMutablePointer<ArrowArray>?,
                                      _ copy: Int32) -> Int32 {
    guard let schemaIn, let arrayIn, let schemaOut, let arrayOut else {
        releaseInputs(schemaIn, arrayIn)
        return fail(ArrowError.invalid("a NULL struct pointer"))
    }
    do {
        var batch = try CDataInterface.importRecordBatch(array: arrayIn, schema: schemaIn)
        try batch.validate()
        if copy != 0 {
            let stream = try IPCStreamWriter.encode(schema: batch.schema, batches: [batch])
            let (_, batches) = try IPCStreamReader.readAll(stream)
            guard batches.count == 1 else { throw ArrowError.mismatch("IPC round trip gave \(batches.count) batches") }
            batch = batches[0]
        }
        try CDataInterface.exportRecordBatch(batch, into: arrayOut, schema: schemaOut)
        return 0
    } catch {
        return fail(error)
    }
}

/// Imports a field (as `pyarrow.Field._export_to_c` exports it) and exports it back.
@_cdecl("arrow_bridge_roundtrip_field")
public func arrowBridgeRoundtripField(_ schemaIn: UnsafeMutablePointer<ArrowSchema>?, _ schemaOut: UnsafeMutablePointer<ArrowSchema>?) -> Int32 {
    guard let schemaIn, let schemaOut else {
        releaseInputs(schemaIn, nil)
        return fail(ArrowError.invalid("a NULL struct pointer"))
    }
    do {
        try CDataInterface.exportField(try CDataInterface.importField(from: schemaIn), into: schemaOut)
        return 0
    } catch {
        return fail(error)
    }
}

/// Imports a schema (as `pyarrow.Schema._export_to_c` exports it) and exports it back.
@_cdecl("arrow_bridge_roundtrip_schema")
public func arrowBridgeRoundtripSchema(_ schemaIn: UnsafeMutablePointer<ArrowSchema>?, _ schemaOut: UnsafeMutablePointer<ArrowSchema>?) -> Int32 {
    guard let schemaIn, let schemaOut else {
        releaseInputs(schemaIn, nil)
        return fail(ArrowError.invalid("a NULL struct pointer"))
    }
    do {
        try CDataInterface.exportSchema(try CDataInterface.importSchema(from: schemaIn), into: schemaOut)
        return 0
    } catch {
        return fail(error)
    }
}

/// Exports a record batch built in Swift (see `SampleBatch`) and its schema. Its buffers count
/// towards `arrow_bridge_live_sample_buffers` until the consumer releases it.
@_cdecl("arrow_bridge_export_sample_batch")
public func arrowBridgeExportSampleBatch(_ schemaOut: UnsafeMutablePointer<ArrowSchema>?, _ arrayOut: UnsafeMutablePointer<ArrowArray>?) -> Int32 {
    guard let schemaOut, let arrayOut else { return fail(ArrowError.invalid("a NULL struct pointer")) }
    do {
        try CDataInterface.exportRecordBatch(try SampleBatch.make(), into: arrayOut, schema: schemaOut)
        return 0
    } catch {
        return fail(error)
    }
}

/// How many buffers of sample batches are alive: zero once every exported sample is released.
@_cdecl("arrow_bridge_live_sample_buffers")
public func arrowBridgeLiveSampleBuffers() -> Int64 {
    Int64(SampleBatch.liveBuffers.load(ordering: .sequentiallyConsistent))
}
