import GRDB

/// Versioned migrations. Append new ones; never edit a released one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_plans_tasks_events") { db in
            try db.execute(sql: """
                CREATE TABLE plans (
                    seq INTEGER PRIMARY KEY,
                    plan_id TEXT NOT NULL UNIQUE,
                    goal TEXT NOT NULL,
                    context TEXT,
                    status TEXT NOT NULL,
                    idempotency_key TEXT UNIQUE,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    closed_at TEXT
                );
                CREATE INDEX plans_by_status ON plans(status, seq);

                CREATE TABLE tasks (
                    seq INTEGER PRIMARY KEY,
                    task_id TEXT NOT NULL UNIQUE,
                    plan_id TEXT NOT NULL REFERENCES plans(plan_id),
                    position INTEGER NOT NULL,
                    agent TEXT NOT NULL,
                    description TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    last_error TEXT,
                    due_at TEXT NOT NULL,
                    claim_owner TEXT,
                    lease_expires_at TEXT,
                    result TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX tasks_by_plan ON tasks(plan_id, state);
                -- Claiming (pending, by due time), recovery and counts by state all range-scan this one.
                CREATE INDEX tasks_by_state ON tasks(state, due_at, seq);

                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL,
                    plan_id TEXT NOT NULL,
                    task_id TEXT,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX events_by_plan ON events(plan_id, seq);
                CREATE INDEX events_by_task ON events(task_id, seq) WHERE task_id IS NOT NULL;

                CREATE TABLE final_plans (
                    plan_id TEXT PRIMARY KEY REFERENCES plans(plan_id),
                    content TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2_task_dependencies") { db in
            try db.execute(sql: """
                ALTER TABLE tasks ADD COLUMN depends_on TEXT;
                ALTER TABLE tasks ADD COLUMN unmet_dependencies INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE tasks ADD COLUMN extra_passes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE plans ADD COLUMN max_attempts INTEGER;
                CREATE TABLE task_dependencies (
                    depends_on TEXT NOT NULL,
                    task_id TEXT NOT NULL,
                    PRIMARY KEY (depends_on, task_id)
                ) WITHOUT ROWID;
                -- Claiming now skips tasks whose dependencies are unmet, without scanning them.
                DROP INDEX tasks_by_state;
                CREATE INDEX tasks_by_state ON tasks(state, unmet_dependencies, due_at, seq);
                """)
        }
        return migrator
    }
}
