import Foundation
import Logging
import VOSModel
import VOSStore

/// Writes a call's credit reservation, its answer, the periodic checkpoints of connected calls and
/// the call's settlement (charge and CDR) on a `BatchingThread` of its own (`vos-ledger`), in the
/// order they happened, so the SIP loop never waits for a write transaction, nor for LMDB's writer
/// lock (together 28 % of the controller's CPU, all of it on the SIP thread, at 1250 calls/s with
/// media). Each batch is one transaction (group commit); if it fails, each entry is retried in a
/// transaction of its own, so one bad record cannot take the others with it. Completions run
/// after the commit.
///
/// Money stays exact: until its settlement commits, a call's reservation stays held (admission
/// only sees less credit, never more), and settlement deletes the live-call record in the same
/// transaction that charges it, so a queued settlement lost to a crash is charged once by the
/// next start's recovery (docs/BILLING.md). `drain()` writes out what is queued at shutdown.
final class LedgerWriter: @unchecked Sendable {
    // @unchecked: the entries reach the writing thread only through `BatchingThread`'s lock.
    enum Entry {
        /// A new call: admit it and reserve its first slice of credit.
        case authorize(request: CallAuthorizationRequest, policy: ReservationPolicy, clock: LocalClock?,
                       completion: @Sendable (CallAuthorization) -> Void)
        /// The call was answered (by `vendor`): its deadline goes to `completion`.
        case answered(key: String, time: Int64, vendor: VendorLeg, policy: ReservationPolicy,
                      completion: @Sendable (CallDeadline?) -> Void)
        /// How long each answered call has been connected: what a crash recovery charges.
        case checkpoint(calls: [(key: String, seconds: Int)], time: Int64)
        /// The call ended: settle it (`key` set and its credit reserved) or record it unbilled. A
        /// call cancelled while its authorization was queued ends with its key set whatever the
        /// outcome, and this entry comes after that authorization, so it settles what was
        /// reserved or, if nothing was, records the CDR alone.
        case settle(key: String?, draft: CallDetailRecord, policy: ReservationPolicy)
        /// Customer packages' monthly rent and minimum consumption due at `time` (idempotent).
        case monthlyCharges(time: Int64)

        var callDescription: String {
            switch self {
            case let .authorize(request, _, _, _): "the credit reservation of call \(request.callID)"
            case let .answered(key, _, _, _, _): "the answer of call \(key)"
            case let .checkpoint(calls, _): "the checkpoint of \(calls.count) live calls"
            case let .settle(_, draft, _): "the CDR of call \(draft.callID)"
            case .monthlyCharges: "the monthly package charges"
            }
        }
    }

    private let store: Store
    private let logger: Logger
    private let thread = BatchingThread<Entry>(name: "vos-ledger")
    /// Each stored CDR, after its transaction committed (on this thread): metrics, webhooks, alarms.
    private let recorded: @Sendable (CallDetailRecord) -> Void

    init(store: Store, logger: Logger, recorded: @escaping @Sendable (CallDetailRecord) -> Void) {
        self.store = store
        self.logger = logger
        self.recorded = recorded
        thread.start { [unowned self] batch in write(batch) }
    }

    func enqueue(_ entry: Entry) {
        thread.enqueue(entry)
    }

    /// Returns once everything queued before the call is committed (at most `seconds`).
    @discardableResult
    func drain(seconds: Double = 10) -> Bool {
        thread.drain(seconds: seconds)
    }

    /// What an entry's transaction decided, for its completion.
    private enum Outcome {
        case authorization(CallAuthorization)
        case deadline(CallDeadline?)
        case recorded(CallDetailRecord)
        case charged([AccountHistoryEntry])
        case stored
    }

    private func write(_ batch: [Entry]) {
        let outcomes: [Outcome]
        do {
            outcomes = try store.write(changesConfiguration: false) { transaction in
                try batch.map { try Self.apply($0, in: transaction) }
            }
        } catch {
            guard batch.count > 1 else {
                logger.error("cannot write \(batch[0].callDescription): \(error)")
                switch batch[0] {
                case let .authorize(_, _, _, completion):
                    // Never connect a call whose credit could not be reserved.
                    completion(.refused(CallRefusal(cause: .unknownAccount, detail: "store failure: \(error)")))
                case let .answered(_, _, _, _, completion): completion(nil)
                case .checkpoint, .settle, .monthlyCharges: break
                }
                return
            }
            for entry in batch { write([entry]) }
            return
        }
        for (entry, outcome) in zip(batch, outcomes) {
            switch (entry, outcome) {
            case let (.authorize(_, _, _, completion), .authorization(authorization)): completion(authorization)
            case let (.answered(_, _, _, _, completion), .deadline(deadline)): completion(deadline)
            case let (_, .recorded(record)): recorded(record)
            case let (_, .charged(entries)):
                for entry in entries {
                    logger.info("account \(entry.account): \(entry.kind.rawValue) \(entry.amount), balance \(entry.balanceAfter)")
                }
            default: break
            }
        }
    }

    private static func apply(_ entry: Entry, in transaction: Transaction) throws -> Outcome {
        switch entry {
        case let .authorize(request, policy, clock, _):
            return .authorization(try transaction.authorizeCall(request, policy: policy, clock: clock))
        case let .answered(key, time, vendor, policy, _):
            return .deadline(try transaction.markAnswered(key, at: time, vendor: vendor, policy: policy))
        case let .checkpoint(calls, time):
            for call in calls { try transaction.checkpoint(call.key, connectedSeconds: call.seconds, at: time) }
        case let .settle(key?, draft, policy):
            return .recorded(try transaction.settleCall(key, draft: draft, policy: policy) ?? transaction.appendCDR(draft))
        case let .settle(nil, draft, _):
            return .recorded(try transaction.appendCDR(draft))
        case let .monthlyCharges(time):
            return .charged(try transaction.applyMonthlyCharges(now: time))
        }
        return .stored
    }
}
