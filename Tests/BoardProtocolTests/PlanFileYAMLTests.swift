import BoardCore
import Testing
@testable import BoardProtocol

@Suite("Plan files in YAML")
struct PlanFileYAMLTests {
    @Test func aPlanFileBecomesPlanCreateParams() throws {
        let text = """
            # Lisbon office
            goal: "open a second office in Lisbon"
            budget: €400k   # all in
            context: |
              Team of 6.
              Remote-first until Q3.
            tasks:
              - agent: CTO
                description: IT setup for the office
              - agent: CFO
                description: 'budget the office: rent, people, IT'
                after: [0]
              -
                agent: CHRO
                after:
                  - 1
            max_attempts: 3
            """
        let params = try PlanCreateParams(params: try PlanFileYAML.parse(text))
        #expect(params.goal == "open a second office in Lisbon")
        #expect(params.budget == "€400k")
        #expect(params.context == "Team of 6.\nRemote-first until Q3.\n")
        #expect(params.maxAttempts == 3)
        #expect(params.tasks == [
            TaskSpec(agent: "CTO", description: "IT setup for the office"),
            TaskSpec(agent: "CFO", description: "budget the office: rent, people, IT", after: [0]),
            TaskSpec(agent: "CHRO", after: [1]),
        ])
    }

    @Test func scalarsFollowYAML() throws {
        let value = try PlanFileYAML.parse("a: 12\nb: true\nc: ~\nd: \"x\\ny\"\ne: it's fine\nf: []\ng: 'it''s'\n")
        #expect(value == ["a": 12, "b": true, "c": nil, "d": "x\ny", "e": "it's fine", "f": [], "g": "it's"])
    }

    @Test func windowsLineEndingsAreLineEndings() throws {
        let value = try PlanFileYAML.parse("# c\r\ngoal: open an office\r\ncontext: team of 6\r\nagents:\r\n  - CTO\r\n")
        #expect(value == ["goal": "open an office", "context": "team of 6", "agents": ["CTO"]])
    }

    @Test func deepNestingIsRefusedNotAStackOverflow() {
        let deep = String(repeating: "- ", count: 4100) + "x"
        #expect(throws: PlanFileYAML.ParseError.self) { _ = try PlanFileYAML.parse(deep) }
        do {
            _ = try PlanFileYAML.parse(deep)
        } catch {
            #expect(error.message.contains("nested more than 64 levels"))
        }
    }

    @Test(arguments: [
        ("goal: &anchor x", 1, "not supported"),
        ("goal: x\n\tcontext: y", 2, "tabs"),
        ("goal: x\ngoal: y", 2, "duplicate key goal"),
        ("goal: x\n    extra: 1", 2, "unexpected indentation"),
        ("just text", 1, "expected \"key: value\""),
        ("goal: \"open", 1, "unterminated"),
    ])
    func unsupportedOrBrokenYAMLIsRefusedWithItsLine(_ text: String, _ line: Int, _ mentions: String) {
        do {
            _ = try PlanFileYAML.parse(text)
            Issue.record("parsed \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.message.contains(mentions), "\(error)")
        }
    }
}
