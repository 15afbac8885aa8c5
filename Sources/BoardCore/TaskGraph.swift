/// The dependencies between a plan's tasks, checked before anything is stored: every task may
/// name earlier-or-later tasks of the same plan it must wait for, by position.
public enum TaskGraph {
    /// Validates `after[i]` (the positions task `i` waits for) for `names.count` tasks and
    /// returns the positions in an order that respects every dependency.
    /// Refuses out-of-range positions, self-dependencies and cycles, naming them.
    public static func order(names: [String], after: [[Int]]) throws(BoardError) -> [Int] {
        let count = names.count
        guard after.count == count else {
            throw BoardError(.invalidArgument, "dependencies given for \(after.count) tasks, but the plan has \(count)")
        }
        var dependents = [[Int]](repeating: [], count: count)
        var unmet = [Int](repeating: 0, count: count)
        for (task, dependencies) in after.enumerated() {
            for dependency in Set(dependencies) {
                // Positions count from 0, as in the `after` lists they come from.
                guard (0..<count).contains(dependency) else {
                    throw BoardError(
                        .invalidArgument,
                        "task \(task) (\(names[task])) depends on task \(dependency), which does not exist (positions count from 0)")
                }
                guard dependency != task else {
                    throw BoardError(.invalidArgument, "task \(task) (\(names[task])) depends on itself")
                }
                dependents[dependency].append(task)
                unmet[task] += 1
            }
        }
        // Kahn's algorithm; what is left over sits on a cycle.
        var ready = (0..<count).filter { unmet[$0] == 0 }
        var order: [Int] = []
        while let next = ready.popLast() {
            order.append(next)
            for dependent in dependents[next] {
                unmet[dependent] -= 1
                if unmet[dependent] == 0 { ready.append(dependent) }
            }
        }
        guard order.count == count else {
            throw BoardError(.invalidArgument, "the task dependencies form a cycle: " + cycle(after: after, among: Set((0..<count).filter { unmet[$0] > 0 }), names: names))
        }
        return order
    }

    /// Follows dependencies inside the leftover set until a task repeats: "CFO (2) → CTO (3) → CFO (2)".
    private static func cycle(after: [[Int]], among remaining: Set<Int>, names: [String]) -> String {
        guard var current = remaining.min() else { return "" }
        var path: [Int] = []
        var seen: [Int: Int] = [:]
        while seen[current] == nil {
            seen[current] = path.count
            path.append(current)
            guard let next = after[current].filter(remaining.contains).min() else { break }
            current = next
        }
        let loop = path[(seen[current] ?? 0)...] + [current]
        return loop.map { "\(names[$0]) (task \($0))" }.joined(separator: " → ")
    }
}
