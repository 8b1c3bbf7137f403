import ArgumentParser
import Foundation
import Softswitch
import VOSModel
import VOSStore

/// Password gateways from vosctl: the digest credential (stored as hashes only, never printed),
/// the registrations the controller keeps, and lifting an authentication suspension.
extension GatewayFields {
    /// Sets or changes the digest credential from --username / --password / --password-file.
    /// A new username needs a password again: the stored hashes include the username.
    func applyCredential(to gateway: inout MappingGateway, realm: String) throws {
        guard username != nil || password != nil || passwordFile != nil else { return }
        guard !(password != nil && passwordFile != nil) else { throw ValidationError("give --password or --password-file, not both") }
        guard gateway.authentication == .password else {
            throw ValidationError("--username and --password apply to --auth password gateways; '\(gateway.name)' uses --auth \(gateway.authentication.rawValue)")
        }
        let name = username ?? gateway.credential?.username
        guard let name else { throw ValidationError("--auth password needs --username") }
        try DigestCredential.validate(username: name)
        let secret: String
        if let password {
            secret = password
        } else if let passwordFile {
            guard let text = FileManager.default.contents(atPath: passwordFile).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw ValidationError("cannot read --password-file \(passwordFile)")
            }
            secret = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } else {
            throw ValidationError("changing --username needs the password again (--password or --password-file): the stored hashes include the username")
        }
        guard !secret.isEmpty, secret.count <= 128, !secret.contains(where: { $0.isNewline }) else {
            throw ValidationError("the password must be 1-128 characters on one line")
        }
        gateway.credential = DigestHash.credential(username: name, realm: realm, password: secret)
    }
}

extension MappingGateway {
    /// The gateway as vosctl prints it: the password hashes replaced, so output pasted into a
    /// ticket gives nobody a way in (an HA1 is as good as the password in its realm).
    var withHiddenPassword: MappingGateway {
        var shown = self
        if var credential = shown.credential {
            credential.ha1 = credential.ha1.mapValues { _ in "hidden" }
            shown.credential = credential
        }
        return shown
    }
}

extension GatewayRows {
    /// The password and suspension rows of a mapping gateway.
    static func authentication(_ gateway: MappingGateway, suspension: GatewaySuspension?) -> [[String]] {
        var rows: [[String]] = []
        if let credential = gateway.credential {
            rows.append(["username", credential.username])
            rows.append(["password", "set (hashed for realm '\(credential.realm)': \(credential.ha1.keys.sorted().joined(separator: ", ")))"])
        }
        let now = wallClockMilliseconds
        if let suspension, suspension.until > now {
            rows.append(["suspended", "until \(CDRRows.time(suspension.until)) (\((suspension.until - now + 999) / 1000) s): \(suspension.reason); sources \(suspension.sources.joined(separator: ","))"])
        } else {
            rows.append(["suspended", "no"])
        }
        return rows
    }
}

struct GatewayUnsuspend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsuspend", abstract: "Lift a mapping gateway's suspension after failed authentications.",
        discussion: "The running controller picks it up at once; the firewall bans of its sources stay until they expire (vosctl firewall unban).")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            let store = try global.openStore()
            try store.write { transaction in
                guard try transaction.mappingGateway(named: name) != nil else { throw StoreError.notFound(kind: "mapping gateway", name: name) }
                let now = wallClockMilliseconds
                guard let suspension = try transaction.gatewaySuspensions().first(where: { $0.gateway == name }), suspension.until > now else {
                    throw StoreError.conflict("mapping gateway '\(name)' is not suspended")
                }
                try transaction.deleteGatewaySuspension(name)
            }
            print("unsuspended mapping gateway \(name)")
        }
    }
}

struct RegistrationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrations", abstract: "Registered users (password gateways): contact, real source, NAT, expiry.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    struct Shown: Encodable {
        let gateway: String
        let username: String
        let contact: String
        let received: String
        let transport: String
        let behindNAT: Bool
        let expiresInSeconds: Int64
        let userAgent: String?
    }

    func run() throws {
        try runReportingErrors {
            let now = wallClockMilliseconds
            let bindings = try global.openStore().read { try $0.registrationBindings() }.filter { $0.expiresAt > now }
            let shown = bindings.map {
                Shown(gateway: $0.gateway, username: $0.username, contact: $0.contact, received: $0.received, transport: $0.transport,
                      behindNAT: $0.behindNAT, expiresInSeconds: max(0, ($0.expiresAt - now) / 1000), userAgent: $0.userAgent)
            }
            if json { return try printJSON(shown) }
            printTable(["USER", "GATEWAY", "CONTACT", "RECEIVED", "TRANSPORT", "NAT", "EXPIRES", "USER-AGENT"], shown.map {
                [$0.username, $0.gateway, $0.contact, $0.received, $0.transport, $0.behindNAT ? "yes" : "no", "\($0.expiresInSeconds)s", $0.userAgent ?? "-"]
            })
        }
    }
}
