import ArrowCore
import FlightRPC
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The temporary files of the uploads in progress, so that shutdown can remove those whose
/// calls did not get to clean up before the process ends.
final class UploadRegistry: Sendable {
    private let paths = Mutex<Set<String>>([])

    func add(_ path: String) { paths.withLock { _ = $0.insert(path) } }

    func remove(_ path: String) { paths.withLock { _ = $0.remove(path) } }

    /// Unlinks every temporary file still registered. An upload still running afterwards fails
    /// at its rename and is lost, which is what a shutdown means for it.
    func removeAll() {
        let leftover = paths.withLock { paths in
            let all = paths
            paths.removeAll()
            return all
        }
        for path in leftover { unlink(path) }
    }
}

/// An upload being written: a hidden temporary file in the served directory that becomes
/// `name` only by `commit()`, with one rename. Readers therefore see the old file or the whole
/// new one, never a part, and an upload that fails or is cancelled leaves nothing behind
/// (`abandon()`). The temporary file lives in the same directory so that the rename stays on
/// one file system and is atomic.
///
/// An upload belongs to the one task that runs its DoPut.
final class Upload {
    private let finalPath: String
    private let temporaryPath: String
    private var descriptor: Int32
    private let writer: Writer
    private let registry: UploadRegistry
    // Committed or abandoned: the temporary file is gone either way.
    private var settled = false

    private enum Writer {
        case file(IPCFileWriter)
        case stream(IPCStreamWriter)
    }

    /// Creates the temporary file and writes the schema in `layout`.
    init(root: String, name: String, schema: Schema, layout: IPCLayout, registry: UploadRegistry) throws(FlightError) {
        finalPath = "\(root)/\(name)"
        self.registry = registry
        // The random part keeps concurrent uploads apart (O_EXCL catches the unlikely clash);
        // the leading dot keeps the file out of listings and out of reach of client-chosen
        // names. The name itself is left out so that a long one cannot pass NAME_MAX.
        temporaryPath = "\(root)/.upload-\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FlightError(.internal, "cannot create a file for \(name): \(String(cString: strerror(errno)))")
        }
        registry.add(temporaryPath)
        let output = IPCFileDescriptorOutput(descriptor: descriptor)
        do throws(ArrowError) {
            switch layout {
            case .file: writer = .file(try IPCFileWriter(output: output, schema: schema))
            case .stream: writer = .stream(try IPCStreamWriter(output: output, schema: schema))
            }
        } catch {
            close(descriptor)
            unlink(temporaryPath)
            registry.remove(temporaryPath)
            throw FlightError(.internal, "cannot write \(name): \(error)")
        }
    }

    deinit { abandon() }

    /// Appends a batch.
    func write(_ batch: RecordBatch) throws(FlightError) {
        do throws(ArrowError) {
            switch writer {
            case .file(let file): try file.write(batch)
            case .stream(let stream): try stream.write(batch)
            }
        } catch {
            // Only a failing disk is the server's fault; anything else is data the requested
            // layout cannot hold (a replaced dictionary in the file format).
            if case .io = error { throw FlightError(.internal, "cannot store the batch: \(error)") }
            throw FlightError(.invalidArgument, "cannot store the batch: \(error)")
        }
    }

    /// Ends the file, makes it durable, and puts it in place under its name.
    func commit() throws(FlightError) {
        do throws(ArrowError) {
            switch writer {
            case .file(let file): try file.finish()
            case .stream(let stream): try stream.finish()
            }
        } catch {
            throw FlightError(.internal, "cannot finish the file: \(error)")
        }
        // Without fsync a crash soon after the rename could leave an empty file under the name.
        guard fsync(descriptor) == 0 else { throw FlightError(.internal, "cannot sync the file: \(String(cString: strerror(errno)))") }
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw FlightError(.internal, "cannot close the file: \(String(cString: strerror(errno)))") }
        guard rename(temporaryPath, finalPath) == 0 else {
            throw FlightError(.internal, "cannot rename the upload into place: \(String(cString: strerror(errno)))")
        }
        settled = true
        registry.remove(temporaryPath)
    }

    /// Removes the temporary file unless the upload was committed. Safe to call more than once.
    func abandon() {
        guard !settled else { return }
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(temporaryPath)
        registry.remove(temporaryPath)
        settled = true
    }
}
