import CSQLiteConfig

/// What SQLite is told once per process, before its first connection opens.
enum SQLiteProcessSettings {
    /// Applied by the first store to open: a global's initializer runs exactly once, even when
    /// stores open concurrently. `false` if something in the process had already initialized
    /// SQLite (opening any connection does), which makes it refuse process-wide settings; the
    /// store then works as before, only slower, and boardd says so at start.
    static let applied: Bool = board_sqlite3_disable_memory_statistics() == SQLITE_OK

    /// Bytes SQLite's allocator has counted; stays 0 while its statistics are off.
    static var countedMemory: Int64 { board_sqlite3_memory_used() }
}
