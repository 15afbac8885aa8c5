import BoardCore
import Foundation

extension Timestamp {
    /// The wall clock, as stored in the database.
    static func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
