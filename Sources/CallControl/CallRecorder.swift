import Logging
import VOSModel
import VOSStore

/// Where finished calls go. The store-backed recorder writes each CDR in its own transaction;
/// billing settles in the same transaction (see docs/BILLING.md).
public protocol CallRecorder: AnyObject {
    func record(_ record: CallDetailRecord)
}

public final class StoreCallRecorder: CallRecorder {
    private let store: Store
    private let logger: Logger

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func record(_ record: CallDetailRecord) {
        do {
            try store.write(changesConfiguration: false) { try $0.appendCDR(record) }
        } catch {
            logger.error("cannot write the CDR of call \(record.callID): \(error)")
        }
    }
}
