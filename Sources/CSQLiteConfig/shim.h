// Process-wide SQLite settings for BoardStore. sqlite3_config is variadic and does not import
// into Swift, hence these wrappers.
#include <sqlite3.h>

// Turns off SQLite's memory statistics. With them on (the default), every allocation and free
// inside SQLite takes one process-wide mutex to update the counters, so the writer and every
// reader connection contend on it. board reads none of those counters. Only takes effect
// before sqlite3_initialize (which opening the first connection runs); returns SQLITE_OK if it
// did, SQLITE_MISUSE if SQLite was already initialized.
static inline int board_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// The bytes SQLite's allocator counts as in use (stays 0 while the statistics are off).
static inline sqlite3_int64 board_sqlite3_memory_used(void) {
    return sqlite3_memory_used();
}
