import BoardCore
import BoardTestSupport
import Foundation
import Testing

/// The JSON-RPC line protocol, spoken byte by byte over the raw Unix socket.
@Suite("control protocol over the raw socket", .timeLimit(.minutes(2)))
struct ProtocolTests {
    /// Checks that `reply` is a JSON-RPC error with `code` (and `reason` when given) for request `id`.
    static func expectError(
        _ reply: JSONValue?, code: Int64, reason: String? = nil, id: JSONValue = .null,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let reply else {
            Issue.record("expected an error reply, got end of stream", sourceLocation: sourceLocation)
            return
        }
        #expect(reply["jsonrpc"] == "2.0", "\(reply.serialized)", sourceLocation: sourceLocation)
        #expect(reply["id"] == id, "\(reply.serialized)", sourceLocation: sourceLocation)
        #expect(reply["result"] == nil, "\(reply.serialized)", sourceLocation: sourceLocation)
        #expect(reply["error"]?["code"]?.intValue == code, "\(reply.serialized)", sourceLocation: sourceLocation)
        #expect(reply["error"]?["message"]?.stringValue?.isEmpty == false, "\(reply.serialized)", sourceLocation: sourceLocation)
        if let reason {
            #expect(reply["error"]?["data"]?["reason"]?.stringValue == reason, "\(reply.serialized)", sourceLocation: sourceLocation)
        }
    }

    static func expectPong(_ reply: JSONValue?, id: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply?["id"] == id, "\(reply?.serialized ?? "end of stream")", sourceLocation: sourceLocation)
        #expect(reply?["result"]?["pong"] == .bool(true), "\(reply?.serialized ?? "end of stream")", sourceLocation: sourceLocation)
    }

    static func ping(_ connection: RawConnection, id: Int64) throws -> JSONValue {
        try connection.request(try requestLine(id: .int(id), method: "ping"))
    }

    @Test func garbageLineGetsParseErrorAndTheConnectionStaysUsable() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let connection = try RawConnection(path: daemon.socketPath)
            Self.expectError(try connection.request("this is not json {{{\n"), code: -32700, reason: "parse_error")
            Self.expectPong(try Self.ping(connection, id: 2), id: 2)
            // A CRLF line ending is accepted too.
            Self.expectPong(try connection.request("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\r\n"), id: 3)
            // A string id is echoed as a string.
            Self.expectPong(try connection.request(try requestLine(id: "abc", method: "ping")), id: "abc")
        }
    }

    @Test func requestShapeErrors() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let connection = try RawConnection(path: daemon.socketPath)
            Self.expectError(
                try connection.request(try requestLine(id: 1, method: "no.such.method")), code: -32601, reason: "method_not_found", id: 1)
            Self.expectError(try connection.request("[1,2,3]\n"), code: -32600, reason: "invalid_request")
            Self.expectError(try connection.request("{\"jsonrpc\":\"1.0\",\"id\":4,\"method\":\"ping\"}\n"), code: -32600, id: 4)
            Self.expectError(try connection.request("{\"jsonrpc\":\"2.0\",\"id\":5}\n"), code: -32600, id: 5)
            Self.expectPong(try Self.ping(connection, id: 6), id: 6)
        }
    }

    @Test func invalidParams() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let connection = try RawConnection(path: daemon.socketPath)
            let cases: [(String, JSONValue?, String?)] = [
                ("plan.get", nil, "plan_id"),
                ("plan.get", [:], "plan_id"),
                ("plan.get", ["plan_id": 42], "plan_id"),
                ("plan.get", ["plan_id": "not-a-plan-id"], "plan_id"),
                ("task.get", ["task_id": "plan_0000000000000001"], "task_id"),
                ("plan.create", ["goal": ""], "goal"),
                ("plan.create", ["goal": "   "], "goal"),
                ("plan.create", ["goal": 7], "goal"),
                ("plan.create", ["goal": "g", "agents": []], "agents"),
                ("plan.create", ["goal": "g", "max_attempts": 0], "max_attempts"),
                ("plan.list", ["limit": 0], "limit"),
                ("plan.list", ["status": "sleeping"], "status"),
                ("plan.get", [1, 2], nil),
                // Unknown members are refused, naming the typo.
                ("plan.create", ["goal": "g", "agnets": ["CFO"]], "agnets"),
                ("ping", ["extra": true], "extra"),
                ("events.list", ["plan_id": "plan_0000000000000001", "verbose": true], "verbose"),
            ]
            for (index, (method, params, mention)) in cases.enumerated() {
                let id = JSONValue.int(Int64(100 + index))
                let reply = try connection.request(try requestLine(id: id, method: method, params: params))
                Self.expectError(reply, code: -32602, reason: "invalid_params", id: id)
                if let mention {
                    #expect(reply["error"]?["message"]?.stringValue?.contains(mention) == true,
                            "\(method) \(params?.serialized ?? "-"): \(reply.serialized)")
                }
            }
            // Nothing was created by any of them.
            #expect(try daemon.call("plan.list")["plans"] == [])
        }
    }

    @Test func notFoundAndInvalidState() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let connection = try RawConnection(path: daemon.socketPath)
            let missingPlan: JSONValue = ["plan_id": "plan_00000000000000ff"]
            Self.expectError(try connection.request(try requestLine(id: 1, method: "plan.get", params: missingPlan)),
                             code: -32001, reason: "not_found", id: 1)
            Self.expectError(try connection.request(try requestLine(id: 2, method: "events.list", params: missingPlan)),
                             code: -32001, reason: "not_found", id: 2)
            Self.expectError(try connection.request(try requestLine(id: 3, method: "task.get", params: ["task_id": "task_00000000000000ff"])),
                             code: -32001, reason: "not_found", id: 3)
            Self.expectError(try connection.request(try requestLine(id: 4, method: "plan.cancel", params: missingPlan)),
                             code: -32001, reason: "not_found", id: 4)

            let created = try daemon.call("plan.create", ["goal": "a plan to close"])
            let planID = try #require(created["plan_id"]?.stringValue)
            let taskID = try #require(created["tasks"]?.arrayValue?.first?["task_id"]?.stringValue)
            _ = try await daemon.waitForPlanStatus(planID, "closed")

            let plan: JSONValue = ["plan_id": .string(planID)]
            Self.expectError(try connection.request(try requestLine(id: 5, method: "plan.cancel", params: plan)),
                             code: -32002, reason: "invalid_state", id: 5)
            Self.expectError(try connection.request(try requestLine(id: 6, method: "task.retry", params: ["task_id": .string(taskID)])),
                             code: -32002, reason: "invalid_state", id: 6)
            Self.expectError(try connection.request(try requestLine(id: 7, method: "task.cancel", params: ["task_id": .string(taskID)])),
                             code: -32002, reason: "invalid_state", id: 7)
            Self.expectError(try connection.request(try requestLine(id: 8, method: "plan.retry_synthesis", params: plan)),
                             code: -32002, reason: "invalid_state", id: 8)
            // An events cursor must be an event of that plan, and an event id.
            Self.expectError(try connection.request(try requestLine(id: 9, method: "events.list", params: [
                "plan_id": .string(planID), "before": "evt_00000000000000ff"])), code: -32001, reason: "not_found", id: 9)
            Self.expectError(try connection.request(try requestLine(id: 10, method: "events.list", params: [
                "plan_id": .string(planID), "before": .string(taskID)])), code: -32602, reason: "invalid_params", id: 10)
            // The refusals changed nothing.
            #expect(try daemon.plan(planID)["status"] == "closed")
            #expect(try daemon.task(taskID)["state"] == "completed")
        }
    }

    @Test func notificationsGetNoReply() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let connection = try RawConnection(path: daemon.socketPath)
            // Neither a valid notification nor a failing one is answered.
            try connection.send(try requestLine(id: nil, method: "ping"))
            try connection.send(try requestLine(id: nil, method: "no.such.method"))
            try connection.send(try requestLine(id: nil, method: "plan.get", params: ["plan_id": "plan_00000000000000ff"]))
            try connection.send(try requestLine(id: 7, method: "ping"))
            Self.expectPong(try connection.readReply(), id: 7)
        }
    }

    @Test func oversizedLineIsRefusedAndTheConnectionClosed() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(extra: ["control": ["max_line_bytes": 1024]]))
            let connection = try RawConnection(path: daemon.socketPath)
            // A line just under the limit is fine.
            let padded = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}" + String(repeating: " ", count: 900) + "\n"
            Self.expectPong(try connection.request(padded), id: 1)

            try connection.send([UInt8](repeating: UInt8(ascii: "a"), count: 5000))
            let reply = try connection.readReply()
            Self.expectError(reply, code: -32003, reason: "too_large")
            #expect(try connection.waitForClose(), "the daemon should close the connection after a too-long line")

            Self.expectPong(try Self.ping(RawConnection(path: daemon.socketPath), id: 2), id: 2)
        }
    }

    @Test func thousandGarbageLinesOnOneConnection() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let connection = try RawConnection(path: daemon.socketPath)
            var replies = 0
            // In batches, so neither side's socket buffer can fill while the other is not reading.
            for batch in 0..<10 {
                try connection.send((0..<100).map { "garbage \(batch)-\($0) ]]}\n" }.joined())
                for _ in 0..<100 {
                    let reply = try connection.readReply()
                    #expect(reply?["error"]?["code"]?.intValue == -32700, "\(reply?.serialized ?? "end of stream")")
                    #expect(reply?["id"] == .null)
                    replies += 1
                }
            }
            #expect(replies == 1000)
            Self.expectPong(try Self.ping(connection, id: 1001), id: 1001)
            Self.expectPong(try Self.ping(RawConnection(path: daemon.socketPath), id: 1), id: 1)
            #expect(daemon.isRunning)
        }
    }

    /// Open connections, idle or halfway through a line, must not hold up a stop: without a
    /// cancellation timeout the daemon would wait for them forever.
    @Test func stopClosesOpenConnections() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let idle = try RawConnection(path: daemon.socketPath)
            Self.expectPong(try Self.ping(idle, id: 1), id: 1)
            let partial = try RawConnection(path: daemon.socketPath)
            try partial.send("{\"jsonrpc\":\"2.0\",\"id\":2,\"meth")
            let silent = try RawConnection(path: daemon.socketPath)
            let exit = try await daemon.stop()
            #expect(exit == .exited(0), "\(exit): \(daemon.log)")
            for connection in [idle, partial, silent] {
                #expect(try connection.waitForClose(), "the daemon should have closed every connection")
            }
        }
    }

    @Test func halfALineThenDisconnect() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            for _ in 0..<5 {
                let connection = try RawConnection(path: daemon.socketPath)
                try connection.send("{\"jsonrpc\":\"2.0\",\"id\":1,\"meth")
                connection.close()
            }
            // A connection that just opens and closes.
            try RawConnection(path: daemon.socketPath).close()
            Self.expectPong(try Self.ping(RawConnection(path: daemon.socketPath), id: 9), id: 9)
            let status = try daemon.call("daemon.status")
            #expect(status["pid"]?.intValue == Int64(daemon.pid))
            #expect(daemon.isRunning)
        }
    }

    /// A `plan.create` starts its claimed tasks after its reply is written. A client that left
    /// before the reply (the write fails) must not strand them: with one slot, a stranded claim
    /// would hold the slot and every later task until the lease ran out.
    @Test func aPlanFromAClientThatLeftBeforeItsReplyStillRuns() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(scheduler: ["concurrency": 1]))
            let connection = try RawConnection(path: daemon.socketPath)
            try connection.send(try requestLine(
                id: 1, method: "plan.create", params: ["goal": "enter the German market", "agents": ["CFO", "CTO"]]))
            connection.close()
            let planID = try await eventually("the plan of the client that left") {
                try daemon.call("plan.list")["plans"]?.arrayValue?.first?["plan_id"]?.stringValue
            }
            _ = try await daemon.waitForPlanStatus(planID, "closed")

            let next = try daemon.call("plan.create", ["goal": "enter the French market", "agents": ["CFO"]])
            _ = try await daemon.waitForPlanStatus(try #require(next["plan_id"]?.stringValue), "closed")
            #expect(daemon.isRunning)
        }
    }

    /// A client that sends requests without reading the replies makes the daemon's writes wait
    /// once the socket is full; a `plan.create`'s claimed tasks must start all the same (its
    /// follow-up runs alongside the reply's write), or its slot would stay reserved.
    @Test func aClientThatDoesNotReadDoesNotHoldUpItsPlans() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig(scheduler: ["concurrency": 1]))
            let connection = try RawConnection(path: daemon.socketPath)
            // Each reply carries its 600 KB context back: the second one cannot be written until
            // the client reads.
            let context = String(repeating: "x", count: 600_000)
            for (id, goal) in [(1, "first"), (2, "second")] {
                try connection.send(try requestLine(
                    id: .int(Int64(id)), method: "plan.create", params: ["goal": .string(goal), "context": .string(context), "agents": ["CFO"]]))
            }
            let plans = try await eventually("both plans") {
                let plans = try daemon.call("plan.list")["plans"]?.arrayValue ?? []
                return plans.count == 2 ? plans.compactMap { $0["plan_id"]?.stringValue } : nil
            }
            for planID in plans { _ = try await daemon.waitForPlanStatus(planID, "closed") }
            connection.close()
            #expect(daemon.isRunning)
        }
    }

    @Test func idempotencyKey() async throws {
        try await withSandbox { sandbox in
            let daemon = try await sandbox.startDaemon(config: testConfig())
            let params: JSONValue = ["goal": "enter the German market", "idempotency_key": "e2e-key-1", "agents": ["CFO"]]
            let first = try daemon.call("plan.create", params)
            let second = try daemon.call("plan.create", params)
            let planID = try #require(first["plan_id"]?.stringValue)
            #expect(first["created"] == .bool(true))
            #expect(second["plan_id"]?.stringValue == planID)
            #expect(second["created"] == .bool(false))
            #expect(second.taskIDsByAgent == first.taskIDsByAgent)

            let connection = try RawConnection(path: daemon.socketPath)
            let conflict = try connection.request(try requestLine(
                id: 3, method: "plan.create", params: ["goal": "enter the French market", "idempotency_key": "e2e-key-1"]))
            Self.expectError(conflict, code: -32004, reason: "conflict", id: 3)

            // One plan in total.
            let plans = try daemon.call("plan.list")["plans"]?.arrayValue ?? []
            #expect(plans.compactMap { $0["plan_id"]?.stringValue } == [planID])
        }
    }
}
