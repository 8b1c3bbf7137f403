import ArgumentParser
import ClusterStore
import Foundation
import VOSModel

/// `vosctl cluster`: the cluster database itself (docs/CLUSTER.md). Thin: the queries are
/// ClusterStore's; this file parses, requires a DSN and prints.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Cluster mode: create the database schema, show nodes and money, release a dead node's leases.",
        subcommands: [ClusterInit.self, ClusterStatusCommand.self, ClusterReleaseNode.self])

    static func database(_ global: GlobalOptions) throws -> ClusterDatabase {
        guard let dsn = try global.resolvedClusterDSN() else {
            throw ValidationError("cluster commands need the database: give --cluster-dsn postgres://USER@HOST/DATABASE or set \(ClusterDSN.environmentVariable)")
        }
        return ClusterDatabase(dsn: dsn, label: "vosctl.cluster")
    }
}

struct ClusterInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the vos schema in an empty cluster database (idempotent).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try runReportingErrors {
            let database = try ClusterCommand.database(global)
            let created = try runBlocking {
                defer { Task { await database.close() } }
                return try await ClusterSchema.initialize(database)
            }
            print(created ? "created cluster schema version \(ClusterSchema.version) in \(database.dsn)"
                          : "cluster schema version \(ClusterSchema.version) already present in \(database.dsn)")
        }
    }
}

struct ClusterStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the schema, the configuration generation, the nodes and every account's money.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try runReportingErrors {
            let database = try ClusterCommand.database(global)
            let status = try runBlocking {
                defer { Task { await database.close() } }
                return try await ClusterAdministration.status(database)
            }
            if json { return try printJSON(status) }
            print("schema version \(status.schemaVersion), configuration generation \(status.configGeneration)")
            print("")
            printTable(["NODE", "VERSION", "HEARTBEAT-AGE", "OUTBOX", "CONFIG-GENERATION"], status.nodes.map { node in
                [node.node, node.version, String(format: "%.0fs", node.heartbeatAgeSeconds), String(node.outboxRows),
                 String(node.configGeneration)]
            })
            print("")
            printTable(["ACCOUNT", "BALANCE", "LIMIT-MONEY", "RESERVED", "AVAILABLE", "STATUS", "LEASES"], status.accounts.map { account in
                let leases = account.leases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                return [account.account, account.balance.description, account.limitMoney.description, account.reserved.description,
                        (account.balance + account.limitMoney - account.reserved).description,
                        account.locked ? Account.Status.locked.rawValue : Account.Status.normal.rawValue, leases.isEmpty ? "-" : leases]
            })
        }
    }
}

struct ClusterReleaseNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release-node", abstract: "Free every credit lease a node holds, at once.",
        discussion: "Only for a node you have decided is gone: a node still running would go on spending credit the cluster no longer counts.")

    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() throws {
        try runReportingErrors {
            let database = try ClusterCommand.database(global)
            let node = name
            let released = try runBlocking {
                defer { Task { await database.close() } }
                return try await ClusterAdministration.releaseNode(node, database: database)
            }
            if released.isEmpty {
                print("node \(name) held no leases")
                return
            }
            for lease in released { print("released \(lease.amount) of account \(lease.account) leased by node \(name)") }
        }
    }
}
