import ArgumentParser
import Logging
import VOSModel
import VOSRuntime
import VOSStore

/// vos-controller: the SIP B2BUA. For now it opens the store, follows configuration changes and
/// stops cleanly on SIGTERM/SIGINT; signalling arrives with the controller issue.
@main
struct VosController: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vos-controller", abstract: "vos SIP B2BUA.")

    @Option(name: .customLong("data-dir"), help: "Data directory (default: $VOS_DATA_DIR, else ./var).")
    var dataDirectory: String?

    @Option(name: .customLong("sip-listen"), help: "SIP listen address IP:PORT.")
    var sipListen: String = "127.0.0.1:5060"

    @Option(name: .customLong("media-control"), help: "vos-mediad control socket (default: DATA_DIR/mediad.sock).")
    var mediaControl: String?

    func run() throws {
        VOSLogging.bootstrap()
        let logger = Logger(label: "vos-controller")
        let directory = DataDirectory.resolve(dataDirectory)
        let listen: SIPAddress
        do { listen = try SIPAddress(parsing: sipListen, field: "--sip-listen") } catch {
            throw ValidationError(error.description)
        }
        let store: Store
        do { store = try Store(directory: directory) } catch {
            logger.critical("cannot open the store: \(error)")
            throw ExitCode(1)
        }
        let watcher = try ConfigurationWatcher(store: store, logger: logger) { generation in
            logger.info("configuration changed (generation \(generation)); new calls use it")
        }
        watcher.start()
        logger.info("vos-controller started: store \(directory), SIP \(listen)")
        let signal = ShutdownSignal.wait()
        watcher.stop()
        logger.info("vos-controller stopping on \(signal)")
    }
}
