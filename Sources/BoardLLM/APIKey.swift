import BoardCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an API key comes from. Keys live in files, never in the configuration, the environment
/// or a command line, where `ps`, logs and backups would see them.
public enum APIKey {
    /// Keys are short; anything longer is the wrong file.
    static let maxBytes = 64 * 1024

    /// Reads an API key, or returns `nil` when neither source is set.
    ///
    /// - Parameters:
    ///   - file: a file holding the key; surrounding whitespace (a trailing newline) is dropped.
    ///   - credential: the NAME of a systemd credential (`LoadCredential=NAME:/path` in the unit),
    ///     read from `$CREDENTIALS_DIRECTORY/NAME`. This is how boardd.service gets a key it could not
    ///     read itself, as its unprivileged user, with the file kept root-only.
    /// - Throws: `BoardError` (`invalid_config`) naming the file or credential when both are set, or
    ///   when the key is missing, unreadable, empty or not one token. Never the key itself.
    public static func load(file: String?, credential: String?) throws -> String? {
        let directory = getenv("CREDENTIALS_DIRECTORY").map { String(cString: $0) }
        return try load(file: file, credential: credential, credentialsDirectory: directory)
    }

    static func load(file: String?, credential: String?, credentialsDirectory: String?) throws -> String? {
        switch (file, credential) {
        case (nil, nil):
            return nil
        case (_?, _?):
            throw BoardError(.invalidConfig, "give the API key as a file or as a systemd credential, not both")
        case let (path?, nil):
            return try readKey(path, what: "the API key file \(path)")
        case let (nil, name?):
            guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
                throw BoardError(.invalidConfig, "\"\(name)\" is not a systemd credential name")
            }
            guard let directory = credentialsDirectory, !directory.isEmpty else {
                throw BoardError(
                    .invalidConfig,
                    "the systemd credential \(name) is not available: CREDENTIALS_DIRECTORY is not set "
                        + "(run boardd under systemd with LoadCredential=\(name):/path/to/key)")
            }
            let path = directory + "/" + name
            return try readKey(path, what: "the systemd credential \(name) (\(path))")
        }
    }

    private static func readKey(_ path: String, what: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch let error as ReadFailure {
            throw BoardError(.invalidConfig, "cannot read \(what): \(error.reason)")
        }
        let key = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        guard !key.isEmpty else { throw BoardError(.invalidConfig, "\(what) is empty") }
        // A header value cannot hold these, and a file with two lines is not a key.
        guard !key.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw BoardError(.invalidConfig, "\(what) holds more than one word; a key is one line without spaces")
        }
        return key
    }

    private struct ReadFailure: Error {
        var reason: String
    }

    /// The whole file, via POSIX so that the error says exactly what is wrong (`Permission denied`).
    private static func readFile(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadFailure(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(reason: String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= maxBytes else { throw ReadFailure(reason: "larger than \(maxBytes / 1024) KiB") }
        }
    }
}
