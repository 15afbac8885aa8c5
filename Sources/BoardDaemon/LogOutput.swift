import BoardCore
import CSystemd
import Foundation
import Glibc
import Logging
import Synchronization

/// The daemon-wide log level, shared by every logger so that a reload changes it everywhere.
public final class LogLevelControl: Sendable {
    private let raw: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        raw = Atomic(Self.index(level))
    }

    public var level: Logger.Level {
        get { Logger.Level.allCases[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(Self.index(newValue), ordering: .relaxed) }
    }

    private static func index(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 2)
    }
}

/// Where boardd's logs go: natively to the journal when stderr is connected to it (a systemd
/// service), with the ids as journal fields (`journalctl -u boardd PLAN_ID=plan_…`); otherwise
/// one readable line per event on stderr.
public struct BoardLogHandler: LogHandler {
    public enum Sink: Sendable { case journal, stderr }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let control: LogLevelControl
    private let sink: Sink
    private let label: String

    public init(label: String, control: LogLevelControl, sink: Sink = BoardLogHandler.detectSink()) {
        self.label = label
        self.control = control
        self.sink = sink
    }

    public var logLevel: Logger.Level {
        get { control.level }
        // Setting a level on one logger would silently diverge from the reloadable daemon level.
        set { control.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The journal when `$JOURNAL_STREAM` names the device and inode of our stderr, as systemd
    /// sets it for services whose output goes to the journal.
    public static func detectSink() -> Sink {
        guard let stream = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return .stderr }
        let parts = stream.split(separator: ":")
        var info = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), fstat(STDERR_FILENO, &info) == 0
        else { return .stderr }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode ? .journal : .stderr
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        switch sink {
        case .journal:
            Self.sendToJournal(event, fields: fields)
        case .stderr:
            Self.writeLine(event, fields: fields)
        }
    }

    private static func writeLine(_ event: LogEvent, fields: Logger.Metadata) {
        var line = Timestamp.now().iso8601 + " " + event.level.rawValue + " " + event.message.description
        for key in fields.keys.sorted() {
            line += " \(key)=\(fields[key].map { "\($0)" } ?? "")"
        }
        line += "\n"
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    private static func sendToJournal(_ event: LogEvent, fields: Logger.Metadata) {
        var entries = [
            "MESSAGE=" + event.message.description,
            "PRIORITY=\(priority(event.level))",
            "SYSLOG_IDENTIFIER=boardd",
            "CODE_FILE=" + event.file,
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=" + event.function,
        ]
        for (key, value) in fields {
            guard let name = journalFieldName(key) else { continue }
            entries.append(name + "=" + "\(value)")
        }
        // sd_journal_sendv copies the data before returning, so the buffers need only live for the call.
        let buffers = entries.map { Array($0.utf8) }
        var vectors: [iovec] = []
        vectors.reserveCapacity(buffers.count)
        func send(_ index: Int) {
            guard index < buffers.count else {
                _ = sd_journal_sendv(vectors, Int32(vectors.count))
                return
            }
            buffers[index].withUnsafeBytes { raw in
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count))
                send(index + 1)
            }
        }
        send(0)
    }

    /// syslog priorities, as journald expects them.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// `plan_id` → `PLAN_ID`. Journal field names are upper-case letters, digits and underscores,
    /// must not start with an underscore or digit (those are trusted fields) and are at most 64 bytes.
    static func journalFieldName(_ key: String) -> String? {
        let name = String(key.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        guard let first = name.first, first.isLetter, name.utf8.count <= 64 else { return nil }
        return name
    }
}
