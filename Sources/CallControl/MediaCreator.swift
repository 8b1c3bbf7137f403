import MediaControl

/// Creates relay sessions on a thread of its own (`media-create`), in the order calls asked,
/// and hands each answer to its completion. The SIP loop only queues: a call waits for its
/// ports with no attempt started (the attempt begins in the completion), never the loop. What
/// queued while the thread waited for vos-mediad goes out as one pipelined batch.
final class MediaCreator: Sendable {
    struct Request: Sendable {
        let tag: String
        let customerRemote: MediaEndpoint?
        let formats: [LegMedia]?
        let completion: @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void
    }

    private let worker: MediaControlWorker<Request>

    init(path: String) {
        worker = MediaControlWorker(path: path, threadName: "media-create") { worker, batch in
            let requests = batch.map {
                MediaRequest(id: 0, op: .create, tag: $0.tag,
                             legs: [LegRequest(remote: $0.customerRemote, media: $0.formats?.first), LegRequest(media: $0.formats?.last)])
            }
            let replies = worker.perform { (client) throws(MediaControlFailure) in try client.exchange(requests) }
            for (offset, request) in batch.enumerated() {
                request.completion(replies.flatMap { MediaCreator.created(from: $0[offset]) })
            }
        }
    }

    private static func created(from reply: MediaResponse) -> Result<CreatedMediaSession, MediaControlFailure> {
        if !reply.ok { return .failure(reply.error ?? MediaControlFailure(.internalError, "create refused without a reason")) }
        guard let info = reply.sessions?.first else {
            return .failure(MediaControlFailure(.internalError, "create reply carried no session"))
        }
        guard info.legs.count == 2 else {
            return .failure(MediaControlFailure(.internalError, "vos-mediad returned \(info.legs.count) legs for a two-leg session"))
        }
        return .success(CreatedMediaSession(session: info.session, customerSide: info.legs[0].local, vendorSide: info.legs[1].local))
    }

    func enqueue(tag: String, customerRemote: MediaEndpoint?, formats: [LegMedia]?,
                 completion: @escaping @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void) {
        worker.enqueue(Request(tag: tag, customerRemote: customerRemote, formats: formats, completion: completion))
    }
}
