import VOSModel

/// Admission and credit reservation for live calls (requirements §4). All methods are
/// `Transaction` extensions so the controller can batch many calls into one write transaction;
/// open it with `store.write(changesConfiguration: false)` so billing never makes daemons reload.
///
/// Invariant for accounts with anti-overdraft on: the sum of their live calls' reservations never
/// exceeds balance + limitMoney, because every grant is taken from credit no other call holds.
extension Transaction {
    /// Admits a call and reserves its first slice of credit, or says why it is refused.
    /// Throws only when the store fails or `request.key` is already live (a controller bug).
    ///
    /// When the account's package has a destination group for the callee, the call is first
    /// granted free seconds of that group (a slice, like money) that no other call holds: they pay
    /// the first billed seconds, so a call whose first interval they cover needs no money to
    /// start, and a limited call's deadline counts them before money. `clock` (`SS_TIME_ZONE`)
    /// names the month; without it one is made from the parameters, only for package accounts.
    public func authorizeCall(_ request: CallAuthorizationRequest, policy: ReservationPolicy? = nil,
                              clock: LocalClock? = nil) throws -> CallAuthorization {
        guard try liveCall(key: request.key) == nil else {
            throw StoreError.duplicate(kind: "live call", name: request.key)
        }
        let policy = try policy ?? ReservationPolicy(parameters: parameters())
        guard let account = try account(named: request.account) else {
            return .refused(CallRefusal(cause: .unknownAccount, detail: "account '\(request.account)' does not exist"))
        }
        guard account.status == .normal else {
            return .refused(CallRefusal(cause: .accountLocked, detail: "account '\(account.name)' is Locked"))
        }
        let totals = try accountReservation(account.name)
        // A cluster node enforces its share of the account's limit (docs/CLUSTER.md).
        let concurrentLimit = ClusterShare(nodes: try clusterActiveNodes()).share(of: account.concurrentLimit)
        if concurrentLimit > 0 && totals.liveCalls >= concurrentLimit {
            let shareText = concurrentLimit == account.concurrentLimit ? "" : ", this node's share of \(account.concurrentLimit)"
            return .refused(CallRefusal(
                cause: .concurrentLimit,
                detail: "account '\(account.name)' already has \(totals.liveCalls) live calls (limit \(concurrentLimit)\(shareText))"))
        }
        guard let tableName = account.rateTable else {
            return .refused(CallRefusal(cause: .noRate, detail: "account '\(account.name)' has no rate table"))
        }
        guard let rate = try rateLookup(table: tableName, number: request.callee) else {
            return .refused(CallRefusal(
                cause: .noRate, detail: "no prefix of \(request.callee) in rate table '\(tableName)' of account '\(account.name)'"))
        }
        let isLimited = account.antiOverdraft && rate.pricePerMinute > .zero
        let unpaidCalculator = ReservationCalculator(rate: rate, policy: policy)
        let target = unpaidCalculator.alignedSeconds(covering: rate.firstInterval + policy.quotaSeconds)
        var grant: PackageGrant?
        if let offer = try packageOffer(for: account, callee: request.callee, period: {
            try (clock ?? LocalClock(parameters: parameters())).period(of: request.now)
        }) {
            grant = offer.grant
            grant?.seconds = min(offer.available, target)
        }
        let calculator = ReservationCalculator(rate: rate, policy: policy, freeSeconds: grant?.seconds ?? 0)
        let free = account.availableCredit(reserved: totals.reserved)
        if !calculator.freeSecondsCoverFirstInterval {
            guard free > .zero, free >= calculator.admissionCost else {
                let freeText = grant.map { " beyond \($0.seconds) free seconds of package '\($0.package)' group '\($0.group)'" } ?? ""
                return .refused(CallRefusal(
                    cause: .insufficientCredit,
                    detail: "account '\(account.name)' has \(free) available (balance \(account.balance) + limit \(account.limitMoney) - reserved \(totals.reserved)); "
                        + "calling \(request.callee) needs \(calculator.admissionCost) (first \(rate.firstInterval) s\(freeText) plus \(policy.advanceSeconds) s advance time)"))
            }
        }

        var covered = rate.firstInterval
        var isFinal = false
        if isLimited {
            // Admission above proved the first interval fits (money or free seconds), so this only
            // fails if rounding drifts. Free seconds need no money, so the budget never goes negative.
            covered = calculator.affordableSeconds(budget: max(.zero, free - calculator.advanceMoney),
                                                   minimum: rate.firstInterval, maximum: target) ?? rate.firstInterval
            isFinal = covered < target
            // Free seconds past the final deadline could never be used; leave them to other calls.
            if isFinal, let granted = grant?.seconds { grant?.seconds = min(granted, covered) }
        }
        var call = LiveCall(key: request.key, callID: request.callID, account: account.name, caller: request.caller,
                            callee: request.callee, mappingGateway: request.mappingGateway, setupTime: request.now,
                            rate: rate, reserved: calculator.cost(billedSeconds: covered), coveredSeconds: covered,
                            isLimited: isLimited, isFinal: isFinal)
        call.package = grant
        if let vendor = request.vendor {
            call.vendor = vendor
            call.vendorRate = try vendorRate(for: vendor)
        }
        if let grant { try holdPackageSeconds(grant.seconds, of: grant, account: account.name) }
        try storeLiveCall(call, replacing: nil)
        return .granted(call.deadline(extensionLeadSeconds: policy.extensionLeadSeconds))
    }

    /// Asks for the next slice of a limited call. Returns the new deadline (final when the account
    /// could not pay for a whole slice), the unchanged one when the current slice still has more
    /// than one quota left, or nil when `key` is not live. Free seconds of the call's package group
    /// are taken first, then money.
    public func extendCall(_ key: String, now: Int64, policy: ReservationPolicy? = nil) throws -> CallDeadline? {
        guard let previous = try liveCall(key: key) else { return nil }
        let policy = try policy ?? ReservationPolicy(parameters: parameters())
        guard previous.isLimited, !previous.isFinal else {
            return previous.deadline(extensionLeadSeconds: policy.extensionLeadSeconds)
        }
        let elapsed = previous.connectedSeconds(at: now)
        // Granting only when the slice runs low keeps a controller that asks too often from
        // hoarding credit the account's other calls share.
        guard previous.coveredSeconds - elapsed <= policy.quotaSeconds else {
            return previous.deadline(extensionLeadSeconds: policy.extensionLeadSeconds)
        }
        let target = ReservationCalculator(rate: previous.rate, policy: policy)
            .alignedSeconds(covering: max(previous.coveredSeconds, elapsed) + policy.quotaSeconds)
        var call = previous
        if let account = try account(named: previous.account) {
            if let grant = previous.package {
                let more = min(try packageSecondsAvailable(to: account, in: grant), max(0, target - grant.seconds))
                call.package?.seconds = grant.seconds + more
            }
            let calculator = ReservationCalculator(rate: previous.rate, policy: policy, freeSeconds: call.package?.seconds ?? 0)
            let free = account.availableCredit(reserved: try accountReservation(account.name).reserved)
            // Free seconds need no money: a call living on them may extend with none left.
            let money = previous.reserved + free - calculator.advanceMoney
            let budget = call.package == nil ? money : max(.zero, money)
            let granted = calculator.affordableSeconds(budget: budget, minimum: previous.coveredSeconds, maximum: target)
            call.coveredSeconds = granted ?? previous.coveredSeconds
            call.reserved = granted.map { calculator.cost(billedSeconds: $0) } ?? previous.reserved
        }
        call.isFinal = call.coveredSeconds < target
        if call.isFinal, let granted = call.package?.seconds {
            // Never below the previous grant: it was at most the previous covered seconds.
            call.package?.seconds = max(previous.package?.seconds ?? 0, min(granted, call.coveredSeconds))
        }
        if let grant = call.package {
            try holdPackageSeconds(grant.seconds - (previous.package?.seconds ?? 0), of: grant, account: call.account)
        }
        try storeLiveCall(call, replacing: previous)
        return call.deadline(extensionLeadSeconds: policy.extensionLeadSeconds)
    }

    /// Records the answer (and the vendor that answered, when given) and returns the deadline in
    /// absolute time. Nil when `key` is not live. A second answer keeps the first time.
    public func markAnswered(_ key: String, at time: Int64, vendor: VendorLeg? = nil,
                             policy: ReservationPolicy? = nil) throws -> CallDeadline? {
        guard let previous = try liveCall(key: key) else { return nil }
        let policy = try policy ?? ReservationPolicy(parameters: parameters())
        var call = previous
        if call.answerTime == nil { call.answerTime = time }
        if let vendor {
            call.vendor = vendor
            call.vendorRate = try vendorRate(for: vendor)
        }
        try storeLiveCall(call, replacing: previous)
        return call.deadline(extensionLeadSeconds: policy.extensionLeadSeconds)
    }

    /// Records that the call was still connected after `connectedSeconds`: what a crash recovery
    /// charges. Never moves backwards. Returns false when `key` is not live or not yet answered.
    @discardableResult
    public func checkpoint(_ key: String, connectedSeconds: Int, at time: Int64) throws -> Bool {
        guard let previous = try liveCall(key: key), previous.answerTime != nil else { return false }
        guard connectedSeconds > previous.checkpointSeconds else { return true }
        var call = previous
        call.checkpointSeconds = connectedSeconds
        call.checkpointTime = time
        try storeLiveCall(call, replacing: previous)
        return true
    }

    /// The vendor's rate for the number it was sent, from its clearing account's rate table; nil
    /// when the leg has no clearing account, the account has no table, or no prefix matches.
    func vendorRate(for vendor: VendorLeg) throws -> RateEntry? {
        guard let name = vendor.clearingAccount, let table = try account(named: name)?.rateTable else { return nil }
        return try rateLookup(table: table, number: vendor.callee)
    }
}
