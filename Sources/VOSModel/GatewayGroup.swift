/// Gateway groups with reserved lines (issue 16): routing gateways that name a group share its
/// line limit, and some of those lines can be kept for named customer accounts. The value, its
/// validation and the pure admission rule; counting calls is the controller's, storage VOSStore's.
public struct GatewayGroup: Sendable, Hashable, Codable {
    /// Lines of the group kept for one customer account.
    public struct Reservation: Sendable, Hashable, Codable {
        public var account: String
        public var lines: Int

        public init(account: String, lines: Int) {
            self.account = account
            self.lines = lines
        }
    }

    public var name: String
    /// Concurrent calls across every member gateway, reserved lines included.
    public var lineLimit: Int
    /// Sorted by account, one per account.
    public private(set) var reservations: [Reservation]

    public init(name: String, lineLimit: Int, reservations: [Reservation] = []) {
        self.name = name
        self.lineLimit = lineLimit
        self.reservations = reservations.sorted { $0.account < $1.account }
    }

    public static let lineRange = 1...1_000_000

    /// The key under which calls without an account are counted in `activeByAccount` (no account
    /// name is empty, so it never holds a reservation).
    public static let noAccount = ""

    public var reservedLines: Int { reservations.reduce(0) { $0 + $1.lines } }

    /// Lines any call may take: the limit less every reservation.
    public var sharedLines: Int { lineLimit - reservedLines }

    public func reservation(for account: String?) -> Int {
        guard let account else { return 0 }
        for reservation in reservations where reservation.account == account { return reservation.lines }
        return 0
    }

    /// Sets (lines > 0) or removes (lines 0) an account's reservation; `validate` checks the sum.
    public mutating func reserve(_ lines: Int, for account: String) {
        reservations.removeAll { $0.account == account }
        if lines != 0 {
            reservations.append(Reservation(account: account, lines: lines))
            reservations.sort { $0.account < $1.account }
        }
    }

    public mutating func removeAllReservations() { reservations = [] }

    public func validate() throws(ModelError) {
        try GatewayName.validate(name, field: "group name")
        guard Self.lineRange.contains(lineLimit) else {
            throw ModelError.outOfRange(field: "group '\(name)' --lines", value: String(lineLimit),
                                        range: "\(Self.lineRange.lowerBound)-\(Self.lineRange.upperBound)")
        }
        for (index, reservation) in reservations.enumerated() {
            try GatewayName.validate(reservation.account, field: "group '\(name)' --reserve account")
            guard reservation.lines >= 1 else {
                throw ModelError.outOfRange(field: "group '\(name)' --reserve \(reservation.account) lines",
                                            value: String(reservation.lines), range: "1-\(lineLimit)")
            }
            if reservations[..<index].contains(where: { $0.account == reservation.account }) {
                throw ModelError.inconsistent("group '\(name)' reserves lines for account '\(reservation.account)' twice")
            }
        }
        guard reservedLines <= lineLimit else {
            let list = reservations.map { "\($0.account)=\($0.lines)" }.joined(separator: ", ")
            throw ModelError.inconsistent("group '\(name)' reserves \(reservedLines) lines (\(list)) but has only \(lineLimit): reserve fewer or raise --lines")
        }
    }

    /// Whether a call billed to `account` (nil: none) may take a line of the group, given the
    /// calls now up on the group's gateways per account (`noAccount` for calls without one).
    /// An account uses its own reserved lines first; beyond them every account draws on the
    /// shared pool, so a reserved line is never taken by someone else. Allocates nothing.
    public func admits(account: String?, activeByAccount: [String: Int]) -> Bool {
        let reserved = reservation(for: account)
        if reserved > 0, (activeByAccount[account ?? Self.noAccount] ?? 0) < reserved { return true }
        return sharedBusy(activeByAccount) < sharedLines
    }

    /// `admits` with the reason, for `route explain`: "3 of 4 shared lines busy; 1 line reserved
    /// for acme free".
    public func admission(account: String?, activeByAccount: [String: Int]) -> Admission {
        let reserved = reservation(for: account)
        let own = activeByAccount[account ?? Self.noAccount] ?? 0
        let busy = sharedBusy(activeByAccount)
        var parts: [String] = []
        if let account, reserved > 0 {
            parts.append("\(own) of \(reserved) line\(reserved == 1 ? "" : "s") reserved for \(account) busy")
        }
        parts.append("\(busy) of \(sharedLines) shared line\(sharedLines == 1 ? "" : "s") busy")
        for other in reservations where other.account != account {
            let free = max(0, other.lines - (activeByAccount[other.account] ?? 0))
            if free > 0 { parts.append("\(free) line\(free == 1 ? "" : "s") reserved for \(other.account) free") }
        }
        let admitted = admits(account: account, activeByAccount: activeByAccount)
        let how: String
        if reserved > 0 && own < reserved {
            how = "a reserved line"
        } else if admitted {
            how = "a shared line"
        } else {
            how = "no line free to this call"
        }
        return Admission(admitted: admitted, reason: "group \(name): \(how) (\(parts.joined(separator: "; ")))")
    }

    public struct Admission: Sendable, Hashable {
        public var admitted: Bool
        public var reason: String

        public init(admitted: Bool, reason: String) {
            self.admitted = admitted
            self.reason = reason
        }
    }

    /// Calls on shared lines: each account's calls beyond its reservation.
    private func sharedBusy(_ activeByAccount: [String: Int]) -> Int {
        var busy = 0
        for (account, calls) in activeByAccount where calls > 0 {
            let beyond = account == Self.noAccount ? calls : calls - reservation(for: account)
            if beyond > 0 { busy += beyond }
        }
        return busy
    }

    private enum CodingKeys: String, CodingKey { case name, lineLimit, reservations }

    public init(from decoder: any Decoder) throws {
        let stored = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try stored.decode(String.self, forKey: .name), lineLimit: try stored.decode(Int.self, forKey: .lineLimit),
                  reservations: try stored.decodeIfPresent([Reservation].self, forKey: .reservations) ?? [])
    }
}
