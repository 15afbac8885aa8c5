import Foundation
import Testing

@testable import BoardAgents

@Suite("BuiltinAnalyst")
struct BuiltinAnalystTests {
    static let concreteGoal = "Launch a SaaS accounting app for SMBs in Europe by Q3 2026 with a $500k budget"
    static let vagueGoal = "Grow"
    static let coreRoles = ["CEO", "COO", "CFO", "CTO", "CMO"]
    static let codenames = ["CEO": "Odyssey", "COO": "Momentum", "CFO": "Abacus", "CTO": "Nexus", "CMO": "Muse"]

    static func analyze(_ role: String, goal: String = concreteGoal, context: String? = nil, task: String? = nil) -> BuiltinAnalysis {
        BuiltinAnalyst.analyze(
            role: role,
            codename: codenames[role] ?? "Sage",
            goal: goal,
            context: context,
            task: task ?? BuiltinAnalyst.defaultTaskDescription(role: role, goal: goal)
        )
    }

    static func board(goal: String = concreteGoal, roles: [String] = coreRoles) -> [(role: String, codename: String, analysis: BuiltinAnalysis)] {
        roles.map { (role: $0, codename: codenames[$0] ?? "Sage", analysis: analyze($0, goal: goal)) }
    }

    static func mentions(_ items: [String], _ word: String) -> Bool {
        items.contains { $0.localizedCaseInsensitiveContains(word) }
    }

    // MARK: Analysis

    /// Budgets as people write them, and numbers that are not budgets.
    @Test(arguments: [
        ("Open an office with a budget of €400k", "€400k"), ("Spend USD 50,000 on ads", "USD 50,000"),
        ("Launch with 1.2 million EUR", "1.2 million EUR"), ("Budget: 250k", "250k"), ("costs 40€ a seat", "€40"),
        ("budget: 50 000 € for the pilot", "€50 000"), ("budget 10k€", "€10k"), ("a budget of 12 000 over 3 months", "12 000"),
        ("raise $1,200,000", "$1,200,000"), ("a $2000 budget", "$2000"), ("hire 3 $150k engineers", "$150k"),
        ("sell 500 $20 tickets", "$20"),
    ])
    func readsBudgets(_ goal: String, _ budget: String) {
        #expect(AnalystSignals(goal: goal, context: nil).budget == budget)
    }

    @Test(arguments: ["a budget of 10 people", "budget of 3 weeks", "launch in 2026 with budget 2026", "serve 100 000 users", "hire 200 people in 2027"])
    func numbersThatAreNotBudgets(_ goal: String) {
        #expect(AnalystSignals(goal: goal, context: nil).budget == nil)
    }

    @Test("Same inputs give the same analysis and synthesis")
    func deterministic() {
        for role in Self.coreRoles + ["Head of Legal"] {
            #expect(Self.analyze(role) == Self.analyze(role))
            #expect(Self.analyze(role, context: "Bootstrapped, two founders") == Self.analyze(role, context: "Bootstrapped, two founders"))
        }
        let first = BuiltinAnalyst.synthesize(goal: Self.concreteGoal, context: nil, contributions: Self.board())
        let second = BuiltinAnalyst.synthesize(goal: Self.concreteGoal, context: nil, contributions: Self.board())
        #expect(first == second)
    }

    @Test("Summary is labelled offline and quotes the goal")
    func summaryQuotesGoal() {
        let analysis = Self.analyze("CFO")
        #expect(analysis.summary.contains("Offline analysis (builtin rules, no LLM)"))
        #expect(analysis.summary.contains("\"\(Self.concreteGoal)\""))
        #expect(analysis.summary.contains("Abacus"))
    }

    @Test("A long goal is quoted trimmed, on one line and truncated with an ellipsis")
    func longGoalQuoteIsTruncated() {
        let head = "Become the leading marketplace for handmade furniture"
        let goal = "  \n\t" + head + String(repeating: " and also many more things", count: 20) + " FINAL-TAIL  \n"
        let summary = Self.analyze("CMO", goal: goal).summary
        #expect(summary.contains("\"\(head)"))
        #expect(summary.contains("…"))
        #expect(!summary.contains("FINAL-TAIL"))
        #expect(!summary.contains("\n"))
    }

    @Test("Every role returns 3–5 findings, 2–4 risks and 3–5 recommendations", arguments: coreRoles + ["Head of Legal", ""])
    func listSizes(role: String) {
        for goal in [Self.concreteGoal, Self.vagueGoal, "", "Open a bakery", "Hire 20 engineers and pass SOC 2 by Q4 2025"] {
            let analysis = Self.analyze(role, goal: goal)
            #expect((3...5).contains(analysis.findings.count), "findings for \(role) / \(goal)")
            #expect((2...4).contains(analysis.risks.count), "risks for \(role) / \(goal)")
            #expect((3...5).contains(analysis.recommendations.count), "recommendations for \(role) / \(goal)")
            #expect(!analysis.summary.isEmpty)
        }
    }

    @Test("Different roles produce different content")
    func rolesDiffer() {
        let analyses = Self.coreRoles.map { Self.analyze($0) }
        for i in analyses.indices {
            for j in analyses.indices where j > i {
                #expect(analyses[i].findings != analyses[j].findings)
                #expect(analyses[i].recommendations != analyses[j].recommendations)
                #expect(analyses[i].summary != analyses[j].summary)
            }
        }
    }

    @Test("Each role speaks to its own function")
    func roleVocabulary() {
        let goal = "Open a second coffee shop in Lisbon"
        #expect(Self.mentions(Self.analyze("COO", goal: goal).recommendations, "milestone"))
        #expect(Self.mentions(Self.analyze("CFO", goal: goal).findings, "budget"))
        #expect(Self.mentions(Self.analyze("CFO", goal: goal).recommendations, "cash plan"))
        #expect(Self.mentions(Self.analyze("CTO", goal: goal).recommendations, "build-vs-buy"))
        #expect(Self.mentions(Self.analyze("CMO", goal: goal).recommendations, "positioning"))
        #expect(Self.mentions(Self.analyze("CEO", goal: goal).recommendations, "success criteria"))
        let generic = Self.analyze("Head of Legal", goal: goal)
        #expect(Self.mentions(generic.findings, "Head of Legal"))
        #expect(generic.summary.contains("Head of Legal"))
    }

    @Test("Role names are matched case-insensitively")
    func roleCaseInsensitive() {
        #expect(Self.analyze(" cfo ").findings == Self.analyze("CFO").findings)
        #expect(BuiltinAnalyst.defaultTaskDescription(role: "cto", goal: "x") == BuiltinAnalyst.defaultTaskDescription(role: "CTO", goal: "x"))
    }

    // MARK: Signals

    @Test("Pricing in the goal shows up in the CFO's recommendations")
    func pricingReachesCFO() {
        let cfo = Self.analyze("CFO", goal: "Rework the PRICING of our consulting services")
        #expect(Self.mentions(cfo.recommendations, "pricing"))
        let plain = Self.analyze("CFO", goal: "Open a second coffee shop in Lisbon")
        #expect(!Self.mentions(plain.recommendations, "pricing"))
    }

    @Test("A SaaS goal gets pricing tiers from the CFO and tenancy advice from the CTO")
    func saasSignals() {
        let goal = "Grow our subscription software to 1,000 paying customers"
        #expect(Self.mentions(Self.analyze("CFO", goal: goal).recommendations, "pricing tiers"))
        #expect(Self.mentions(Self.analyze("CTO", goal: goal).findings, "multi-tenant"))
    }

    @Test("Sensitive data makes the CTO raise compliance")
    func sensitiveDataReachesCTO() {
        for goal in ["Build a payroll tool for restaurants", "Ship an accounting platform", "Add privacy controls to our app"] {
            let cto = Self.analyze("CTO", goal: goal)
            #expect(Self.mentions(cto.recommendations, "compliance"), "\(goal)")
        }
        let plain = Self.analyze("CTO", goal: "Open a second coffee shop in Lisbon")
        #expect(!Self.mentions(plain.recommendations + plain.findings, "compliance"))
    }

    @Test("Keyword signals are extracted from goal and context")
    func signalExtraction() {
        let signals = AnalystSignals(goal: Self.concreteGoal, context: nil)
        #expect(signals.timeline == "Q3 2026")
        #expect(signals.budget == "$500k")
        #expect(signals.segment == "SMBs")
        #expect(signals.region == "Europe")
        #expect(signals.financial && signals.technology && signals.goToMarket && signals.subscription)
        #expect(signals.frameworks.contains("GDPR"))
        #expect(signals.techTerms.contains("SaaS"))

        #expect(AnalystSignals(goal: "Ship the MVP in 6 months", context: nil).timeline == "6 months")
        #expect(AnalystSignals(goal: "A 90-day turnaround plan", context: nil).timeline == "90 days")
        #expect(AnalystSignals(goal: "Raise €1.5 million for expansion", context: nil).budget == "€1.5 million")
        #expect(AnalystSignals(goal: "Spend a budget of 80,000 on ads", context: nil).budget == "80,000")
        #expect(AnalystSignals(goal: "Pass SOC 2 and HIPAA audits", context: nil).frameworks == ["SOC 2", "HIPAA"])
        #expect(AnalystSignals(goal: "Hire a team", context: nil).staffing)

        let fromContext = AnalystSignals(goal: "Improve the product", context: "We sell to small businesses in Germany before March 2027")
        #expect(fromContext.segment == "small businesses")
        #expect(fromContext.region == "Germany")
        #expect(fromContext.timeline == "March 2027")
        #expect(fromContext.hasContext)
        #expect(fromContext.goalWordCount == 3)
    }

    // MARK: Confidence

    @Test("Confidence stays in range and is lower for a vague goal", arguments: coreRoles + ["Head of Legal"])
    func confidence(role: String) {
        let concrete = Self.analyze(role).confidence
        let vague = Self.analyze(role, goal: Self.vagueGoal).confidence
        let empty = Self.analyze(role, goal: "").confidence
        for value in [concrete, vague, empty] {
            #expect((0.35...0.9).contains(value))
        }
        #expect(vague < concrete)
        #expect(empty < concrete)
    }

    @Test("Confidence is not one constant")
    func confidenceVaries() {
        let values = Set(Self.coreRoles.map { Self.analyze($0).confidence } + Self.coreRoles.map { Self.analyze($0, goal: "Fix things").confidence })
        #expect(values.count > 2)
    }

    // MARK: Tasks

    @Test("Default tasks are role-specific and mention the goal")
    func defaultTasks() {
        let tasks = Self.coreRoles.map { BuiltinAnalyst.defaultTaskDescription(role: $0, goal: Self.concreteGoal) }
        #expect(Set(tasks).count == tasks.count)
        for task in tasks {
            #expect(task.contains(Self.concreteGoal))
        }
        #expect(BuiltinAnalyst.defaultTaskDescription(role: "CFO", goal: Self.concreteGoal).contains("pricing"))
        #expect(BuiltinAnalyst.defaultTaskDescription(role: "Head of Legal", goal: "x").contains("Head of Legal"))
    }

    @Test("A custom task is quoted in the summary; the default one is not repeated")
    func customTask() {
        let custom = Self.analyze("CFO", task: "Estimate the cost of a Berlin office").summary
        #expect(custom.contains("Estimate the cost of a Berlin office"))
        let standard = Self.analyze("CFO").summary
        #expect(!standard.contains("Assigned task"))
    }

    // MARK: Synthesis

    @Test("Synthesis names the goal and contributors, with phased strategy")
    func synthesisSummary() {
        let synthesis = BuiltinAnalyst.synthesize(goal: Self.concreteGoal, context: nil, contributions: Self.board())
        #expect(synthesis.executiveSummary.contains("Offline synthesis (builtin rules, no LLM)"))
        #expect(synthesis.executiveSummary.contains(Self.concreteGoal))
        for codename in ["Odyssey", "Momentum", "Abacus", "Nexus", "Muse"] {
            #expect(synthesis.executiveSummary.contains(codename))
        }
        #expect(synthesis.strategy.count >= 3)
        #expect(synthesis.strategy.first?.hasPrefix("Weeks 0–2") == true)
        #expect(synthesis.strategy.contains { $0.contains("Nexus (CTO):") })
        #expect(synthesis.recommendations.contains { $0.hasPrefix("[CFO] ") })
        #expect((1...8).contains(synthesis.risks.count))
        #expect(Set(["CEO", "COO", "CFO", "CTO", "CMO"].filter { role in synthesis.risks.contains { $0.hasPrefix("[\(role)]") } }).count == 5)
    }

    @Test("Synthesis de-duplicates risks across roles and keeps order")
    func synthesisDedupesRisks() {
        let shared = "Key supplier could go bankrupt."
        let cfo = BuiltinAnalysis(summary: "s", findings: [], risks: [shared, "Cash runs out."], recommendations: ["Save money."], confidence: 0.8)
        let coo = BuiltinAnalysis(summary: "s", findings: [], risks: ["  key SUPPLIER could go bankrupt. ", "Staff shortage."], recommendations: ["Save money."], confidence: 0.6)
        let synthesis = BuiltinAnalyst.synthesize(goal: "Goal", context: nil, contributions: [
            (role: "CFO", codename: "Abacus", analysis: cfo),
            (role: "COO", codename: "Momentum", analysis: coo),
        ])
        #expect(synthesis.risks == ["[CFO] \(shared)", "[CFO] Cash runs out.", "[COO] Staff shortage."])
        #expect(synthesis.recommendations == ["[CFO] Save money."])
    }

    @Test("Synthesis caps the risk list")
    func synthesisCapsRisks() {
        let many = (0..<20).map { index in
            (role: "R\(index)", codename: "C\(index)", analysis: BuiltinAnalysis(summary: "", findings: [], risks: ["Risk \(index)"], recommendations: [], confidence: 0.5))
        }
        let synthesis = BuiltinAnalyst.synthesize(goal: "Goal", context: nil, contributions: many)
        #expect(synthesis.risks.count == 8)
        #expect(synthesis.executiveSummary.contains("and 10 more"))
    }

    @Test("Synthesis confidence is the mean, reduced when core roles are missing")
    func synthesisConfidence() {
        func analysis(_ confidence: Double) -> BuiltinAnalysis {
            BuiltinAnalysis(summary: "", findings: [], risks: [], recommendations: [], confidence: confidence)
        }
        let full = BuiltinAnalyst.synthesize(goal: "g", context: nil, contributions: [
            (role: "COO", codename: "a", analysis: analysis(0.6)), (role: "CFO", codename: "b", analysis: analysis(0.8)),
            (role: "CTO", codename: "c", analysis: analysis(0.7)), (role: "CMO", codename: "d", analysis: analysis(0.7)),
        ])
        #expect(abs(full.confidence - 0.7) < 0.0001)
        let partial = BuiltinAnalyst.synthesize(goal: "g", context: nil, contributions: [
            (role: "COO", codename: "a", analysis: analysis(0.6)), (role: "CFO", codename: "b", analysis: analysis(0.8)),
        ])
        #expect(partial.confidence < 0.7)
        #expect(partial.executiveSummary.contains("CTO") && partial.executiveSummary.contains("CMO"))
        let odd = BuiltinAnalyst.synthesize(goal: "g", context: nil, contributions: [
            (role: "CFO", codename: "b", analysis: analysis(.nan)), (role: "CTO", codename: "c", analysis: analysis(7)),
        ])
        #expect((0...1).contains(odd.confidence))
    }

    @Test("Synthesis of nothing says so and has zero confidence")
    func synthesisEmpty() {
        let synthesis = BuiltinAnalyst.synthesize(goal: Self.concreteGoal, context: nil, contributions: [])
        #expect(synthesis.confidence == 0)
        #expect(synthesis.executiveSummary.contains("no specialist analyses were available"))
        #expect(synthesis.executiveSummary.contains(Self.concreteGoal))
    }

    // MARK: Robustness

    @Test("A 1 MB goal completes and keeps summaries short", .timeLimit(.minutes(1)))
    func hugeInput() {
        let unit = "Launch a SaaS platform for SMBs with pricing tiers by Q2 2027.\n"
        let goal = String(repeating: unit, count: 1_048_576 / unit.utf8.count + 1)
        #expect(goal.utf8.count >= 1_048_576)
        var contributions: [(role: String, codename: String, analysis: BuiltinAnalysis)] = []
        for role in Self.coreRoles {
            let analysis = BuiltinAnalyst.analyze(role: role, codename: "X", goal: goal, context: goal, task: goal)
            #expect(analysis.summary.utf8.count < 2048)
            #expect(analysis.summary.contains("…"))
            contributions.append((role: role, codename: "X", analysis: analysis))
        }
        let task = BuiltinAnalyst.defaultTaskDescription(role: "CFO", goal: goal)
        #expect(task.utf8.count < 2048)
        let synthesis = BuiltinAnalyst.synthesize(goal: goal, context: goal, contributions: contributions)
        #expect(synthesis.executiveSummary.utf8.count < 2048)
    }

    @Test("Metacharacters, newlines and unicode are just text")
    func hostileText() {
        let goal = "'; DROP TABLE plans; -- $(rm -rf /) `id` && echo \"hi\"\n\tünïcödé 🚀 日本市場 \u{0}\u{7}"
        for role in Self.coreRoles + ["<script>"] {
            let analysis = Self.analyze(role, goal: goal, context: "|| true; <b>\u{202E}")
            #expect(analysis.summary.contains("DROP TABLE plans"))
            #expect(analysis.summary.contains("🚀"))
            #expect(!analysis.summary.contains("\n"))
            #expect(!analysis.summary.contains("\u{0}"))
        }
        let whitespaceOnly = Self.analyze("CEO", goal: " \n\t ")
        #expect(whitespaceOnly.summary.contains("(no goal stated)"))
    }

    @Test("Results round-trip through JSON")
    func codable() throws {
        let analysis = Self.analyze("CTO")
        #expect(try JSONDecoder().decode(BuiltinAnalysis.self, from: JSONEncoder().encode(analysis)) == analysis)
        let synthesis = BuiltinAnalyst.synthesize(goal: Self.concreteGoal, context: nil, contributions: Self.board())
        #expect(try JSONDecoder().decode(BuiltinSynthesis.self, from: JSONEncoder().encode(synthesis)) == synthesis)
    }
}
