import BoardCore
import GRDB
import GRDBSQLite
import Testing
@testable import BoardStore

@Suite("Values bound straight to SQLite")
struct StatementBindingTests {
    private static let insert = "INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, ?)"

    private func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (a TEXT, b INTEGER UNIQUE, c TEXT, d TEXT)") }
        return queue
    }

    @Test func valuesAreStoredAsGiven() throws {
        let queue = try database()
        try queue.write { db in
            try db.execute(cached: Self.insert) { values in
                values.bind("héllo ✓ 'quoted'; DROP TABLE t; --")
                values.bind(Int64.max)
                values.bind(String?.none)
                values.bind("")
            }
        }
        let row = try #require(try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT a, b, c, d, typeof(c) AS tc, typeof(d) AS td FROM t")
        })
        #expect(row["a"] == "héllo ✓ 'quoted'; DROP TABLE t; --")
        #expect(row["b"] == Int64.max)
        #expect(row["tc"] == "null")
        // An empty string is text, not NULL.
        #expect(row["td"] == "text")
        #expect(row["d"] == "")
    }

    @Test func aReusedStatementTakesFreshValuesNullsIncluded() throws {
        let queue = try database()
        try queue.write { db in
            for (text, number) in [("first", 1), ("second", 2)] as [(String?, Int?)] {
                try db.execute(cached: Self.insert) { values in
                    values.bind(text)
                    values.bind(number)
                    values.bind(text)
                    values.bind(text)
                }
            }
            // NULLs where the earlier runs bound values.
            try db.execute(cached: Self.insert) { values in
                values.bind(String?.none)
                values.bind(Int?.none)
                values.bind(String?.none)
                values.bind("third")
            }
        }
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT a, b, d FROM t ORDER BY rowid") }
        #expect(rows.map { $0["a"] as String? } == ["first", "second", nil])
        #expect(rows.map { $0["b"] as Int? } == [1, 2, nil])
        #expect(rows.map { $0["d"] as String? } == ["first", "second", "third"])
    }

    @Test func aMissingOrExtraValueFailsTheWriteWithoutWritingAnything() throws {
        let queue = try database()
        try queue.write { db in
            #expect(throws: BoardError.self) {
                try db.execute(cached: Self.insert) { values in
                    values.bind("a")
                    values.bind(1)
                    values.bind("c")
                }
            }
            #expect(throws: BoardError.self) {
                try db.execute(cached: Self.insert) { values in
                    for _ in 0..<5 { values.bind("x") }
                }
            }
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
    }

    @Test func aValueSQLiteRefusesFailsTheWriteAndTheStatementStaysUsable() throws {
        let queue = try database()
        try queue.write { db in
            let previous = sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, 100)
            defer { sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, previous) }
            let error = #expect(throws: DatabaseError.self) {
                try db.execute(cached: Self.insert) { values in
                    values.bind(String(repeating: "x", count: 1_000))
                    values.bind(1)
                    values.bind("c")
                    values.bind("d")
                }
            }
            #expect(error?.resultCode == .SQLITE_TOOBIG)
            try db.execute(cached: Self.insert) { values in
                values.bind("small")
                values.bind(2)
                values.bind(String?.none)
                values.bind("d")
            }
        }
        #expect(try queue.read { db in try String.fetchAll(db, sql: "SELECT a FROM t") } == ["small"])
    }

    @Test func aFailedStepFailsTheWriteAndTheStatementWorksAgain() throws {
        let queue = try database()
        func insert(_ db: Database, _ number: Int) throws {
            try db.execute(cached: Self.insert) { values in
                values.bind("row \(number)")
                values.bind(number)
                values.bind(String?.none)
                values.bind("d")
            }
        }
        try queue.write { db in
            try insert(db, 1)
            let error = #expect(throws: DatabaseError.self) { try insert(db, 1) }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            try insert(db, 2)
        }
        #expect(try queue.read { db in try Int.fetchAll(db, sql: "SELECT b FROM t ORDER BY b") } == [1, 2])
    }
}
