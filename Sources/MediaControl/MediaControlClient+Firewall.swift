extension MediaControlClient {
    /// Sends a firewall request and returns its report, throwing the daemon's error when it refused.
    public func firewall(_ op: MediaOperation, address: String? = nil, seconds: Int? = nil,
                         reason: String? = nil) throws(MediaControlFailure) -> FirewallReport {
        let response = try exchange(MediaRequest(id: 0, op: op, address: address, seconds: seconds, reason: reason))
        if let error = response.error, !response.ok { throw error }
        guard let report = response.firewall else {
            throw MediaControlFailure(.internalError, "\(op.rawValue) reply carried no firewall report (vos-mediad too old?)")
        }
        return report
    }
}
