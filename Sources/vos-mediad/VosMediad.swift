import ArgumentParser
import Logging
import VOSModel
import VOSRuntime
import VOSStore

/// vos-mediad: the data plane. For now it opens the store, reads the media parameters, follows
/// configuration changes and stops cleanly on SIGTERM/SIGINT.
@main
struct VosMediad: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vos-mediad", abstract: "vos media relay and firewall programmer.")

    @Option(name: .customLong("data-dir"), help: "Data directory (default: $VOS_DATA_DIR, else ./var).")
    var dataDirectory: String?

    @Option(name: .customLong("control"), help: "Control socket path (default: DATA_DIR/mediad.sock).")
    var controlPath: String?

    func run() throws {
        VOSLogging.bootstrap()
        let logger = Logger(label: "vos-mediad")
        let directory = DataDirectory.resolve(dataDirectory)
        let store: Store
        do { store = try Store(directory: directory) } catch {
            logger.critical("cannot open the store: \(error)")
            throw ExitCode(1)
        }
        let parameters = try store.read { try $0.parameters() }
        let watcher = try ConfigurationWatcher(store: store, logger: logger) { generation in
            logger.info("configuration changed (generation \(generation))")
        }
        watcher.start()
        logger.info("vos-mediad started: store \(directory), ports \(parameters.int(.mediaProxyPortStart))-\(parameters.int(.mediaProxyPortEnd)), DSCP \(parameters.int(.qosRTP))")
        let signal = ShutdownSignal.wait()
        watcher.stop()
        logger.info("vos-mediad stopping on \(signal)")
    }
}
