/// Polls `probe` until it returns a value. Never asserts on timing: the bound is only there to
/// turn a hang into a clear failure.
@discardableResult
public func eventually<T>(
    _ what: String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(20),
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while true {
        do {
            if let value = try await probe() { return value }
            lastError = nil
        } catch {
            lastError = error
        }
        if ContinuousClock.now >= deadline {
            throw WaitGaveUp("gave up after \(timeout) waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
        }
        try await Task.sleep(for: interval)
    }
}

/// What `eventually` throws when its probe never gave a value.
public struct WaitGaveUp: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
