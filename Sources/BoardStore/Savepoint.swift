import GRDB

extension Database {
    /// Runs `body` in a savepoint: its writes are kept if it returns and undone if it throws,
    /// without touching the rest of the transaction. Same as GRDB's `inSavepoint`, but with the
    /// SAVEPOINT/RELEASE/ROLLBACK statements prepared once per connection: GRDB prepares them
    /// afresh each time (with its authorizer pass), and the group-commit writer opens one per
    /// operation, thousands a second, where that cost more than many of the operations inside.
    func inCachedSavepoint<T>(_ body: () throws -> T) throws -> T {
        try cachedStatement(sql: "SAVEPOINT board_operation").execute()
        let value: T
        do {
            value = try body()
        } catch {
            // Both must run, or the savepoint would stay open inside the transaction.
            try cachedStatement(sql: "ROLLBACK TO SAVEPOINT board_operation").execute()
            try cachedStatement(sql: "RELEASE SAVEPOINT board_operation").execute()
            throw error
        }
        try cachedStatement(sql: "RELEASE SAVEPOINT board_operation").execute()
        return value
    }
}
