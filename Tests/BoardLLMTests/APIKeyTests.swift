import BoardCore
import Foundation
import Testing
@testable import BoardLLM

@Suite("API keys")
struct APIKeyTests {
    let key = "sk-live-0123456789abcdef"

    /// A private directory for one test, removed afterwards.
    func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("board-llm-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    func configError(_ operation: () throws -> String?) -> String? {
        do {
            _ = try operation()
            Issue.record("expected an error")
        } catch let error as BoardError {
            #expect(error.reason == .invalidConfig)
            return error.message
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    @Test func noSourceIsNoKey() throws {
        #expect(try APIKey.load(file: nil, credential: nil) == nil)
    }

    @Test func aFileIsReadAndTrimmed() throws {
        try withDirectory { directory in
            let path = directory + "/key"
            try Data("  \(key)\n".utf8).write(to: URL(fileURLWithPath: path))
            #expect(try APIKey.load(file: path, credential: nil) == key)
        }
    }

    @Test func aMissingEmptyOrOddFileIsAClearError() throws {
        try withDirectory { directory in
            let missing = configError { try APIKey.load(file: directory + "/nope", credential: nil) }
            #expect(missing == "cannot read the API key file \(directory)/nope: No such file or directory")
            let empty = directory + "/empty"
            try Data("\n".utf8).write(to: URL(fileURLWithPath: empty))
            #expect(configError { try APIKey.load(file: empty, credential: nil) } == "the API key file \(empty) is empty")
            let twoLines = directory + "/two"
            try Data("\(key)\nsecond\n".utf8).write(to: URL(fileURLWithPath: twoLines))
            let message = configError { try APIKey.load(file: twoLines, credential: nil) }
            #expect(message?.contains("more than one word") == true)
            #expect(message?.contains(key) == false, "the key is never in a message")
            #expect(configError { try APIKey.load(file: directory, credential: nil) }?.hasSuffix(": Is a directory") == true)
        }
    }

    @Test func aSystemdCredentialIsReadFromTheCredentialsDirectory() throws {
        try withDirectory { directory in
            try Data("\(key)\n".utf8).write(to: URL(fileURLWithPath: directory + "/openai-key"))
            #expect(try APIKey.load(file: nil, credential: "openai-key", credentialsDirectory: directory) == key)
            let missing = configError { try APIKey.load(file: nil, credential: "other", credentialsDirectory: directory) }
            #expect(missing == "cannot read the systemd credential other (\(directory)/other): No such file or directory")
        }
    }

    @Test func aCredentialNeedsSystemdAndAPlainName() {
        let unset = configError { try APIKey.load(file: nil, credential: "openai-key", credentialsDirectory: nil) }
        #expect(unset?.contains("CREDENTIALS_DIRECTORY is not set") == true)
        #expect(unset?.contains("LoadCredential=openai-key:") == true)
        for name in ["", ".", "..", "../etc/shadow"] {
            #expect(configError { try APIKey.load(file: nil, credential: name, credentialsDirectory: "/tmp") } != nil, "\(name)")
        }
    }

    @Test func bothSourcesAreRefused() {
        #expect(configError { try APIKey.load(file: "/k", credential: "k") }?.contains("not both") == true)
    }
}
