import CallControl
import Foundation
import Telemetry
import VOSModel

/// HTTP call-state reporting (requirements §11; VOS3000 2.1.9.07 release notes 3.1): `call.start`
/// and `call.answer` from the B2BUA as they happen, `call.end` with the stored CDR once the ledger
/// committed it, POSTed to the webhooks that take `calls`. It only hands events to the
/// `WebhookDelivery` thread: on the SIP thread it costs one atomic load when no webhook takes calls,
/// and one queued closure when one does; the JSON is built on the webhook thread. It decides nothing
/// about calls. Field names are the CDR's (`vosctl cdr list --json`).
final class CallStateReporter: CallEventObserver, @unchecked Sendable {
    // @unchecked: immutable after init; the observer methods run on the SIP thread and `callRecorded`
    // on the ledger thread, both only reading.
    private let webhooks: WebhookDelivery
    private let node: String

    init(webhooks: WebhookDelivery, node: String) {
        self.webhooks = webhooks
        self.node = node
    }

    /// `{"event":"call.start","time":T,"node":N,"call":{...}}`: what is known at the INVITE.
    struct StartFields: Encodable, Sendable {
        var callID: String
        var callerReceived: String
        var calleeReceived: String
        var mappingGateway: String
        var account: String?
        var setupTime: Int64
    }

    /// What is known at the answer.
    struct AnswerFields: Encodable, Sendable {
        var callID: String
        var callerReceived: String
        var calleeReceived: String
        var mappingGateway: String
        var routingGateway: String
        var account: String?
        var setupTime: Int64
        var ringingTime: Int64?
        var answerTime: Int64
        var callerCodec: String?
        var calleeCodec: String?
    }

    struct Event<Call: Encodable & Sendable>: Encodable, Sendable {
        var event: String
        var time: Int64
        var node: String
        var call: Call
    }

    static func encode<Call: Encodable & Sendable>(_ event: Event<Call>) -> [UInt8]? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(event)).map { Array($0) }
    }

    func callStarted(_ event: CallStartedEvent) {
        guard webhooks.wants(.calls) else { return }
        let node = self.node
        webhooks.post(.calls) {
            Self.encode(Event(event: "call.start", time: event.setupTime, node: node, call: StartFields(
                callID: event.callID, callerReceived: event.caller, calleeReceived: event.callee,
                mappingGateway: event.mappingGateway, account: event.account, setupTime: event.setupTime)))
        }
    }

    func vendorAttempted(callID: String, routingGateway: String) {}

    func callAnswered(_ event: CallAnsweredEvent) {
        guard webhooks.wants(.calls) else { return }
        let node = self.node
        webhooks.post(.calls) {
            Self.encode(Event(event: "call.answer", time: event.answerTime, node: node, call: AnswerFields(
                callID: event.callID, callerReceived: event.caller, calleeReceived: event.callee,
                mappingGateway: event.mappingGateway, routingGateway: event.routingGateway, account: event.account,
                setupTime: event.setupTime, ringingTime: event.ringingTime, answerTime: event.answerTime,
                callerCodec: event.callerCodec, calleeCodec: event.calleeCodec)))
        }
    }

    /// The SIP side's end is not reported: `call.end` waits for the stored CDR.
    func callEnded(callID: String, mappingGateway: String, routingGateway: String?) {}

    /// A CDR the ledger stored (on its thread): `call.end` with every CDR field.
    func callRecorded(_ record: CallDetailRecord) {
        guard webhooks.wants(.calls) else { return }
        let node = self.node
        webhooks.post(.calls) { Self.encode(Event(event: "call.end", time: record.endTime, node: node, call: record)) }
    }
}
