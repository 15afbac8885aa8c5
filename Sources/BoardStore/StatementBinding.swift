import BoardCore
import GRDB
import GRDBSQLite

// The writer's hottest statements (a task's update, its event, a new task) bind their values
// straight to SQLite instead of through `StatementArguments`: GRDB's arguments are an array of
// `DatabaseValue`s built from existentials, validated against the statement and bound one by
// one, which cost about as much as SQLite's own work for a one-row INSERT or UPDATE. GRDB still
// runs the statement (its transaction bookkeeping and error mapping are kept, though its errors
// for these statements no longer quote the arguments); only the binding is ours.

/// SQLite copies the bytes before the bind call returns (the Swift string need not outlive it).
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// Binds a statement's parameters in order, each exactly once.
struct StatementBinder: ~Copyable {
    fileprivate let handle: SQLiteStatement
    fileprivate var next: CInt = 1
    /// The first bind SQLite refused (a text over its length limit, say): the write fails with it.
    fileprivate var refusal: CInt?

    fileprivate init(handle: SQLiteStatement) {
        self.handle = handle
    }

    mutating func bind(_ value: String?) {
        guard let value else { return record(sqlite3_bind_null(handle, next)) }
        // As GRDB binds text: up to the first NUL (the protocol refuses NULs in what clients
        // send, and the store replaces them in agents' error text).
        let (handle, index) = (handle, next)
        record(value.withCString { sqlite3_bind_text(handle, index, $0, -1, transient) })
    }

    mutating func bind(_ value: Int64?) {
        record(value.map { sqlite3_bind_int64(handle, next, $0) } ?? sqlite3_bind_null(handle, next))
    }

    mutating func bind(_ value: Int?) {
        bind(value.map(Int64.init))
    }

    private mutating func record(_ code: CInt) {
        if code != SQLITE_OK, refusal == nil { refusal = code }
        next += 1
    }
}

extension Database {
    /// Executes a constant SQL text (prepared once and cached), its parameters bound by `bind`.
    func execute(cached sql: String, binding bind: (inout StatementBinder) -> Void) throws {
        let statement = try cachedStatement(sql: sql)
        // Resets the statement, clears its bindings and tells GRDB they are set: `execute()`
        // then runs it with what `bind` binds.
        statement.setUncheckedArguments(StatementArguments())
        var binder = StatementBinder(handle: statement.sqliteStatement)
        bind(&binder)
        let parameters = sqlite3_bind_parameter_count(statement.sqliteStatement)
        guard binder.next - 1 == parameters else {
            // A programming error (a value missing or one too many), caught by any test that writes.
            throw BoardError(.storage, "internal: \(binder.next - 1) values bound to a statement of \(parameters) parameters")
        }
        // SQLite keeps its copy of the values until they are cleared: a result or a context of
        // megabytes would otherwise stay in memory with the cached statement until its next run.
        defer { sqlite3_clear_bindings(statement.sqliteStatement) }
        if let refusal = binder.refusal {
            throw DatabaseError(resultCode: ResultCode(rawValue: refusal), message: String(cString: sqlite3_errstr(refusal)), sql: sql)
        }
        try statement.execute()
    }
}
