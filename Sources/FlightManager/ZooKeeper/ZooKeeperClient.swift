import CZooKeeper
import Foundation
import Logging
import Synchronization

/// An error of a ZooKeeper operation: the C client's code, the operation and its path.
public struct ZooKeeperError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C client's code (`ZNONODE`, `ZCONNECTIONLOSS`, ...).
    public let code: Int32
    /// The operation that failed, for example `create`.
    public let operation: String
    /// The node the operation named.
    public let path: String

    /// An error of `operation` on `path` with the C client's `code`.
    public init(code: Int32, operation: String, path: String) {
        self.code = code
        self.operation = operation
        self.path = path
    }

    /// "ZooKeeper create /a/b: node exists".
    public var description: String {
        "ZooKeeper \(operation) \(path): \(String(cString: zerror(code)))"
    }

    /// The node does not exist.
    public var isNoNode: Bool { code == ZNONODE.rawValue }
    /// The node exists already.
    public var isNodeExists: Bool { code == ZNODEEXISTS.rawValue }

    /// Codes after which the same operation may succeed on a reconnected or new session.
    var isRetryable: Bool {
        [ZCONNECTIONLOSS.rawValue, ZOPERATIONTIMEOUT.rawValue, ZSESSIONEXPIRED.rawValue,
         ZINVALIDSTATE.rawValue, ZCLOSING.rawValue, ZSESSIONMOVED.rawValue].contains(code)
    }
}

/// What the ZooKeeper client tells its subscribers.
public enum ZooKeeperEvent: Sendable, Equatable {
    /// The session is connected (first connection, or again after a disconnection).
    case connected
    /// The connection was lost; the library reconnects, and the session lives on if it comes
    /// back within the session timeout.
    case disconnected
    /// The old session expired and a new one is connected: every watch is gone (set them
    /// again) and the client's own ephemeral nodes were created again.
    case sessionRestarted
    /// A watch fired on `path`.
    case node(NodeEventKind, path: String)
}

/// The kind of a watch event.
public enum NodeEventKind: Sendable, Equatable {
    case created, deleted, dataChanged, childrenChanged
}

/// The metadata ZooKeeper keeps for a node (the parts this client uses).
public struct ZooKeeperStat: Sendable, Equatable {
    /// The version of the node's data.
    public var version: Int32
    /// The session that owns the node when it is ephemeral, else 0.
    public var ephemeralOwner: Int64
    /// The transaction that created the node.
    public var createdZxid: Int64
}

/// How a node is created.
public enum ZooKeeperCreateMode: Sendable {
    /// Lives until deleted.
    case persistent
    /// Deleted by ZooKeeper when the session that created it ends.
    case ephemeral
}

/// A ZooKeeper session over the C client (`libzookeeper_mt`), the one place that calls it.
///
/// Operations are async: each one is issued with the C client's asynchronous API and resumed
/// from its completion, so no Swift thread waits on the network. Watches (one-shot in
/// ZooKeeper: set them again after each event) and session changes arrive as
/// ``ZooKeeperEvent``s from ``events()``. The library reconnects by itself while the session
/// lives; when the session expires, this client opens a new one, creates again the ephemeral
/// nodes it owns (``createOwned(_:data:)``) and sends ``ZooKeeperEvent/sessionRestarted``.
/// Operations that fail because the connection was lost are tried again, up to
/// `operationTimeout`. Callbacks from the library only record state and queue events; they
/// never call back into it.
public final class ZooKeeperClient: Sendable {
    /// The servers, `host:port[,host:port...]` (no chroot: paths here are absolute).
    public let servers: String
    /// The session timeout asked of the server.
    public let sessionTimeout: Duration
    /// How long an operation waits for a connection before it fails.
    public let operationTimeout: Duration
    let core: Core

    /// Opens a session with `servers`. It connects in the background: operations wait for it.
    /// The library resolves the servers' names here, on the caller's thread (once, at start-up).
    public init(servers: String, sessionTimeout: Duration = .seconds(4), operationTimeout: Duration? = nil,
                logger: Logger = Logger(label: "zookeeper")) throws {
        self.servers = servers
        self.sessionTimeout = sessionTimeout
        self.operationTimeout = operationTimeout ?? max(sessionTimeout * 2, .seconds(10))
        core = Core(servers: servers, sessionTimeout: sessionTimeout, logger: logger)
        try core.open()
    }

    /// Events from now on, until the client is closed or the sequence is dropped.
    public func events() -> AsyncStream<ZooKeeperEvent> { core.subscribe() }

    /// Whether the session is connected now.
    public var isConnected: Bool { core.state.withLock { $0.connected } }

    /// The id of the current session, 0 before the first connection.
    public var sessionID: Int64 { core.sessionID() }

    /// Creates `path` holding `data`; returns the path created.
    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], mode: ZooKeeperCreateMode = .persistent) async throws -> String {
        try await retrying("create", path) { try await self.core.createOnce(path, data: data, mode: mode) }
    }

    /// Creates `path` and the nodes above it that are missing, all persistent.
    public func createPath(_ path: String) async throws {
        try await core.createPath(path, until: ContinuousClock.now + operationTimeout)
    }

    /// Deletes `path` (at `version`, or any version when nil). A missing node is not an error.
    public func delete(_ path: String, version: Int32? = nil) async throws {
        do {
            try await retrying("delete", path) { try await self.core.deleteOnce(path, version: version ?? -1) }
        } catch let error as ZooKeeperError where error.isNoNode {
            return
        }
    }

    /// The data and stat of `path`; with `watch`, the next change or deletion of it is an event.
    public func data(_ path: String, watch: Bool = false) async throws -> (bytes: [UInt8], stat: ZooKeeperStat) {
        try await retrying("get", path) { try await self.core.getOnce(path, watch: watch) }
    }

    /// The children's names of `path`; with `watch`, the next change of them is an event.
    public func children(_ path: String, watch: Bool = false) async throws -> [String] {
        try await retrying("get_children", path) { try await self.core.childrenOnce(path, watch: watch) }
    }

    /// The stat of `path`, or nil when it does not exist; with `watch`, its next creation,
    /// change or deletion is an event.
    public func exists(_ path: String, watch: Bool = false) async throws -> ZooKeeperStat? {
        do {
            return try await retrying("exists", path) { try await self.core.existsOnce(path, watch: watch) }
        } catch let error as ZooKeeperError where error.isNoNode {
            return nil
        }
    }

    /// Sets the data of `path`.
    public func setData(_ path: String, _ data: [UInt8], version: Int32? = nil) async throws {
        try await retrying("set", path) { try await self.core.setOnce(path, data: data, version: version ?? -1) }
    }

    /// Creates the ephemeral node `path` holding `data` and keeps it: after a session expiry it
    /// is created again on the new session. A create whose connection is lost is ambiguous (it
    /// may have been applied): the node's owner tells. A node of another session (a previous
    /// process of the same name whose session has not expired yet) is waited for, up to
    /// twice the session timeout, then refused.
    public func createOwned(_ path: String, data: [UInt8]) async throws {
        core.state.withLock { $0.owned[path] = data }
        do {
            try await core.ensureOwned(path, data: data, waitFor: sessionTimeout * 2 + .seconds(1))
        } catch {
            core.state.withLock { _ = $0.owned.removeValue(forKey: path) }
            throw error
        }
    }

    /// Replaces the data of an ephemeral node created with ``createOwned(_:data:)``; a node
    /// created again after a session expiry holds the new data.
    public func updateOwned(_ path: String, data: [UInt8]) async throws {
        let owned = core.state.withLock { state -> Bool in
            guard state.owned[path] != nil else { return false }
            state.owned[path] = data
            return true
        }
        guard owned else { throw ZooKeeperError(code: ZNONODE.rawValue, operation: "update owned", path: path) }
        try await setData(path, data)
    }

    /// Deletes an ephemeral node created with ``createOwned(_:data:)`` and stops keeping it.
    public func deleteOwned(_ path: String) async throws {
        core.state.withLock { _ = $0.owned.removeValue(forKey: path) }
        try await delete(path)
    }

    /// Ends the session (its ephemeral nodes go at once) and stops the client.
    public func close() async {
        await core.close()
    }

    private func retrying<T: Sendable>(_ operation: String, _ path: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + operationTimeout
        while true {
            try await core.waitUntilConnected(until: deadline, operation: operation, path: path)
            do {
                return try await body()
            } catch let error as ZooKeeperError where error.isRetryable && ContinuousClock.now < deadline {
                guard !core.state.withLock({ $0.closed }) else { throw error }
                // The library is reconnecting, or a new session is being opened.
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}

extension ZooKeeperClient {
    /// What the library's callbacks reach: the handle, the session state, the subscribers.
    final class Core: Sendable {
        let servers: String
        let sessionTimeout: Duration
        let logger: Logger
        let state = Mutex(State())

        struct State {
            /// The live handle; nil while a new session is being opened, and after close.
            var live: LiveHandle?
            var generation: UInt64 = 0
            var connected = false
            /// Counts disconnections, so that a watchdog knows whether the one it waits on ended.
            var disconnections: UInt64 = 0
            var closed = false
            var owned: [String: [UInt8]] = [:]
            var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
            var subscribers: [UInt64: AsyncStream<ZooKeeperEvent>.Continuation] = [:]
            var nextID: UInt64 = 0
        }

        init(servers: String, sessionTimeout: Duration, logger: Logger) {
            self.servers = servers
            self.sessionTimeout = sessionTimeout
            self.logger = logger
        }

        /// Opens a new handle (the library connects on its own threads).
        func open() throws {
            let generation = state.withLock { state -> UInt64 in
                state.generation += 1
                return state.generation
            }
            let context = Unmanaged.passRetained(SessionContext(core: self, generation: generation))
            let timeout = Int32(clamping: sessionTimeout.components.seconds * 1000 + sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
            let handle = servers.withCString { hosts in
                zookeeper_init2(hosts, { _, type, state, path, context in
                    guard let context else { return }
                    let session = Unmanaged<SessionContext>.fromOpaque(context).takeUnretainedValue()
                    session.core.watcherFired(generation: session.generation, type: type, state: state,
                                              path: path.map { String(cString: $0) } ?? "")
                }, timeout, nil, context.toOpaque(), 0, { message in
                    guard let message else { return }
                    zooKeeperLibraryLog(String(cString: message))
                })
            }
            guard let handle else {
                context.release()
                throw ZooKeeperError(code: ZSYSTEMERROR.rawValue, operation: "connect", path: servers)
            }
            let opened = LiveHandle(pointer: handle, context: context)
            let stale = state.withLock { state -> Bool in
                guard !state.closed, state.generation == generation else { return true }
                state.live = opened
                return false
            }
            if stale {
                // Closed meanwhile. zookeeper_close waits for the library's threads: not here.
                Thread { Self.closeHandle(opened) }.start()
            }
        }

        /// The library's watcher: runs on its completion thread, so it only records and queues.
        func watcherFired(generation: UInt64, type: Int32, state sessionState: Int32, path: String) {
            if type == ZOO_SESSION_EVENT {
                var event: ZooKeeperEvent?
                var expired = false
                var lost: UInt64?
                let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    guard state.generation == generation, !state.closed else { return [] }
                    if sessionState == ZOO_CONNECTED_STATE {
                        state.connected = true
                        event = .connected
                        defer { state.waiters = [:] }
                        return Array(state.waiters.values)
                    }
                    if state.connected {
                        event = .disconnected
                        state.disconnections += 1
                        lost = state.disconnections
                    }
                    state.connected = false
                    expired = sessionState == ZOO_EXPIRED_SESSION_STATE || sessionState == ZOO_AUTH_FAILED_STATE
                    return []
                }
                for waiter in waiters { waiter.resume() }
                if let event {
                    if event == .connected { logger.info("connected to ZooKeeper at \(servers)") }
                    else { logger.warning("lost the connection to ZooKeeper at \(servers); reconnecting") }
                    publish(event)
                }
                if expired {
                    logger.warning("ZooKeeper session expired; opening a new one")
                    Task { await self.restart(from: generation) }
                } else if let lost {
                    Task { await self.expireIfStillLost(generation: generation, disconnection: lost) }
                }
                return
            }
            let kind: NodeEventKind
            switch type {
            case ZOO_CREATED_EVENT: kind = .created
            case ZOO_DELETED_EVENT: kind = .deleted
            case ZOO_CHANGED_EVENT: kind = .dataChanged
            case ZOO_CHILD_EVENT: kind = .childrenChanged
            default: return
            }
            guard state.withLock({ $0.generation == generation }) else { return }
            publish(.node(kind, path: path))
        }

        func publish(_ event: ZooKeeperEvent) {
            let subscribers = state.withLock { Array($0.subscribers.values) }
            for subscriber in subscribers { subscriber.yield(event) }
        }

        func subscribe() -> AsyncStream<ZooKeeperEvent> {
            let (stream, continuation) = AsyncStream<ZooKeeperEvent>.makeStream()
            let id = state.withLock { state -> UInt64? in
                guard !state.closed else { return nil }
                state.nextID += 1
                state.subscribers[state.nextID] = continuation
                return state.nextID
            }
            guard let id else {
                continuation.finish()
                return stream
            }
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return stream
        }

        func sessionID() -> Int64 {
            state.withLock { state in
                guard let live = state.live, state.connected else { return 0 }
                return zoo_client_id(live.pointer)?.pointee.client_id ?? 0
            }
        }

        /// A session out of touch for longer than its timeout is gone on the servers' side, but
        /// the library may never hear so (an ensemble started anew refuses the old session's
        /// reconnection without saying it expired): open a new one then.
        func expireIfStillLost(generation: UInt64, disconnection: UInt64) async {
            try? await Task.sleep(for: sessionTimeout + .milliseconds(500))
            let stillLost = state.withLock { state in
                state.generation == generation && !state.connected && !state.closed && state.disconnections == disconnection
            }
            guard stillLost else { return }
            logger.warning("out of touch with ZooKeeper for longer than the session timeout; opening a new session")
            await restart(from: generation)
        }

        /// Replaces an expired session with a new one and creates the owned nodes again.
        func restart(from generation: UInt64) async {
            let old = state.withLock { state -> LiveHandle? in
                guard state.generation == generation, !state.closed, let live = state.live else { return nil }
                state.live = nil
                return live
            }
            guard let old else { return }
            await Self.closeOffThread(old)
            while !state.withLock({ $0.closed }) {
                do {
                    // zookeeper_init resolves the servers' names: on a thread of its own.
                    try await Self.offThread { try self.open() }
                    break
                } catch {
                    logger.error("cannot open a new ZooKeeper session: \(error)")
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            let generation = state.withLock { $0.generation }
            let owned = state.withLock { $0.owned }
            for (path, data) in owned {
                // Until it is there, however long ZooKeeper stays away, unless the client
                // closes, the node is given up, or yet another session replaces this one.
                while true {
                    do {
                        try await ensureOwned(path, data: data, waitFor: sessionTimeout * 2 + .seconds(1))
                        break
                    } catch {
                        let current = state.withLock { !$0.closed && $0.generation == generation && $0.owned[path] != nil }
                        guard current else { break }
                        logger.warning("cannot create \(path) again on the new session yet: \(error)")
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
            publish(.sessionRestarted)
        }

        /// Waits for a connected session, or fails at `deadline`.
        func waitUntilConnected(until deadline: ContinuousClock.Instant, operation: String, path: String) async throws {
            while true {
                try Task.checkCancellation()
                let ready = state.withLock { state -> Bool? in
                    if state.closed { return nil }
                    return state.connected && state.live != nil
                }
                guard let ready else { throw ZooKeeperError(code: ZCLOSING.rawValue, operation: operation, path: path) }
                if ready { return }
                guard ContinuousClock.now < deadline else {
                    throw ZooKeeperError(code: ZCONNECTIONLOSS.rawValue, operation: operation, path: path)
                }
                // Woken by the next connection, or after a short while to look at the deadline.
                let id = state.withLock { state -> UInt64 in
                    state.nextID += 1
                    return state.nextID
                }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await withCheckedContinuation { continuation in
                            let resumeNow = self.state.withLock { state -> Bool in
                                if state.connected || state.closed { return true }
                                state.waiters[id] = continuation
                                return false
                            }
                            if resumeNow { continuation.resume() }
                        }
                    }
                    group.addTask { try? await Task.sleep(for: .milliseconds(250)) }
                    await group.next()
                    group.cancelAll()
                    if let waiter = self.state.withLock({ $0.waiters.removeValue(forKey: id) }) { waiter.resume() }
                    await group.waitForAll()
                }
            }
        }

        /// Creates the ephemeral `path` unless this session owns it already; a node of another
        /// session is waited for until `waitFor` has passed.
        func ensureOwned(_ path: String, data: [UInt8], waitFor: Duration) async throws {
            let deadline = ContinuousClock.now + waitFor
            while true {
                try await waitUntilConnected(until: deadline, operation: "create", path: path)
                do {
                    _ = try await createOnce(path, data: data, mode: .ephemeral)
                    return
                } catch let error as ZooKeeperError where error.isNoNode {
                    // The parents are gone (a ZooKeeper ensemble started anew): make them again.
                    try await createPath(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]), until: deadline)
                } catch let error as ZooKeeperError where error.isRetryable || error.isNodeExists {
                    // After a lost connection the create may have been applied: the owner tells.
                    if let stat = try? await existsOnce(path, watch: false) {
                        let session = sessionID()
                        if session != 0 && stat.ephemeralOwner == session { return }
                    }
                    guard ContinuousClock.now < deadline else {
                        if error.isNodeExists {
                            throw ZooKeeperError(code: ZNODEEXISTS.rawValue, operation: "create (held by another session)", path: path)
                        }
                        throw error
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }

        /// Creates `path` and the missing nodes above it, persistent, until `deadline`.
        func createPath(_ path: String, until deadline: ContinuousClock.Instant) async throws {
            var prefix = ""
            for part in path.split(separator: "/") {
                prefix += "/" + part
                while true {
                    try await waitUntilConnected(until: deadline, operation: "create", path: prefix)
                    do {
                        _ = try await createOnce(prefix, data: [], mode: .persistent)
                        break
                    } catch let error as ZooKeeperError where error.isNodeExists {
                        break
                    } catch let error as ZooKeeperError where error.isRetryable && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }

        func close() async {
            let old = state.withLock { state -> (LiveHandle?, [CheckedContinuation<Void, Never>], [AsyncStream<ZooKeeperEvent>.Continuation]) in
                guard !state.closed else { return (nil, [], []) }
                state.closed = true
                state.connected = false
                let handle = state.live
                state.live = nil
                defer {
                    state.waiters = [:]
                    state.subscribers = [:]
                }
                return (handle, Array(state.waiters.values), Array(state.subscribers.values))
            }
            for waiter in old.1 { waiter.resume() }
            for subscriber in old.2 { subscriber.finish() }
            if let handle = old.0 { await Self.closeOffThread(handle) }
        }

        /// `zookeeper_close` waits for the library's threads: never on a Swift thread of ours.
        static func closeOffThread(_ handle: LiveHandle) async {
            try? await offThread { closeHandle(handle) }
        }

        /// Runs blocking library work on a thread of its own.
        static func offThread(_ work: @escaping @Sendable () throws -> Void) async throws {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        try work()
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "zookeeper"
                thread.start()
            }
        }

        private static func closeHandle(_ handle: LiveHandle) {
            zookeeper_close(handle.pointer)
            handle.context.release()
        }

        // MARK: One attempt of each operation

        /// Issues one asynchronous call on the live handle; the completion resumes `reply`.
        private func issue(_ operation: String, _ path: String,
                           _ call: (OpaquePointer, UnsafeMutableRawPointer) -> Int32) async throws -> Reply {
            try await withCheckedThrowingContinuation { continuation in
                let box = Unmanaged.passRetained(ReplyBox(continuation: continuation, operation: operation, path: path))
                // Issued under the lock, so that the handle cannot be closed in between.
                let code = state.withLock { state -> Int32 in
                    guard let live = state.live, !state.closed else { return ZINVALIDSTATE.rawValue }
                    return call(live.pointer, box.toOpaque())
                }
                if code != ZOK.rawValue {
                    box.release()
                    continuation.resume(throwing: ZooKeeperError(code: code, operation: operation, path: path))
                }
            }
        }

        func createOnce(_ path: String, data: [UInt8], mode: ZooKeeperCreateMode) async throws -> String {
            let flags = mode == .ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT
            let reply = try await issue("create", path) { handle, box in
                path.withCString { cPath in
                    data.withUnsafeBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { value in
                            zoo_acreate(handle, cPath, value.baseAddress, Int32(value.count), czk_open_acl(), flags, { code, created, box in
                                ReplyBox.complete(box, code) { .string(created.map { String(cString: $0) } ?? "") }
                            }, box)
                        }
                    }
                }
            }
            guard case .string(let created) = reply else { return path }
            return created
        }

        func deleteOnce(_ path: String, version: Int32) async throws {
            _ = try await issue("delete", path) { handle, box in
                path.withCString { cPath in
                    zoo_adelete(handle, cPath, version, { code, box in ReplyBox.complete(box, code) { .none } }, box)
                }
            }
        }

        func getOnce(_ path: String, watch: Bool) async throws -> (bytes: [UInt8], stat: ZooKeeperStat) {
            let reply = try await issue("get", path) { handle, box in
                path.withCString { cPath in
                    zoo_aget(handle, cPath, watch ? 1 : 0, { code, value, length, stat, box in
                        ReplyBox.complete(box, code) {
                            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(max(0, length)))) } ?? []
                            return .data(bytes, ZooKeeperStat(stat))
                        }
                    }, box)
                }
            }
            guard case .data(let bytes, let stat) = reply else { return ([], ZooKeeperStat(nil)) }
            return (bytes, stat)
        }

        func childrenOnce(_ path: String, watch: Bool) async throws -> [String] {
            let reply = try await issue("get_children", path) { handle, box in
                path.withCString { cPath in
                    zoo_aget_children(handle, cPath, watch ? 1 : 0, { code, strings, box in
                        ReplyBox.complete(box, code) {
                            guard let strings = strings?.pointee, let data = strings.data else { return .strings([]) }
                            return .strings((0..<Int(strings.count)).compactMap { data[$0].map { String(cString: $0) } })
                        }
                    }, box)
                }
            }
            guard case .strings(let names) = reply else { return [] }
            return names
        }

        func existsOnce(_ path: String, watch: Bool) async throws -> ZooKeeperStat {
            let reply = try await issue("exists", path) { handle, box in
                path.withCString { cPath in
                    zoo_aexists(handle, cPath, watch ? 1 : 0, { code, stat, box in
                        ReplyBox.complete(box, code) { .stat(ZooKeeperStat(stat)) }
                    }, box)
                }
            }
            guard case .stat(let stat) = reply else { return ZooKeeperStat(nil) }
            return stat
        }

        func setOnce(_ path: String, data: [UInt8], version: Int32) async throws {
            _ = try await issue("set", path) { handle, box in
                path.withCString { cPath in
                    data.withUnsafeBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { value in
                            zoo_aset(handle, cPath, value.baseAddress, Int32(value.count), version, { code, stat, box in
                                ReplyBox.complete(box, code) { .stat(ZooKeeperStat(stat)) }
                            }, box)
                        }
                    }
                }
            }
        }
    }

    /// A handle of the C client and the watcher context it was opened with. Only `Core` uses
    /// it, under its lock (calls) or after taking it out of the state (close).
    struct LiveHandle: @unchecked Sendable {
        let pointer: OpaquePointer
        let context: Unmanaged<SessionContext>
    }

    /// What the library's watcher context points to: the core and the session's generation,
    /// so that late events of a replaced session are told apart.
    final class SessionContext: Sendable {
        let core: Core
        let generation: UInt64
        init(core: Core, generation: UInt64) {
            self.core = core
            self.generation = generation
        }
    }

    /// A completion's result, copied out of the library's memory before the callback returns.
    enum Reply: Sendable {
        case none
        case string(String)
        case strings([String])
        case data([UInt8], ZooKeeperStat)
        case stat(ZooKeeperStat)
    }

    /// One pending operation: retained while the library holds it, released by its completion.
    final class ReplyBox: Sendable {
        let continuation: CheckedContinuation<Reply, any Error>
        let operation: String
        let path: String

        init(continuation: CheckedContinuation<Reply, any Error>, operation: String, path: String) {
            self.continuation = continuation
            self.operation = operation
            self.path = path
        }

        /// Resumes the operation behind `box` with `code`, and the value `make` copies out.
        static func complete(_ box: UnsafeRawPointer?, _ code: Int32, _ make: () -> Reply) {
            guard let box else { return }
            let pending = Unmanaged<ReplyBox>.fromOpaque(box).takeRetainedValue()
            if code == ZOK.rawValue {
                pending.continuation.resume(returning: make())
            } else {
                pending.continuation.resume(throwing: ZooKeeperError(code: code, operation: pending.operation, path: pending.path))
            }
        }
    }
}

extension ZooKeeperStat {
    init(_ stat: UnsafePointer<Stat>?) {
        guard let stat = stat?.pointee else {
            self.init(version: 0, ephemeralOwner: 0, createdZxid: 0)
            return
        }
        self.init(version: stat.version, ephemeralOwner: stat.ephemeralOwner, createdZxid: stat.czxid)
    }
}

/// The library's own log lines, at debug level: it repeats its errors at every reconnection
/// attempt, and the client logs what they mean (connection lost, session expired) once.
private let zooKeeperLibraryLogger = Logger(label: "zookeeper.c")

private func zooKeeperLibraryLog(_ message: String) {
    zooKeeperLibraryLogger.debug("\(message)")
}
