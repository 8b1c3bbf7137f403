import ClusterStore
import Logging
import Testing
import VOSTestSupport

@Suite("Cluster schema against a real PostgreSQL", .serialized)
struct ClusterSchemaTests {
    @Test func initCreatesTheSchemaOnceAndANewerSchemaIsRefusedNamingBothVersions() async throws {
        let postgres = try TemporaryPostgres()
        defer { postgres.destroy() }
        let database = ClusterDatabase(dsn: try ClusterDSN(postgres.dsn), logger: Logger(label: "test"))
        defer { Task { await database.close() } }

        await #expect(throws: ClusterError.self) { try await ClusterSchema.check(database) }
        #expect(try await ClusterSchema.initialize(database) == true)
        #expect(try await ClusterSchema.initialize(database) == false)
        try await ClusterSchema.check(database)

        try postgres.sql("UPDATE vos_schema SET version = \(ClusterSchema.version + 6)")
        do {
            try await ClusterSchema.check(database)
            Issue.record("a newer schema was accepted")
        } catch {
            #expect("\(error)".contains("schema \(ClusterSchema.version + 6)"))
            #expect("\(error)".contains("reads \(ClusterSchema.version)"))
        }
    }

    @Test func aDSNWithoutDatabaseOrWithTLSRequiredIsRefusedWithTheReason() throws {
        #expect(throws: ClusterError.self) { try ClusterDSN("postgres://vos@127.0.0.1:5432/") }
        #expect(throws: ClusterError.self) { try ClusterDSN("mysql://vos@127.0.0.1/vos") }
        #expect(throws: ClusterError.self) { try ClusterDSN("postgres://vos@db/vos?sslmode=require") }
        let socket = try ClusterDSN("postgres://vos@/vos?host=/run/postgresql&port=5433")
        #expect(socket.socketPath == "/run/postgresql/.s.PGSQL.5433")
        #expect(try ClusterDSN("postgres://vos:secret@db:6432/vos").description == "postgres://vos:***@db:6432/vos")
    }
}
