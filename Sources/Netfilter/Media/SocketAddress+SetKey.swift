import Sockets

extension SocketAddress {
    /// Address then port (network order), the port padded to a 32-bit register as concatenated
    /// set keys need.
    var concatenationBytes: [UInt8] { address.bytes + [UInt8(port >> 8), UInt8(port & 0xff), 0, 0] }
}
