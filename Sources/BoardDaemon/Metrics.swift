import BoardCore
import BoardStore
import Synchronization

/// The daemon's counters, gauges' inputs and histograms, rendered in the Prometheus text format
/// by `metrics.get` (`boardctl metrics`). Counters count since boardd started, as Prometheus
/// expects; the audit trail in the database is the durable history.
///
/// A mutex rather than an actor: recording happens on every request and every task outcome, and
/// a few nanoseconds under a lock beat an actor hop on those paths.
final class Metrics: Sendable {
    /// Bucket bounds in seconds, from a fast control call to a long agent task.
    static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600]

    struct Histogram: Sendable {
        var buckets = [UInt64](repeating: 0, count: Metrics.bounds.count)
        var count: UInt64 = 0
        var sum = 0.0

        mutating func observe(_ seconds: Double) {
            count += 1
            sum += seconds
            if let index = Metrics.bounds.firstIndex(where: { seconds <= $0 }) { buckets[index] += 1 }
        }
    }

    private struct State: Sendable {
        var events: [EventKind: UInt64] = [:]
        var taskDurations: [String: Histogram] = [:]
        var planDurations = Histogram()
        var requests: [String: Histogram] = [:]
        var requestErrors: [String: UInt64] = [:]
        var schedulerPolls: UInt64 = 0
    }

    private let state = Mutex(State())

    func record(_ event: EventKind, count: Int = 1) {
        state.withLock { $0.events[event, default: 0] += UInt64(count) }
    }

    /// Counts a task transition and the plan change it caused.
    func record(_ update: TaskUpdate) {
        record(update.transition.event)
        if let event = update.planTransition?.event { record(event) }
    }

    func countSchedulerPoll() {
        state.withLock { $0.schedulerPolls += 1 }
    }

    func observeTask(agent: String, seconds: Double) {
        state.withLock { $0.taskDurations[agent, default: Histogram()].observe(seconds) }
    }

    func observePlan(seconds: Double) {
        state.withLock { $0.planDurations.observe(seconds) }
    }

    func observeRequest(method: String, seconds: Double, failed: Bool) {
        state.withLock {
            $0.requests[method, default: Histogram()].observe(seconds)
            if failed { $0.requestErrors[method, default: 0] += 1 }
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    func render(gauges: [(name: String, help: String, value: Int)]) -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        let counters: [(String, String, [EventKind])] = [
            ("board_plans_created_total", "Plans created.", [.planCreated]),
            ("board_plans_closed_total", "Plans closed with a final plan.", [.planClosed]),
            ("board_plans_cancelled_total", "Plans cancelled.", [.planCancelled]),
            ("board_plans_failed_total", "Plans whose planning or synthesis failed.", [.planFailed]),
            ("board_tasks_created_total", "Tasks created.", [.taskCreated]),
            ("board_tasks_completed_total", "Tasks completed.", [.taskCompleted]),
            ("board_tasks_failed_total", "Tasks failed permanently.", [.taskFailed]),
            ("board_tasks_cancelled_total", "Tasks cancelled.", [.taskCancelled]),
            ("board_tasks_escalated_total", "Tasks escalated for human review.", [.taskEscalated]),
            ("board_task_retries_total", "Attempts that will be retried (failures and extra passes).", [.taskRetry]),
            ("board_tasks_recovered_total", "Tasks recovered after an unclean stop.", [.taskRecovered]),
        ]
        for (name, help, kinds) in counters {
            header(name, "counter", help)
            out += "\(name) \(kinds.reduce(UInt64(0)) { $0 + (snapshot.events[$1] ?? 0) })\n"
        }
        header("board_scheduler_polls_total", "counter", "Rounds of the scheduler: woken by work, or polling for it.")
        out += "board_scheduler_polls_total \(snapshot.schedulerPolls)\n"
        for gauge in gauges {
            header(gauge.name, "gauge", gauge.help)
            out += "\(gauge.name) \(gauge.value)\n"
        }
        func histogram(_ name: String, _ help: String, _ series: [(labels: String, histogram: Histogram)]) {
            header(name, "histogram", help)
            for (labels, histogram) in series {
                var cumulative: UInt64 = 0
                let prefix = labels.isEmpty ? "" : labels + ","
                for (bound, count) in zip(Metrics.bounds, histogram.buckets) {
                    cumulative += count
                    out += "\(name)_bucket{\(prefix)le=\"\(Self.format(bound))\"} \(cumulative)\n"
                }
                out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(histogram.count)\n"
                let braces = labels.isEmpty ? "" : "{\(labels)}"
                out += "\(name)_sum\(braces) \(histogram.sum)\n\(name)_count\(braces) \(histogram.count)\n"
            }
        }
        histogram("board_task_duration_seconds", "Duration of task attempts, by agent.",
                  snapshot.taskDurations.keys.sorted().map { ("agent=\"\(Self.escape($0))\"", snapshot.taskDurations[$0] ?? Histogram()) })
        histogram("board_plan_duration_seconds", "Time from a plan's creation to its closing.", [("", snapshot.planDurations)])
        histogram("board_control_request_duration_seconds", "Control socket requests, by method.",
                  snapshot.requests.keys.sorted().map { ("method=\"\(Self.escape($0))\"", snapshot.requests[$0] ?? Histogram()) })
        header("board_control_request_errors_total", "counter", "Control requests answered with an error, by method.")
        for method in snapshot.requestErrors.keys.sorted() {
            out += "board_control_request_errors_total{method=\"\(Self.escape(method))\"} \(snapshot.requestErrors[method] ?? 0)\n"
        }
        return out
    }

    private static func format(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }

    private static func escape(_ label: String) -> String {
        label.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}
