import CVOSSys  // owns <sys/socket.h> in modules that depend on it (SHUT_RDWR)
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// A connected Unix stream socket read line by line. Used by both the client and the server;
/// one reader per instance (it owns the read buffer), writes may come from several threads
/// when the caller serialises them.
final class UnixStream: @unchecked Sendable {
    // @unchecked: `buffer` and `consumed` are touched only by the single reading thread; `fd` is immutable.
    let fd: Int32
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already handed out as lines.
    private var consumed = 0
    private static let readSize = 16 * 1024

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    static func connect(path: String) throws(MediaControlFailure) -> UnixStream {
        do { return UnixStream(fd: try UnixSocket.connect(path: path)) } catch {
            throw MediaControlFailure(.connectionFailed, error.step == .connect ? "\(error) (is vos-mediad running?)" : error.description)
        }
    }

    /// Waits at most `timeoutMilliseconds` (-1 = forever) for data. False on timeout.
    func waitReadable(timeoutMilliseconds: Int32) -> Bool {
        if buffer[consumed...].contains(UInt8(ascii: "\n")) { return true }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let result = poll(&poller, 1, timeoutMilliseconds)
            if result < 0 && errno == EINTR { continue }
            return result > 0
        }
    }

    /// The next line if one is already complete in the buffer, without reading the socket: what
    /// a pipelining peer sent along with the line just read.
    func bufferedLine() -> [UInt8]? {
        guard let newline = buffer[consumed...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = Array(buffer[consumed..<newline])
        consumed = newline + 1
        if consumed == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            consumed = 0
        }
        return line
    }

    /// The next line without its newline; nil when the peer closed the connection. Lines are cut
    /// from one buffer that is compacted only when it runs out of room, so a batch of pipelined
    /// replies costs one read, not one per line.
    func readLine() throws(MediaControlFailure) -> [UInt8]? {
        while true {
            if let line = bufferedLine() { return line }
            guard buffer.count - consumed <= MediaControl.maximumLineLength else {
                throw MediaControlFailure(.malformedRequest, "line longer than \(MediaControl.maximumLineLength) bytes")
            }
            if consumed > 0 {
                buffer.removeSubrange(..<consumed)
                consumed = 0
            }
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: UnixStream.readSize))
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress.map { $0 + start }, UnixStream.readSize, 0) }
            let readError = count < 0 ? errno : 0
            buffer.removeSubrange(max(start, start + count)...)
            if count < 0 {
                if readError == EINTR { continue }
                throw MediaControlFailure(.connectionFailed, "read from control socket: \(errnoText(readError))")
            }
            if count == 0 { return nil }
        }
    }

    func write(_ bytes: [UInt8]) throws(MediaControlFailure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw MediaControlFailure(.connectionFailed, "write to control socket: \(errnoText())")
            }
            offset += written
        }
    }

    /// Wakes a thread blocked in `readLine` on this stream (used at shutdown).
    func shutdownBoth() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) + " (errno \(code))" }
