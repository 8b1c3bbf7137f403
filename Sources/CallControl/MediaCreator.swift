import MediaControl

/// Creates relay sessions on a thread of its own (`vos-media-create`), in the order calls asked,
/// and hands each answer to its completion. The SIP loop only queues: a call waits for its
/// ports with no attempt started (the attempt begins in the completion), never the loop.
final class MediaCreator: Sendable {
    struct Request: Sendable {
        let tag: String
        let customerRemote: MediaEndpoint?
        let completion: @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void
    }

    private let worker: MediaControlWorker<Request>

    init(path: String) {
        worker = MediaControlWorker(path: path, threadName: "vos-media-create") { worker, request in
            let created = worker.perform { (client) throws(MediaControlFailure) in
                try client.create(tag: request.tag, legs: [LegRequest(remote: request.customerRemote), LegRequest()])
            }
            request.completion(created.flatMap { info in
                guard info.legs.count == 2 else {
                    return .failure(MediaControlFailure(.internalError, "vos-mediad returned \(info.legs.count) legs for a two-leg session"))
                }
                return .success(CreatedMediaSession(session: info.session, customerSide: info.legs[0].local, vendorSide: info.legs[1].local))
            })
        }
    }

    func enqueue(tag: String, customerRemote: MediaEndpoint?,
                 completion: @escaping @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void) {
        worker.enqueue(Request(tag: tag, customerRemote: customerRemote, completion: completion))
    }
}
