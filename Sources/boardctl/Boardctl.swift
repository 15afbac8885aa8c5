import ArgumentParser
import BoardCore
import BoardProtocol
#if canImport(FoundationEssentials)
// The lean half of Foundation: boardctl starts in a few milliseconds without ICU.
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

@main
struct Boardctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boardctl",
        abstract: "Control boardd: submit goals, watch plans, read final plans.",
        discussion: """
            The socket is --socket, else $BOARD_SOCKET, else /run/board/boardd.sock.
            Exit status: 0 success; 1 the daemon rejected the request; 2 `plan wait` ended with the plan \
            not closed; 3 `plan wait` timed out; 64 usage error; 69 cannot reach boardd; 76 unexpected reply.
            """,
        subcommands: [Ping.self, Status.self, PlanCommand.self, TaskCommand.self, Events.self, Reload.self, Agents.self, MetricsCommand.self, Backup.self])

    /// `boardctl --socket S --json plan list` should work as well as `boardctl plan list --socket S --json`:
    /// the global options live on every command, so leading ones are moved to the end before parsing.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var leading: [String] = []
        while let first = arguments.first {
            if first == "--json" {
                leading.append(arguments.removeFirst())
            } else if first == "--socket", arguments.count >= 2 {
                leading += arguments.prefix(2)
                arguments.removeFirst(2)
            } else if first.hasPrefix("--socket=") {
                leading.append(arguments.removeFirst())
            } else {
                break
            }
        }
        main(arguments + leading)
    }
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket of boardd.")
    var socket: String?

    @Flag(name: .long, help: "Print the protocol's result object as JSON.")
    var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["BOARD_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/board/boardd.sock"
    }

    /// Runs `body` with a connected client and turns every failure into one line and an exit status.
    func run(_ body: (ControlClient) throws(ClientFailure) -> Int32) throws {
        let client = ControlClient(path: socketPath)
        let status: Int32
        do {
            status = try body(client)
        } catch {
            switch error {
            case let .rejected(rpc):
                Output.error("\(rpc.message) [\(rpc.reason)]")
                status = ExitStatus.rejected
            case let .unreachable(message):
                Output.error(message)
                status = ExitStatus.unreachable
            case let .protocolError(message):
                Output.error(message)
                status = ExitStatus.protocolError
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    func printJSON(_ result: JSONValue) {
        Output.line(result.serialized)
    }

    /// The shape of most commands: one call, then the raw result with `--json` or `render` for people.
    func show<T: Decodable>(_ method: Method, _ params: JSONValue? = nil, as type: T.Type, render: (T) -> Void) throws {
        try run { client throws(ClientFailure) in
            let result = try client.call(method, params)
            if json {
                printJSON(result)
            } else {
                render(try decode(T.self, result))
            }
            return 0
        }
    }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "Check that boardd answers.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        try options.run { client throws(ClientFailure) in
            let start = ContinuousClock.now
            let result = try client.call(.ping)
            let elapsed = ContinuousClock.now - start
            if options.json { options.printJSON(result); return 0 }
            let ping = try decode(PingResult.self, result)
            Output.line("pong from boardd \(ping.version) at \(client.path) in \(Output.fixed(Double(elapsed.wholeMicroseconds) / 1000, 2)) ms")
            return 0
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's state and queue.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        try options.show(.daemonStatus, as: DaemonStatus.self) { status in
            Output.table(nil, [
                ["version", status.version],
                ["pid", "\(status.pid)"],
                ["uptime", Output.duration(milliseconds: Int64(status.uptimeSeconds * 1000))],
                ["socket", status.socket],
                ["database", "\(status.database) (synchronous=\(status.synchronous))"],
                ["workers", "\(status.running) running of \(status.concurrency)"],
                ["tasks", "\(status.tasks.pending) pending, \(status.tasks.inProgress) in progress"],
                ["plans", "\(status.plans.open) open, \(status.plans.synthesizing) synthesizing, "
                    + "\(status.plans.blocked) blocked, \(status.plans.failed) failed"],
            ].map { [$0[0] + ":", $0[1]] })
            Output.line("agents:")
            for agent in status.agents { Output.line("  \(agent)") }
        }
    }
}

struct Agents: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agents", abstract: "List the board's executives with their backend and model.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        try options.show(.agentsList, as: AgentsResult.self) { result in
            Output.table(["ROLE", "CODENAME", "TITLE", "BACKEND", "MODEL"], result.agents.map {
                [$0.role, $0.codename, $0.title, $0.backend, $0.model ?? "-"]
            })
            Output.line("assigned by default: " + result.defaultAgents.joined(separator: ", "))
        }
    }
}

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Print the daemon's metrics in the Prometheus text format.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        try options.show(.metricsGet, as: MetricsResult.self) { result in
            Output.write(result.text)
        }
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Make a consistent online copy of the database (it never overwrites a file).",
        discussion: "boardd writes the file itself, so PATH must be writable by the daemon (under the packaged service: below /var/lib/board).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Where to write the copy.") var path: String

    func run() throws {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        try options.show(.backupCreate, .object(["path": .string(absolute)]), as: BackupResult.self) { result in
            Output.line("backup written to \(result.path) (\(result.bytes) bytes, integrity check: \(result.integrity))")
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make boardd re-read its configuration file (like systemctl reload boardd).",
        discussion: "An invalid file is refused and the running configuration stays in force.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        try options.show(.configReload, as: ReloadResult.self) { result in
            Output.line(result.applied.isEmpty ? "configuration reloaded; nothing changed" : "configuration reloaded; applied: "
                + result.applied.joined(separator: ", "))
            if !result.restartRequired.isEmpty {
                Output.line("needs a restart to take effect: " + result.restartRequired.joined(separator: ", "))
            }
        }
    }
}

func decode<T: Decodable>(_ type: T.Type, _ result: JSONValue) throws(ClientFailure) -> T {
    do {
        return try JSONValueDecoder().decode(T.self, from: result)
    } catch {
        throw .protocolError("unexpected reply from boardd: \(error)")
    }
}

func parseID<ID: PrefixedID>(_ text: String, _ type: ID.Type) throws -> ID {
    guard let id = ID(text) else { throw ValidationError("\(text) is not a \(ID.prefix) id (expected \(ID.prefix)_…)") }
    return id
}
