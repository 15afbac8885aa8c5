import BoardCore
#if canImport(FoundationEssentials)
// The lean half of Foundation: boardctl starts in a few milliseconds without ICU.
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// boardctl's exit statuses, documented in the README and boardctl --help.
enum ExitStatus {
    static let success: Int32 = 0
    /// The daemon refused the request (not found, invalid state, invalid params, …).
    static let rejected: Int32 = 1
    /// `plan wait` saw the plan settle without closing (blocked, failed or cancelled).
    static let planNotClosed: Int32 = 2
    /// `plan wait` gave up after --timeout.
    static let waitTimedOut: Int32 = 3
    /// Bad command line (ArgumentParser's EX_USAGE).
    static let usage: Int32 = 64
    /// No daemon at the socket.
    static let unreachable: Int32 = 69
    /// The daemon's reply made no sense.
    static let protocolError: Int32 = 76
}

enum Output {
    static func line(_ text: String = "") {
        write(STDOUT_FILENO, text + "\n")
    }

    static func error(_ text: String) {
        write(STDERR_FILENO, "boardctl: " + text + "\n")
    }

    /// Text as it is, without a newline added.
    static func write(_ text: String) {
        write(STDOUT_FILENO, text)
    }

    /// Unbuffered, so stdout and stderr lines interleave in the order they were produced.
    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// `value` with `digits` decimals (String(format:) lives in the heavy half of Foundation).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        let scale = (0..<digits).reduce(1.0) { result, _ in result * 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = String(scaled / Int64(scale))
        let fraction = String(scaled % Int64(scale))
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard digits > 0 else { return sign + whole }
        return sign + whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// Left-aligned columns, two spaces apart; the last column is not padded.
    static func table(_ headers: [String]?, _ rows: [[String]]) {
        let all = (headers.map { [$0] } ?? []) + rows
        var widths = [Int](repeating: 0, count: all.first?.count ?? 0)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        for row in all {
            var text = ""
            for (index, cell) in row.enumerated() {
                text += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] + 2 - cell.count)
            }
            line(text)
        }
    }

    /// "4s ago", "3m ago", "2h ago", "5d ago": enough to read a queue at a glance.
    static func age(_ time: Timestamp, now: Timestamp = now()) -> String {
        duration(milliseconds: now.milliseconds(since: time)) + " ago"
    }

    static func duration(milliseconds: Int64) -> String {
        let value = max(0, milliseconds)
        switch value {
        case ..<1_000: return "\(value)ms"
        case ..<60_000: return fixed(Double(value) / 1000, 1) + "s"
        case ..<3_600_000: return "\(value / 60_000)m\(value / 1000 % 60)s"
        case ..<86_400_000: return "\(value / 3_600_000)h\(value / 60_000 % 60)m"
        default: return "\(value / 86_400_000)d\(value / 3_600_000 % 24)h"
        }
    }

    static func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// One line, cut to `width` characters, for table cells.
    static func clip(_ text: String, _ width: Int) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > width ? String(flat.prefix(width - 1)) + "…" : flat
    }
}
