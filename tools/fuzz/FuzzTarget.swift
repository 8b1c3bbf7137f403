// libFuzzer entry for SIPCore. Built together with Sources/SIPCore/*.swift by run.sh, so the
// module's internals are in scope without an import.
//
// Invariants checked on every input:
// - nothing traps (ASan/UBSan catch memory errors, Swift traps on overflow and bounds);
// - a message that parses re-parses from its own serialization to an equal message;
// - an SDP body that parses round-trips the same way, also after the relay rewrites;
// - a URI that parses round-trips through its description.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    fuzzMessage(bytes)
    fuzzSDP(bytes)
    if let text = String(validating: bytes, as: UTF8.self) { fuzzURI(text) }
    return 0
}

private func fuzzMessage(_ bytes: [UInt8]) {
    let message: SIPMessage
    do {
        message = try SIPMessage(parsing: bytes)
    } catch {
        if let answer = SIPBadRequest.response(for: bytes, error: error, toTag: "fuzz") {
            _ = answer.serialized()
        }
        return
    }
    let serialized = message.serialized()
    guard let again = try? SIPMessage(parsing: serialized) else {
        fatalError("serialized message does not re-parse: \(String(decoding: serialized, as: UTF8.self))")
    }
    guard again == message else { fatalError("round trip changed the message") }
    _ = try? message.vias()
    _ = try? message.from()
    _ = try? message.to()
    _ = try? message.contacts()
    _ = try? message.routes()
    _ = try? message.recordRoutes()
    _ = message.sessionExpires
    _ = message.supported
    var edited = message
    if message.isRequest {
        let response = SIPMessage.response(to: message, status: 200, toTag: "fuzz")
        _ = response.serialized()
    }
    if let top = try? edited.removeTopVia() {
        edited.prependVia(top)
        guard let reparsed = try? SIPMessage(parsing: edited.serialized()),
              (try? reparsed.topVia()) == top else {
            fatalError("Via edit did not round-trip")
        }
    }
    if !message.body.isEmpty { fuzzSDP(message.body) }
}

private func fuzzSDP(_ bytes: [UInt8]) {
    guard var sdp = try? SDPSession(parsing: bytes) else { return }
    guard let again = try? SDPSession(parsing: sdp.serialized()), again == sdp else {
        fatalError("SDP round trip failed")
    }
    for section in sdp.media {
        _ = section.payloadTypes
        for payloadType in section.payloadTypes { _ = section.rtpmap(for: payloadType) }
    }
    sdp.setConnectionAddress("203.0.113.7", includeOrigin: true)
    if !sdp.media.isEmpty { sdp.setMediaPort(40_000, at: 0) }
    guard let rewritten = try? SDPSession(parsing: sdp.serialized()), rewritten == sdp else {
        fatalError("rewritten SDP does not round-trip")
    }
}

private func fuzzURI(_ text: String) {
    guard text.utf8.count < 4_096, let uri = try? SIPURI(parsing: text) else { return }
    guard let again = try? SIPURI(parsing: uri.description), again == uri else {
        fatalError("URI round trip failed for \(text)")
    }
}
