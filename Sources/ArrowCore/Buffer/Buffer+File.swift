#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping, unmapped when the last buffer over it goes away.
final class MemoryMapping: BufferOwner, @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    init(base: UnsafeMutableRawPointer, size: Int) {
        self.base = base
        self.size = size
    }

    deinit { munmap(base, size) }
}

extension Buffer {
    /// The contents of the file at `path`, memory-mapped read-only (zero copy).
    ///
    /// The file must not be modified while buffers over it are alive.
    public init(mappingFile path: String) throws(ArrowError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open \(path): \(systemErrorMessage(errno))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot stat \(path): \(systemErrorMessage(errno))") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            self = try Buffer(readingAllFrom: fd, name: path)
            return
        }
        let size = Int(info.st_size)
        if size == 0 {
            self.init()
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .io("cannot map \(path): \(systemErrorMessage(errno))")
        }
        let mapping = MemoryMapping(base: base, size: size)
        self.init(owner: mapping, baseAddress: UnsafeRawPointer(base), count: size)
    }

    /// For a buffer over a memory-mapped file: lets the system drop the resident pages of the
    /// whole pages within `offset..<offset + count`. The bytes stay readable (touched again,
    /// they come back from the file); a reader streaming through a large file calls this for
    /// what it is done with, so that its resident memory does not grow with the file. Does
    /// nothing for other buffers.
    public func releaseMappedPages(offset: Int, count: Int) {
        guard owner is MemoryMapping, let base = baseAddress, offset >= 0, count > 0, offset <= self.count - count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: base + offset), end = start + UInt(count)
        let first = (start + UInt(page) - 1) / UInt(page) * UInt(page), last = end / UInt(page) * UInt(page)
        guard first < last, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, Int(last - first), Int32(MADV_DONTNEED))
    }

    /// Everything readable from `descriptor` until end of file, in one aligned buffer.
    public init(readingAllFrom descriptor: Int32, name: String = "input") throws(ArrowError) {
        var storage = MutableBuffer(capacity: 1 << 16)
        let chunk = 1 << 16
        while true {
            storage.reserve(storage.count + chunk)
            let n = read(descriptor, storage.pointer + storage.count, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read \(name): \(systemErrorMessage(errno))")
            }
            if n == 0 { break }
            storage.advance(by: n)
        }
        self = storage.finish()
    }

    /// Writes the bytes to `path`, replacing it atomically (a temporary file is renamed).
    public func write(toFile path: String) throws(ArrowError) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot create \(temporary): \(systemErrorMessage(errno))") }
        var failure: ArrowError?
        do throws(ArrowError) {
            try IPCFileDescriptorOutput(descriptor: fd).write([self])
        } catch {
            failure = error
        }
        if close(fd) != 0, failure == nil { failure = .io("cannot close \(temporary): \(systemErrorMessage(errno))") }
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .io("cannot rename \(temporary) to \(path): \(systemErrorMessage(errno))")
        }
    }
}

/// The text of an `errno` value, for error messages.
package func systemErrorMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(validatingCString: text) ?? "error \(code)"
}
