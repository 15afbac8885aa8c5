import BoardCore
import Synchronization

/// Makes the ids of new plans, tasks and events: 11 hex digits of milliseconds since the epoch,
/// then 5 of a counter that starts at a random point each millisecond, so ids made later sort
/// later. The tables index their ids; time-ordered ids land at the end of those indexes instead
/// of on a random page each, and pages written to the WAL are most of what an insert costs.
///
/// A Mutex, not an actor: ids are made inside synchronous database transactions, and the
/// critical section is a few instructions.
final class IDSequence: Sendable {
    private struct State {
        var millisecond: UInt64 = 0
        var counter: UInt64 = 0
    }

    private let state = Mutex(State())
    private let counterBits: UInt64

    /// `counterBits` is 20 in the daemon (a million ids per millisecond before the count spills
    /// into the next one); tests make it small to reach the spill.
    init(counterBits: UInt64 = 20) {
        self.counterBits = counterBits
    }

    func next<ID: PrefixedID>(_: ID.Type = ID.self, at now: Timestamp) -> ID {
        let millisecond = UInt64(max(0, now.millisecondsSinceEpoch)) & ((1 << 44) - 1)
        let value = state.withLock { state in
            if millisecond > state.millisecond {
                // A random start keeps apart the ids of a daemon restarted within the same
                // millisecond; the upper half of the range stays free for the count.
                state.millisecond = millisecond
                state.counter = UInt64.random(in: 0..<(1 << (counterBits - 1)))
            } else {
                // Same millisecond, or the wall clock went back: keep counting from the last id.
                state.counter += 1
                if state.counter >> counterBits != 0 {
                    state.millisecond += 1
                    state.counter = 0
                }
            }
            return state.millisecond << counterBits | state.counter
        }
        return ID(hex: value)
    }
}
