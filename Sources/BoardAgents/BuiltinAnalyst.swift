import Foundation

/// Deterministic, offline analysis of a goal from one executive's point of view.
public struct BuiltinAnalysis: Sendable, Equatable, Codable {
    /// One short paragraph, always labelled as offline output.
    public var summary: String
    /// Observations about the goal, specific to the executive's function.
    public var findings: [String]
    /// What could go wrong, from the executive's point of view.
    public var risks: [String]
    /// Concrete next steps for the executive's function.
    public var recommendations: [String]
    /// Self-assessed confidence in the analysis, 0...1.
    public var confidence: Double

    public init(summary: String, findings: [String], risks: [String], recommendations: [String], confidence: Double) {
        self.summary = summary
        self.findings = findings
        self.risks = risks
        self.recommendations = recommendations
        self.confidence = confidence
    }
}

/// The CEO's combined plan, built from the specialists' analyses.
public struct BuiltinSynthesis: Sendable, Equatable, Codable {
    /// Names the goal and the contributing executives; labelled as offline output.
    public var executiveSummary: String
    /// Ordered phases of the plan.
    public var strategy: [String]
    /// Cross-functional risks, each prefixed with the reporting role (e.g. "[CFO] …").
    public var risks: [String]
    /// The top recommendations of each role, prefixed with the role.
    public var recommendations: [String]
    /// Overall confidence, 0...1.
    public var confidence: Double

    public init(executiveSummary: String, strategy: [String], risks: [String], recommendations: [String], confidence: Double) {
        self.executiveSummary = executiveSummary
        self.strategy = strategy
        self.risks = risks
        self.recommendations = recommendations
        self.confidence = confidence
    }
}

/// The offline agent backend: keyword rules and per-role playbooks instead of a language model, so the board
/// produces a useful, reproducible plan on machines without any model configured (demos, tests, CI).
public enum BuiltinAnalyst {
    static let analysisLabel = "Offline analysis (builtin rules, no LLM)"
    static let synthesisLabel = "Offline synthesis (builtin rules, no LLM)"

    /// Analyses `goal` (plus optional `context`) from the point of view of one executive.
    ///
    /// - Parameters:
    ///   - role: "CEO", "COO", "CFO", "CTO", "CMO" (case-insensitive), or any other string; unknown roles get a
    ///     generic but still goal-specific analysis.
    ///   - codename: The executive's codename (e.g. "Abacus"), used in the summary.
    ///   - goal: The business goal, free text of any size.
    ///   - context: Optional extra background; its keywords count as signals too.
    ///   - task: The task the CEO assigned; quoted in the summary when it differs from the default task.
    /// - Returns: The same analysis for the same inputs, every time.
    public static func analyze(role: String, codename: String, goal: String, context: String?, task: String) -> BuiltinAnalysis {
        let role = AnalystRole(role)
        let signals = AnalystSignals(goal: goal, context: context)
        let playbook = AnalystPlaybook(role: role, signals: signals, goal: goal)
        let confidence = analysisConfidence(role: role, signals: signals)

        let name = AnalystText.clip(codename, max: 40)
        var summary = "\(analysisLabel): \(name.isEmpty ? role.display : "\(name) (\(role.display))")"
        summary += " on \"\(AnalystText.quote(goal))\". Lens: \(role.lens). Signals: \(signals.themeSummary)."
        if signals.hasContext {
            summary += " The supplied context was taken into account."
        }
        // The default task only restates the goal, so quoting it would add noise; a custom task is worth showing.
        let taskQuote = AnalystText.clip(task, max: 100)
        if !taskQuote.isEmpty && AnalystText.clip(task, max: 400) != AnalystText.clip(defaultTaskDescription(role: role.display, goal: goal), max: 400) {
            summary += " Assigned task: \"\(taskQuote)\"."
        }

        return BuiltinAnalysis(
            summary: summary,
            findings: playbook.findings,
            risks: playbook.risks,
            recommendations: playbook.recommendations,
            confidence: confidence
        )
    }

    /// The task the CEO hands each specialist for `goal`: names the role's focus areas and quotes the goal.
    public static func defaultTaskDescription(role: String, goal: String) -> String {
        let quoted = "\"\(AnalystText.quote(goal))\""
        switch AnalystRole(role) {
        case .ceo:
            return "Set priorities and align the board on \(quoted): define success criteria, sequence the workstreams and name owners."
        case .coo:
            return "Plan the execution of \(quoted): operations, processes, milestones, vendors and capacity."
        case .cfo:
            return "Assess the financials of \(quoted): budget, unit economics, pricing, runway and cash needs."
        case .cto:
            return "Assess the technology for \(quoted): architecture, build vs buy, security and compliance, scalability and engineering hiring."
        case .cmo:
            return "Plan the go-to-market for \(quoted): target segments, positioning, channels, launch and success metrics."
        case .other(let display):
            return "Analyse \(quoted) from the \(display) perspective: key findings, risks and recommendations for your function."
        }
    }

    /// The CEO's synthesis: combines the specialists' analyses into an executive summary, phased strategy,
    /// cross-functional risks, per-role recommendations and an overall confidence.
    ///
    /// Risks and recommendations keep the contributors' order and are de-duplicated (case- and
    /// whitespace-insensitively). Confidence is the mean of the contributions, minus a penalty for each missing
    /// core role (COO, CFO, CTO, CMO); with no contributions it is 0.
    public static func synthesize(
        goal: String,
        context: String?,
        contributions: [(role: String, codename: String, analysis: BuiltinAnalysis)]
    ) -> BuiltinSynthesis {
        let goalQuote = AnalystText.quote(goal)
        guard !contributions.isEmpty else {
            return BuiltinSynthesis(
                executiveSummary: "\(synthesisLabel): no specialist analyses were available for the goal \"\(goalQuote)\", so no plan could be synthesized.",
                strategy: [],
                risks: ["[CEO] Without specialist input the goal has not been assessed; any plan would be unvalidated."],
                recommendations: ["[CEO] Assign the goal to at least the COO, CFO, CTO and CMO and run the board again."],
                confidence: 0
            )
        }

        let signals = AnalystSignals(goal: goal, context: context)
        let entries = contributions.map { contribution in
            SynthesisEntry(
                role: AnalystRole(contribution.role),
                codename: AnalystText.clip(contribution.codename, max: 40),
                analysis: contribution.analysis
            )
        }
        let missingCore = AnalystRole.core.filter { core in !entries.contains { $0.role == core } }

        return BuiltinSynthesis(
            executiveSummary: executiveSummary(goalQuote: goalQuote, entries: entries, missingCore: missingCore, signals: signals),
            strategy: strategy(entries: entries, signals: signals),
            risks: synthesizedRisks(entries: entries),
            recommendations: synthesizedRecommendations(entries: entries),
            confidence: synthesisConfidence(entries: entries, missingCore: missingCore)
        )
    }

    // MARK: - Confidence

    static func analysisConfidence(role: AnalystRole, signals: AnalystSignals) -> Double {
        var value = role.baseConfidence
        // Concrete anchors make the rule-based advice more likely to fit; each one nudges confidence up.
        if signals.timeline != nil { value += 0.05 }
        if signals.budget != nil { value += 0.05 }
        if signals.segment != nil || signals.region != nil { value += 0.04 }
        if role.hasRelevantSignal(signals) { value += 0.03 }
        if signals.hasContext { value += 0.02 }
        if signals.themes.isEmpty { value -= 0.05 }
        if signals.goalWordCount < 4 { value -= 0.2 }
        return AnalystText.rounded(min(max(value, 0.35), 0.9))
    }

    static func synthesisConfidence(entries: [SynthesisEntry], missingCore: [AnalystRole]) -> Double {
        // Analyses may come from other backends, so guard against NaN and out-of-range values.
        let values = entries.map { entry -> Double in
            let raw = entry.analysis.confidence
            return raw.isFinite ? min(max(raw, 0), 1) : 0
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let penalized = mean - 0.05 * Double(missingCore.count)
        return AnalystText.rounded(min(max(penalized, 0), 1))
    }

    // MARK: - Synthesis parts

    struct SynthesisEntry {
        var role: AnalystRole
        var codename: String
        var analysis: BuiltinAnalysis

        var name: String { codename.isEmpty ? role.display : "\(codename) (\(role.display))" }
        var tag: String { "[\(role.display)]" }
    }

    static func executiveSummary(goalQuote: String, entries: [SynthesisEntry], missingCore: [AnalystRole], signals: AnalystSignals) -> String {
        // A board can have many contributors; listing them all would make the summary unbounded.
        let listed = entries.prefix(10).map(\.name)
        var names = AnalystText.list(Array(listed))
        if entries.count > listed.count {
            names += " and \(entries.count - listed.count) more"
        }
        var text = "\(synthesisLabel) of the goal \"\(goalQuote)\", combining analyses from \(names)."
        text += " Signals: \(signals.themeSummary)."
        if missingCore.isEmpty {
            text += " All core functions (COO, CFO, CTO, CMO) contributed."
        } else {
            text += " Missing core perspectives: \(missingCore.map(\.display).joined(separator: ", ")); confidence is reduced accordingly."
        }
        if let ceo = entries.first(where: { $0.role == .ceo }), let priority = ceo.analysis.recommendations.first {
            text += " CEO priority: \(AnalystText.clip(priority, max: 200))"
            if !text.hasSuffix(".") { text += "." }
        }
        return text
    }

    static func strategy(entries: [SynthesisEntry], signals: AnalystSignals) -> [String] {
        func items(_ role: AnalystRole, _ index: Int) -> [String] {
            entries.filter { $0.role == role }.compactMap { entry in
                guard entry.analysis.recommendations.indices.contains(index) else { return nil }
                let text = AnalystText.clip(entry.analysis.recommendations[index], max: 200)
                return text.isEmpty ? nil : "\(entry.name): \(text)"
            }
        }
        let others = entries.filter {
            if case .other = $0.role { return true }
            return false
        }.compactMap { entry -> String? in
            guard let first = entry.analysis.recommendations.first else { return nil }
            let text = AnalystText.clip(first, max: 200)
            return text.isEmpty ? nil : "\(entry.name): \(text)"
        }
        let target = signals.timeline.map { " (target: \($0))" } ?? ""

        // Fixed phase skeleton so the plan reads the same way every time; contributions fill in the specifics.
        let phases: [(String, [String])] = [
            ("Weeks 0–2 — Align: agree success criteria, owners and the budget envelope.",
             items(.ceo, 0) + items(.cfo, 0)),
            ("Weeks 2–6 — Foundations: set up the delivery plan, core systems and key vendors.",
             items(.coo, 0) + items(.cto, 0)),
            ("Weeks 6–10 — Build and prepare the market: deliver the first usable version and ready the launch.",
             items(.cto, 1) + items(.cmo, 0) + items(.cfo, 1)),
            ("Weeks 10–12 — Launch and learn\(target): go live in phases and measure against the success criteria.",
             items(.cmo, 1) + items(.coo, 1) + others),
            ("Ongoing — Govern: a weekly board review of milestones, spend and risks, re-planning when the evidence changes.",
             items(.ceo, 1)),
        ]
        return phases.map { lead, details in
            guard !details.isEmpty else { return lead }
            // Items are sentences; dropping their final period keeps the "; "-joined phase readable.
            let trimmed = details.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
            return "\(lead) \(trimmed.joined(separator: "; "))."
        }
    }

    static func synthesizedRisks(entries: [SynthesisEntry]) -> [String] {
        // Round-robin across contributors so every function's top risk survives the cap, not just the first role's.
        let limit = 8
        var seen = Set<String>()
        var result: [String] = []
        let depth = entries.map(\.analysis.risks.count).max() ?? 0
        var index = 0
        while index < depth && result.count < limit {
            for entry in entries where entry.analysis.risks.indices.contains(index) && result.count < limit {
                let text = AnalystText.clip(entry.analysis.risks[index], max: 240)
                guard !text.isEmpty, seen.insert(text.lowercased()).inserted else { continue }
                result.append("\(entry.tag) \(text)")
            }
            index += 1
        }
        return result
    }

    static func synthesizedRecommendations(entries: [SynthesisEntry]) -> [String] {
        let perRole = 2
        let limit = 12
        var seen = Set<String>()
        var result: [String] = []
        for entry in entries where result.count < limit {
            var taken = 0
            for recommendation in entry.analysis.recommendations where taken < perRole && result.count < limit {
                let text = AnalystText.clip(recommendation, max: 240)
                guard !text.isEmpty, seen.insert(text.lowercased()).inserted else { continue }
                result.append("\(entry.tag) \(text)")
                taken += 1
            }
        }
        return result
    }
}

// MARK: - Roles

enum AnalystRole: Equatable, Sendable {
    case ceo, coo, cfo, cto, cmo
    case other(String)

    static let core: [AnalystRole] = [.coo, .cfo, .cto, .cmo]

    init(_ raw: String) {
        let key = AnalystText.clip(raw, max: 60).uppercased()
        switch key {
        case "CEO", "CHIEF EXECUTIVE OFFICER": self = .ceo
        case "COO", "CHIEF OPERATING OFFICER": self = .coo
        case "CFO", "CHIEF FINANCIAL OFFICER": self = .cfo
        case "CTO", "CHIEF TECHNOLOGY OFFICER": self = .cto
        case "CMO", "CHIEF MARKETING OFFICER": self = .cmo
        default:
            let display = AnalystText.clip(raw, max: 40)
            self = .other(display.isEmpty ? "specialist" : display)
        }
    }

    var display: String {
        switch self {
        case .ceo: "CEO"
        case .coo: "COO"
        case .cfo: "CFO"
        case .cto: "CTO"
        case .cmo: "CMO"
        case .other(let display): display
        }
    }

    var lens: String {
        switch self {
        case .ceo: "priorities, alignment and sequencing"
        case .coo: "operations, processes, milestones and vendors"
        case .cfo: "budget, unit economics, pricing, runway and cash"
        case .cto: "architecture, build vs buy, security, scalability and engineering hiring"
        case .cmo: "segments, positioning, channels, launch and metrics"
        case .other(let display): "the \(display) function's contribution"
        }
    }

    // Specialists with narrower playbooks are slightly less sure of generic advice than the CEO/CTO rules.
    var baseConfidence: Double {
        switch self {
        case .ceo: 0.7
        case .coo: 0.7
        case .cfo: 0.68
        case .cto: 0.72
        case .cmo: 0.66
        case .other: 0.6
        }
    }

    func hasRelevantSignal(_ signals: AnalystSignals) -> Bool {
        switch self {
        case .ceo: signals.themes.count >= 2
        case .coo: signals.timeline != nil || signals.staffing || !signals.physicalTerms.isEmpty
        case .cfo: signals.financial
        case .cto: signals.technology
        case .cmo: signals.goToMarket
        case .other: false
        }
    }
}

// MARK: - Signals

/// Keyword signals found in the goal and context. Everything is gathered in text order, so the first mention wins.
struct AnalystSignals: Equatable, Sendable {
    var financial = false
    var technology = false
    var goToMarket = false
    var staffing = false
    var compliance = false
    var sensitiveData = false
    var subscription = false
    var pricing = false
    var funding = false
    var ai = false
    var consumerFacing = false
    var techTerms: [String] = []
    var sensitiveTerms: [String] = []
    var physicalTerms: [String] = []
    var frameworks: [String] = []
    var timeline: String?
    var budget: String?
    var segment: String?
    var region: String?
    var goalWordCount = 0
    var hasContext = false

    // Bounds the work per analysis: signals in a multi-megabyte paste beyond this point are ignored.
    static let scanLimit = 100_000
    // Never produced by the tokenizer, so phrases cannot straddle goal and context.
    static let separator = "|"

    init(goal: String, context: String?) {
        let goalTokens = AnalystTokenizer.tokenize(goal, limit: Self.scanLimit)
        let contextTokens = context.map { AnalystTokenizer.tokenize($0, limit: Self.scanLimit) } ?? []
        goalWordCount = goalTokens.filter { !AnalystKeywords.currencySymbols.keys.contains($0) }.count
        hasContext = !contextTokens.isEmpty
        scan(goalTokens + [Self.separator] + contextTokens)
        // Personal or financial data of European customers falls under GDPR even when the goal does not say so.
        if sensitiveData, let region, AnalystKeywords.gdprRegions.contains(region) {
            Self.appendUnique("GDPR", to: &frameworks, cap: 5)
            compliance = true
        }
    }

    var themes: [String] {
        var result: [String] = []
        if financial { result.append(budget.map { "financial (\($0) budget)" } ?? "financial") }
        if technology { result.append(techTerms.isEmpty ? "technology" : "technology (\(techTerms.joined(separator: ", ")))") }
        if goToMarket {
            let market = [segment, region].compactMap(\.self)
            result.append(market.isEmpty ? "go-to-market" : "go-to-market (\(market.joined(separator: ", ")))")
        }
        if staffing { result.append("staffing") }
        if compliance || sensitiveData { result.append(frameworks.isEmpty ? "risk/compliance" : "risk/compliance (\(frameworks.joined(separator: ", ")))") }
        if let timeline { result.append("timeline (\(timeline))") }
        return result
    }

    var themeSummary: String {
        let themes = themes
        return themes.isEmpty ? "none specific yet (no market, budget, technology or deadline named)" : themes.joined(separator: ", ")
    }

    var frameworkText: String {
        frameworks.isEmpty ? "applicable standards such as SOC 2 and GDPR" : AnalystText.list(frameworks)
    }

    private static func appendUnique(_ value: String, to list: inout [String], cap: Int) {
        if list.count < cap && !list.contains(value) { list.append(value) }
    }

    private mutating func scan(_ tokens: [String]) {
        for index in tokens.indices {
            let token = tokens[index]
            if token == Self.separator { continue }
            let next = index + 1 < tokens.count ? tokens[index + 1] : ""
            let afterNext = index + 2 < tokens.count ? tokens[index + 2] : ""
            let forms = AnalystKeywords.forms(of: token)
            func matches(_ set: Set<String>) -> Bool { forms.contains { set.contains($0) } }
            // Report the form that is actually a keyword, so "saas" is not shown as its naive singular "saa".
            func matched(_ set: Set<String>) -> String { forms.first { set.contains($0) } ?? token }

            if matches(AnalystKeywords.financial) || AnalystKeywords.currencySymbols[token] != nil { financial = true }
            if matches(AnalystKeywords.pricing) { pricing = true; financial = true }
            if matches(AnalystKeywords.funding) { funding = true; financial = true }
            if matches(AnalystKeywords.subscription) { subscription = true; financial = true }
            if matches(AnalystKeywords.technology) {
                technology = true
                let term = matched(AnalystKeywords.technology)
                Self.appendUnique(AnalystKeywords.display[term] ?? term, to: &techTerms, cap: 4)
            }
            if matches(AnalystKeywords.ai) || (token == "machine" && next == "learning") || (token == "artificial" && next == "intelligence") {
                ai = true
                technology = true
                Self.appendUnique("AI", to: &techTerms, cap: 4)
            }
            if matches(AnalystKeywords.goToMarket) { goToMarket = true }
            if matches(AnalystKeywords.staffing) { staffing = true }
            if matches(AnalystKeywords.compliance) { compliance = true }
            if matches(AnalystKeywords.sensitive) || (token == "personal" && next == "data") {
                sensitiveData = true
                Self.appendUnique(token == "personal" ? "personal data" : matched(AnalystKeywords.sensitive), to: &sensitiveTerms, cap: 3)
            }
            if matches(AnalystKeywords.physical) {
                Self.appendUnique(matched(AnalystKeywords.physical), to: &physicalTerms, cap: 3)
            }
            if let framework = AnalystKeywords.framework(token: token, next: next) {
                compliance = true
                Self.appendUnique(framework, to: &frameworks, cap: 4)
            }
            if segment == nil, let found = AnalystKeywords.segment(forms: forms, next: next) {
                segment = found.name
                consumerFacing = found.consumer
                goToMarket = true
            }
            if region == nil, let found = AnalystKeywords.region(token: token, next: next) {
                region = found
                goToMarket = true
            }
            if timeline == nil, let found = AnalystKeywords.timeline(token: token, next: next, afterNext: afterNext, previous: index > 0 ? tokens[index - 1] : "") {
                timeline = found
            }
            if budget == nil, let found = AnalystKeywords.money(tokens: tokens, at: index) {
                budget = found
                financial = true
            }
        }
    }
}

/// Splits text into lowercase word tokens; currency symbols become tokens of their own, and "1.5" / "10,000"
/// stay one token so amounts survive.
enum AnalystTokenizer {
    static func tokenize(_ text: String, limit: Int) -> [String] {
        let scalars = Array(String(text.prefix(limit)).lowercased().unicodeScalars)
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty {
                tokens.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        for index in scalars.indices {
            let scalar = scalars[index]
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else if scalar == "." || scalar == ",",
                      let last = current.last, isDigit(last),
                      index + 1 < scalars.count, isDigit(scalars[index + 1]) {
                current.append(scalar)
            } else {
                flush()
                if AnalystKeywords.currencySymbols[String(scalar)] != nil {
                    tokens.append(String(scalar))
                }
            }
        }
        flush()
        return tokens
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }

    static func isNumber(_ token: String) -> Bool {
        guard let first = token.unicodeScalars.first else { return false }
        return isDigit(first)
    }
}

enum AnalystKeywords {
    static let currencySymbols: [String: String] = ["$": "$", "€": "€", "£": "£"]

    static let financial: Set<String> = [
        "money", "budget", "revenue", "pricing", "price", "cost", "funding", "fund", "profit", "profitability",
        "profitable", "margin", "cash", "runway", "investment", "invest", "investor", "roi", "usd", "eur", "gbp",
        "dollar", "euro", "valuation", "spend", "spending", "burn", "monetize", "monetise", "monetization",
        "monetisation", "fee", "billing", "ebitda", "breakeven", "capital", "financing", "loan", "financial",
        "finance", "income", "sale", "earnings",
    ]
    static let pricing: Set<String> = ["pricing", "price", "priced", "tier", "discount", "packaging"]
    static let funding: Set<String> = ["funding", "fundraise", "fundraising", "raise", "investor", "vc", "seed", "financing"]
    static let subscription: Set<String> = ["saas", "subscription", "subscribe", "recurring", "mrr", "arr", "seat", "tier", "churn", "freemium"]
    static let technology: Set<String> = [
        "saas", "software", "app", "application", "platform", "api", "cloud", "data", "mobile", "ios", "android",
        "web", "website", "webapp", "backend", "frontend", "infrastructure", "automation", "automate", "digital",
        "tech", "technology", "integration", "database", "analytics", "algorithm", "blockchain", "iot", "sdk",
        "microservice", "devops", "kubernetes", "server", "online", "ecommerce", "marketplace", "portal", "dashboard",
    ]
    static let ai: Set<String> = ["ai", "ml", "llm", "gpt", "genai", "chatbot", "copilot"]
    static let goToMarket: Set<String> = [
        "launch", "market", "marketing", "customer", "client", "brand", "branding", "growth", "grow", "sales",
        "sell", "selling", "smb", "b2b", "b2c", "consumer", "user", "audience", "segment", "channel",
        "acquisition", "adoption", "expand", "expansion", "campaign", "competitor", "competition", "gtm", "signup",
        "lead", "retention", "subscriber",
    ]
    static let staffing: Set<String> = [
        "hiring", "hire", "recruit", "recruiting", "recruitment", "team", "people", "staff", "staffing", "headcount",
        "talent", "employee", "engineer", "culture", "workforce", "contractor", "onboarding",
    ]
    static let compliance: Set<String> = [
        "security", "secure", "compliance", "compliant", "gdpr", "soc", "soc2", "privacy", "hipaa", "pci",
        "regulation", "regulatory", "regulated", "audit", "ccpa", "sox", "iso27001", "legal",
    ]
    static let sensitive: Set<String> = [
        "accounting", "bookkeeping", "finance", "financial", "fintech", "payment", "payroll", "bank", "banking",
        "invoice", "invoicing", "tax", "health", "healthcare", "medical", "patient", "insurance", "pii", "privacy",
        "gdpr", "hipaa", "kyc", "wallet", "lending", "credit", "identity",
    ]
    static let physical: Set<String> = [
        "store", "shop", "restaurant", "cafe", "warehouse", "factory", "manufacturing", "manufacture", "retail",
        "shipping", "logistics", "inventory", "delivery", "hardware", "device", "franchise", "clinic", "fleet",
        "supplier", "production", "kitchen", "hotel",
    ]
    static let display: [String: String] = [
        "saas": "SaaS", "api": "API", "ios": "iOS", "iot": "IoT", "sdk": "SDK", "devops": "DevOps",
        "ecommerce": "e-commerce", "webapp": "web app",
    ]
    static let writtenNumbers: [String: Int] = [
        "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
        "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
    ]
    static let durationUnits: Set<String> = ["day", "week", "month", "quarter", "year"]
    // "may" is left out: as a modal verb it is far more common than the month in goal statements.
    static let months: [String: String] = [
        "january": "January", "february": "February", "march": "March", "april": "April", "june": "June",
        "july": "July", "august": "August", "september": "September", "october": "October",
        "november": "November", "december": "December",
    ]
    static let gdprRegions: Set<String> = [
        "Europe", "the EU", "Germany", "France", "Spain", "Italy", "DACH", "the Nordics", "EMEA",
    ]
    static let magnitudes: [String: String] = [
        "k": "k", "m": "m", "mm": "m", "bn": "bn", "b": "bn",
        "thousand": " thousand", "million": " million", "millions": " million", "billion": " billion",
    ]
    /// Codes written before the amount ("USD 50,000").
    static let currencyCodes: [String: String] = ["usd": "USD", "eur": "EUR", "gbp": "GBP"]
    static let currencyWords: [String: String] = [
        "usd": "USD", "eur": "EUR", "gbp": "GBP", "dollar": "dollars", "dollars": "dollars",
        "euro": "euros", "euros": "euros", "pound": "pounds", "pounds": "pounds",
    ]
    static let regions: [String: String] = [
        "europe": "Europe", "european": "Europe", "eu": "the EU", "uk": "the UK", "usa": "the US",
        "germany": "Germany", "france": "France", "spain": "Spain", "italy": "Italy", "india": "India",
        "japan": "Japan", "brazil": "Brazil", "canada": "Canada", "australia": "Australia", "mexico": "Mexico",
        "china": "China", "singapore": "Singapore", "latam": "Latin America", "apac": "APAC", "emea": "EMEA",
        "dach": "DACH", "nordics": "the Nordics", "global": "international markets",
        "globally": "international markets", "worldwide": "international markets",
        "international": "international markets", "internationally": "international markets",
    ]

    /// The token itself plus a naive singular ("customers" → "customer"), so keyword lists stay short.
    static func forms(of token: String) -> [String] {
        if token.count > 3 && token.hasSuffix("s") && !token.hasSuffix("ss") {
            if token.hasSuffix("sses") {
                return [token, String(token.dropLast(2))]
            }
            if token.hasSuffix("ies") && token.count > 4 {
                return [token, String(token.dropLast(3)) + "y"]
            }
            return [token, String(token.dropLast())]
        }
        return [token]
    }

    static func framework(token: String, next: String) -> String? {
        switch token {
        case "gdpr": "GDPR"
        case "hipaa": "HIPAA"
        case "pci": "PCI DSS"
        case "ccpa": "CCPA"
        case "sox": "SOX"
        case "soc2": "SOC 2"
        case "soc" where next == "2" || next == "ii": "SOC 2"
        case "iso27001": "ISO 27001"
        case "iso" where next == "27001": "ISO 27001"
        default: nil
        }
    }

    static func segment(forms: [String], next: String) -> (name: String, consumer: Bool)? {
        let nextSingular = AnalystKeywords.forms(of: next).last ?? next
        for form in forms {
            switch form {
            case "smb": return ("SMBs", false)
            case "sme": return ("SMEs", false)
            case "small" where nextSingular == "business": return ("small businesses", false)
            case "midmarket": return ("mid-market companies", false)
            case "mid" where next == "market": return ("mid-market companies", false)
            case "enterprise": return ("enterprise customers", false)
            case "b2b": return ("B2B buyers", false)
            case "b2c", "consumer": return ("consumers", true)
            case "startup": return ("startups", false)
            case "developer": return ("developers", false)
            case "freelancer": return ("freelancers", false)
            case "student": return ("students", true)
            case "family": return ("families", true)
            default: continue
            }
        }
        return nil
    }

    static func region(token: String, next: String) -> String? {
        if token == "united" && next == "states" { return "the US" }
        if token == "north" && next == "america" { return "North America" }
        return regions[token]
    }

    static func isYear(_ token: String) -> Bool {
        guard token.count == 4, token.unicodeScalars.allSatisfy(AnalystTokenizer.isDigit), let year = Int(token) else { return false }
        return (2000...2099).contains(year)
    }

    static func timeline(token: String, next: String, afterNext: String, previous: String) -> String? {
        if ["q1", "q2", "q3", "q4"].contains(token) {
            return isYear(next) ? "\(token.uppercased()) \(next)" : token.uppercased()
        }
        if ["h1", "h2"].contains(token) && isYear(next) {
            return "\(token.uppercased()) \(next)"
        }
        if let month = months[token] {
            return isYear(next) ? "\(month) \(next)" : month
        }
        if isYear(token) && currencySymbols[previous] == nil {
            return token
        }
        let amount: Int? = if AnalystTokenizer.isNumber(token), token.count <= 3 { Int(token) } else { writtenNumbers[token] }
        let unit = forms(of: next).last ?? next
        if let amount, amount > 0, durationUnits.contains(unit) {
            return "\(amount) \(unit)\(amount == 1 ? "" : "s")"
        }
        if (token == "next" || token == "this") && ["quarter", "month", "year"].contains(next) {
            return "\(token) \(next)"
        }
        if token == "end" && next == "of" && ["year", "quarter"].contains(afterNext) {
            return "end of \(afterNext)"
        }
        return nil
    }

    /// Finds an amount such as "$50k", "€1.5 million", "200k USD", "USD 50,000", "40 €",
    /// "50 000 €" or "budget of 80,000" starting at `index`.
    static func money(tokens: [String], at index: Int) -> String? {
        func token(_ offset: Int) -> String {
            let position = index + offset
            return tokens.indices.contains(position) ? tokens[position] : ""
        }
        /// The number at `offset` with the three-digit groups written apart after it ("50 000")
        /// and a magnitude ("k", "million"), and how many tokens that took.
        /// A year ("2026") is not an amount unless a currency sign says so ("$2000").
        func amount(at offset: Int, allowYear: Bool = false) -> (text: String, used: Int, hasMagnitude: Bool, value: Double)? {
            let first = token(offset)
            guard AnalystTokenizer.isNumber(first), allowYear || !isYear(first) else { return nil }
            var text = first
            var used = 1
            // "50 000": groups of three digits after a number of at most three.
            while first.count <= 3, first.allSatisfy(\.isNumber), token(offset + used).count == 3,
                  token(offset + used).allSatisfy({ $0.isASCII && $0.isNumber }) {
                text += " " + token(offset + used)
                used += 1
            }
            let value = Double(text.filter { $0.isNumber || $0 == "." }) ?? 0
            if let magnitude = magnitudes[token(offset + used)] {
                return (text + magnitude, used + 1, true, value)
            }
            // "250k", "2.5m": the magnitude written onto the number.
            let suffix = String(first.drop { $0.isNumber || $0 == "." || $0 == "," })
            return (text, used, magnitudes[suffix] != nil, value)
        }
        let current = token(0)
        if let symbol = currencySymbols[current], let found = amount(at: 1, allowYear: true) {
            return AnalystText.clip(symbol + found.text, max: 24)
        }
        if let code = currencyCodes[current], let found = amount(at: 1, allowYear: true) {
            return AnalystText.clip("\(code) \(found.text)", max: 24)
        }
        if let found = amount(at: 0) {
            if let word = currencyWords[token(found.used)] {
                return AnalystText.clip("\(found.text) \(word)", max: 24)
            }
            // "40 €", but not the count in "3 $150k engineers": there the sign starts a price.
            if let symbol = currencySymbols[token(found.used)], !AnalystTokenizer.isNumber(token(found.used + 1)) {
                return AnalystText.clip(symbol + found.text, max: 24)
            }
        }
        if current == "budget" {
            for offset in 1...3 {
                let candidate = token(offset)
                if candidate == AnalystSignals.separator { break }
                if currencySymbols[candidate] != nil || currencyCodes[candidate] != nil { return nil }  // their branch catches it next
                if let found = amount(at: offset) {
                    let unit = forms(of: token(offset + found.used)).last ?? ""
                    if durationUnits.contains(unit) { return nil }
                    if currencyWords[token(offset + found.used)] != nil || currencySymbols[token(offset + found.used)] != nil {
                        return nil  // "budget of 40 €" (its own branch catches it next), "budget of 3 $50k …"
                    }
                    // A bare small number is a count ("a budget of 10 people"), not money.
                    guard found.hasMagnitude || found.value >= 1000 else { return nil }
                    return AnalystText.clip(found.text, max: 24)
                }
            }
        }
        return nil
    }
}

// MARK: - Text helpers

enum AnalystText {
    /// The goal as it appears in summaries: single-line, trimmed, at most ~120 characters.
    static func quote(_ goal: String) -> String {
        let clipped = clip(goal, max: 120)
        return clipped.isEmpty ? "(no goal stated)" : clipped
    }

    /// Collapses whitespace and control characters to single spaces, trims, and truncates to `max` characters
    /// with an ellipsis. Only a window of the input is walked, so megabyte inputs cost no more than short ones.
    static func clip(_ text: String, max: Int) -> String {
        guard max > 1 else { return "" }
        let window = text.prefix(max * 2 + 16)
        var out = ""
        var pendingSpace = false
        for character in window {
            if isBlank(character) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
            }
            out.append(character)
        }
        let hasMore = window.endIndex < text.endIndex && text[window.endIndex...].contains { !isBlank($0) }
        if out.count > max || (hasMore && !out.isEmpty) {
            var head = String(out.prefix(max - 1))
            while let last = head.last, last == " " { head.removeLast() }
            return head + "…"
        }
        return out
    }

    static func isBlank(_ character: Character) -> Bool {
        character.isWhitespace || character.unicodeScalars.allSatisfy { $0.properties.generalCategory == .control }
    }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + (items.last ?? "")
        }
    }

    static func rounded(_ value: Double) -> Double {
        (value * 100).rounded() / 100
    }
}

// MARK: - Playbooks

/// Per-role rules: signal-specific items come first (most relevant), generic items fill up to the minimum count.
struct AnalystPlaybook {
    var findings: [String] = []
    var risks: [String] = []
    var recommendations: [String] = []

    init(role: AnalystRole, signals: AnalystSignals, goal: String) {
        let lists: (findings: [String], findingsFill: [String], risks: [String], risksFill: [String], recs: [String], recsFill: [String])
        let context = PlaybookContext(signals: signals, goal: goal)
        switch role {
        case .ceo: lists = context.ceo()
        case .coo: lists = context.coo()
        case .cfo: lists = context.cfo()
        case .cto: lists = context.cto()
        case .cmo: lists = context.cmo()
        case .other(let display): lists = context.generic(role: display)
        }
        findings = Self.pick(lists.findings, fill: lists.findingsFill, max: 5)
        risks = Self.pick(lists.risks, fill: lists.risksFill, max: 4)
        recommendations = Self.pick(lists.recs, fill: lists.recsFill, max: 5)
    }

    static func pick(_ specific: [String], fill: [String], max: Int) -> [String] {
        Array((specific + fill).prefix(max))
    }
}

private struct PlaybookContext {
    typealias Lists = (findings: [String], findingsFill: [String], risks: [String], risksFill: [String], recs: [String], recsFill: [String])

    let s: AnalystSignals
    let goalShort: String

    init(signals: AnalystSignals, goal: String) {
        s = signals
        let short = AnalystText.clip(goal, max: 60)
        goalShort = short.isEmpty ? "the goal" : "\"\(short)\""
    }

    var vague: Bool { s.goalWordCount < 4 }
    var protectedData: Bool { s.sensitiveData || s.compliance }
    var b2b: Bool { s.segment != nil && !s.consumerFacing }

    func ceo() -> Lists {
        var findings: [String] = []
        let themes = s.themes
        switch themes.count {
        case 0: findings.append("The goal does not yet name a market, budget, technology or deadline; the first job is to make it concrete.")
        case 1: findings.append("The goal is primarily about \(themes[0]); the other functions support that thrust.")
        default: findings.append("The goal spans \(AnalystText.list(themes)); these workstreams must be sequenced, not run all at once.")
        }
        if vague { findings.append("The goal is too brief to plan against with confidence; it needs success criteria and scope.") }
        if let timeline = s.timeline { findings.append("The \(timeline) deadline sets the pace for every function.") }
        if let budget = s.budget { findings.append("The \(budget) budget caps how many initiatives can run in parallel.") }
        if protectedData { findings.append("Compliance with \(s.frameworkText) is a gating constraint that shapes scope and timing, not a later phase.") }
        let findingsFill = [
            "Success for \(goalShort) must be defined as 2–3 measurable outcomes that every function signs up to.",
            "Each workstream needs one accountable executive; shared ownership is where plans stall.",
            "The board's main lever is focus: saying no to work that does not serve the goal.",
        ]

        var risks: [String] = []
        if themes.count >= 3 { risks.append("Scope creep: pursuing \(themes.count) workstreams at once could dilute focus and resources.") }
        if vague || themes.isEmpty { risks.append("An under-specified goal could lead each function to optimise for a different outcome.") }
        if let timeline = s.timeline { risks.append("The \(timeline) deadline could force trade-offs that are never made explicit.") }
        let risksFill = [
            "Misalignment between functions could produce conflicting priorities.",
            "Decisions could stall without clear decision rights and a regular review cadence.",
            "The plan could drift from the goal without measurable checkpoints.",
        ]

        var recs = [
            "Agree 2–3 measurable success criteria for \(goalShort) and share them with the whole board.",
            "Assign one accountable owner per workstream and hold a weekly 30-minute board review.",
        ]
        if s.goToMarket { recs.append("Validate demand with real customers before scaling spend or headcount.") }
        recs.append(s.timeline.map { "Set a go/no-go decision gate halfway to \($0)." } ?? "Set a go/no-go decision gate after the first 6 weeks.")
        let recsFill = [
            "Keep a 10–15% contingency of budget and time for surprises.",
            "Sequence the work: fund the riskiest assumption first and defer everything that does not test it.",
            "Publish a one-page plan so every function works from the same priorities.",
        ]
        return (findings, findingsFill, risks, risksFill, recs, recsFill)
    }

    func coo() -> Lists {
        var findings: [String] = []
        findings.append(s.timeline.map { "Working back from \($0), the plan needs dated milestones with buffer for slippage." }
            ?? "No deadline is stated; operations cannot be paced until milestones are dated.")
        if !s.physicalTerms.isEmpty {
            findings.append("Physical operations (\(s.physicalTerms.joined(separator: ", "))) put supply, logistics and location dependencies on the critical path.")
        }
        if s.technology || s.subscription {
            findings.append("Running a software product needs customer onboarding, support and incident processes, not just a build plan.")
        }
        if s.staffing { findings.append("Capacity depends on hiring; roles, onboarding and ownership must be planned alongside the milestones.") }
        if protectedData { findings.append("Compliance with \(s.frameworkText) requires documented processes and evidence collection as part of daily operations.") }
        if s.goToMarket { findings.append("A launch needs sales, support and fulfilment readiness on the same date.") }
        let findingsFill = [
            "Cross-functional handoffs (product, marketing, sales, support) are where execution usually breaks.",
            "Key vendors and contractors must be selected, contracted and managed against service levels.",
            "Execution needs one weekly operating rhythm with a clear owner per workstream.",
        ]

        var risks: [String] = []
        if let timeline = s.timeline { risks.append("A compressed schedule: slipping dependencies could miss the \(timeline) date.") }
        if !s.physicalTerms.isEmpty { risks.append("Supplier or logistics failures could halt operations.") }
        if s.staffing { risks.append("Hiring and onboarding may lag the plan, creating capacity bottlenecks.") }
        if protectedData { risks.append("Missing process documentation could fail a compliance audit.") }
        let risksFill = [
            "Dependence on a single vendor could stall delivery.",
            "Unclear ownership between teams could cause dropped handoffs.",
            "Support load after launch may exceed capacity.",
        ]

        var recs: [String] = []
        recs.append(s.timeline.map { "Publish a milestone plan working back from \($0), with weekly checkpoints and a 15–20% schedule buffer." }
            ?? "Agree a target date, then publish a milestone plan with weekly checkpoints and a 15–20% schedule buffer.")
        if s.technology || s.subscription {
            recs.append("Define onboarding, support (with response-time targets) and incident-response processes before launch.")
        }
        if !s.physicalTerms.isEmpty { recs.append("Qualify at least two suppliers for each critical input and map the end-to-end logistics flow.") }
        if s.staffing { recs.append("Build a hiring plan with role owners, start dates and a 30-60-90-day onboarding plan.") }
        let recsFill = [
            "Shortlist vendors with SLAs, exit clauses and a named owner for each contract.",
            "Create a RACI for each workstream so every deliverable has one accountable owner.",
            "Track three operational KPIs weekly: milestone hit rate, cycle time and open blockers.",
        ]
        return (findings, findingsFill, risks, risksFill, recs, recsFill)
    }

    func cfo() -> Lists {
        var findings: [String] = []
        if let budget = s.budget {
            findings.append("The stated budget (\(budget)) is the hard ceiling: it must fund build, launch and operations until revenue covers costs.")
        } else if s.financial {
            findings.append("Money is in scope but no budget figure is given, so spend cannot yet be checked against runway.")
        } else {
            findings.append("The goal states no budget; the financial envelope must be set before commitments are made.")
        }
        if s.subscription {
            findings.append("A recurring-revenue (SaaS/subscription) model means unit economics hinge on CAC payback, gross margin and churn.")
        }
        if s.pricing { findings.append("Pricing is explicitly in scope; price level and packaging will drive both conversion and margin.") }
        if s.funding { findings.append("Funding is part of the goal; milestones should match what investors will want to see at the next raise.") }
        if s.staffing { findings.append("Headcount is likely the largest cost line; hiring pace sets the burn rate.") }
        if protectedData { findings.append("Compliance with \(s.frameworkText) carries real cost (audits, tooling, legal) that belongs in the budget from day one.") }
        if let timeline = s.timeline { findings.append("The \(timeline) deadline fixes the spending window; cash must be phased to it.") }
        let findingsFill = [
            "Runway, not profit, is the binding constraint early on: cash goes out before it comes in.",
            "Every workstream needs a cost estimate and an owner before the budget is approved.",
            "Return on spend should be tracked per initiative so underperformers can be cut early.",
        ]

        var risks: [String] = []
        if s.subscription { risks.append("Churn or slow expansion could make customer acquisition cost unrecoverable.") }
        if s.pricing { risks.append("Mispriced offers could leave money on the table or stall conversion.") }
        if let budget = s.budget { risks.append("Costs could overrun the \(budget) budget as scope grows.") }
        if s.staffing { risks.append("Hiring ahead of revenue could shorten runway sharply.") }
        if protectedData { risks.append("Compliance costs (audits, legal, tooling) may be underestimated.") }
        let risksFill = [
            "Cash burn could outpace revenue and shorten runway.",
            "Revenue assumptions are unvalidated and may be optimistic.",
            "Hidden costs (tools, contractors, support) could erode margins.",
        ]

        var recs: [String] = []
        if s.subscription {
            recs.append("Design three pricing tiers (e.g. Starter, Growth, Scale) with an annual-prepay discount, and test willingness to pay with 10–20 target customers.")
        } else if s.pricing {
            recs.append("Run pricing experiments (price points, bundles, discounts) with real prospects before fixing the price list.")
        }
        if let budget = s.budget { recs.append("Split the \(budget) budget into tranches released at milestones, holding back 15% as contingency.") }
        if s.funding { recs.append("Prepare a financial model and the metrics investors expect (growth, burn multiple, runway) before approaching them.") }
        if s.subscription {
            recs.append("Set unit-economics targets to validate: CAC payback under 12 months, gross margin above 70%, monthly churn under 2%.")
        }
        let recsFill = [
            "Build a 12–18 month cash plan with base and downside scenarios, reviewed monthly.",
            "Define unit economics (cost to acquire, cost to serve, lifetime value) before scaling spend.",
            "Stage-gate spending: release funds only when the previous milestone is met.",
        ]
        return (findings, findingsFill, risks, risksFill, recs, recsFill)
    }

    func cto() -> Lists {
        var findings: [String] = []
        if s.technology {
            let terms = s.techTerms.isEmpty ? "" : " (\(s.techTerms.joined(separator: ", ")))"
            findings.append("The goal is technology-led\(terms); architecture choices made now will set cost and speed for years.")
        } else {
            findings.append("Technology is an enabler here rather than the product; off-the-shelf tools should cover most needs.")
        }
        if protectedData {
            let data = s.sensitiveTerms.isEmpty ? "" : " (\(s.sensitiveTerms.joined(separator: ", ")))"
            findings.append("The goal involves sensitive or regulated data\(data); security controls and compliance with \(s.frameworkText) are requirements, not extras.")
        }
        if s.ai { findings.append("AI features need evaluation data, guardrails and per-request cost controls before they reach customers.") }
        if s.subscription { findings.append("A multi-tenant SaaS needs tenant isolation, usage metering and billing integration from the first release.") }
        if let timeline = s.timeline { findings.append("The \(timeline) deadline favours buying commodity components and building only what differentiates.") }
        if s.staffing { findings.append("Engineering capacity is a constraint; hiring a senior engineer typically takes 6–10 weeks per role.") }
        let findingsFill = [
            "Build vs buy should be decided per component: buy commodity pieces (auth, billing, email), build the differentiator.",
            "Scalability needs are unknown until usage is measured; design for 10x growth, not 1000x.",
            "Observability (logs, metrics, alerts) is needed from day one to run the system reliably.",
        ]

        var risks: [String] = []
        if protectedData { risks.append("A data breach or failed security audit would be costly and damage customer trust.") }
        if s.ai { risks.append("Model quality problems, hallucinations or inference costs could undermine the product.") }
        if s.timeline != nil { risks.append("Deadline pressure could create technical debt that slows all later work.") }
        if s.staffing { risks.append("Slow engineering hiring could delay delivery.") }
        let risksFill = [
            "Vendor or platform lock-in could raise costs later.",
            "Security gaps in early releases could expose customer data.",
            "Unplanned scaling problems could cause outages as usage grows.",
        ]

        var recs: [String] = []
        if protectedData {
            recs.append("Establish a security and compliance baseline (encryption in transit and at rest, SSO, audit logs, least-privilege access) and plan compliance with \(s.frameworkText) from the start.")
        }
        if s.technology {
            recs.append("Start with a modular monolith on managed cloud services; split out services only when load or team size demands it.")
        }
        if s.ai { recs.append("Build an evaluation set and a cost budget for each AI feature before launch, with a human fallback.") }
        if s.subscription { recs.append("Use a proven billing and subscription provider rather than building billing in-house.") }
        if s.staffing { recs.append("Hire or contract a small senior core team (2–4 engineers) first; add junior engineers once the architecture is stable.") }
        let recsFill = [
            "Write a one-page build-vs-buy decision for each major component.",
            "Set up CI/CD, automated tests and monitoring before the first customer-facing release.",
            "Run a threat model and security review before launch.",
        ]
        return (findings, findingsFill, risks, risksFill, recs, recsFill)
    }

    func cmo() -> Lists {
        var findings: [String] = []
        findings.append(s.segment.map { "The target segment is \($0); positioning and channels should follow how they buy." }
            ?? "No target segment is named; without one, messaging and channel spend will be diluted.")
        if let region = s.region { findings.append("Targeting \(region) sets language, channel and regulatory expectations for the launch.") }
        if s.goToMarket { findings.append("The goal centres on a market push; awareness must be built before the launch date, not after.") }
        if s.subscription { findings.append("A subscription offer converts through trials, demos and onboarding; the funnel matters more than one-off campaigns.") }
        if protectedData { findings.append("Trust is a buying criterion here; security and compliance credentials belong in the positioning.") }
        if s.ai { findings.append("AI claims are crowded; differentiation must rest on concrete customer outcomes, not on the technology.") }
        if let timeline = s.timeline { findings.append("Launch messaging and channels need to be ready ahead of \(timeline).") }
        let findingsFill = [
            "Positioning must state who the offer is for, the problem it solves and why it beats the alternative.",
            "The channel mix should be tested small before budget is committed.",
            "Success needs funnel metrics agreed up front: reach, conversion, acquisition cost and retention.",
        ]

        var risks: [String] = []
        if s.segment == nil { risks.append("An undefined audience could waste spend on the wrong channels.") }
        if s.ai { risks.append("Undifferentiated AI messaging could be ignored in a crowded market.") }
        if protectedData { risks.append("A trust or privacy incident could damage the brand before it is established.") }
        let risksFill = [
            "Weak differentiation could make customer acquisition too expensive.",
            "Launching before product-market fit could burn awareness on an unready product.",
            "Channel costs may rise faster than conversion improves.",
        ]

        var recs = ["Write an ideal-customer profile and a one-sentence positioning statement for \(s.segment ?? "the primary segment")."]
        if b2b {
            recs.append("Test two B2B channels first (e.g. founder-led outbound and partnerships), then double down on the one with the lowest acquisition cost.")
        } else if s.consumerFacing {
            recs.append("Test two consumer channels first (e.g. short-form social and referral incentives), then double down on the one with the lowest acquisition cost.")
        } else {
            recs.append("Test two or three channels with small budgets and keep only those with a measurable acquisition cost.")
        }
        recs.append(s.timeline.map { "Plan a phased launch before \($0): a private beta with design partners, then a public launch backed by early case studies." }
            ?? "Plan a phased launch: a private beta with design partners, then a public launch backed by early case studies.")
        if let region = s.region { recs.append("Localise messaging, pricing pages and channels for \(region).") }
        let recsFill = [
            "Set up a funnel dashboard (visitors, sign-ups, activation, paid conversion, churn) before the first campaign.",
            "Collect three customer stories during the beta to anchor launch messaging.",
            "Review channel performance every two weeks and move budget to what converts.",
        ]
        return (findings, findingsFill, risks, risksFill, recs, recsFill)
    }

    func generic(role: String) -> Lists {
        var findings: [String] = []
        let themes = s.themes
        findings.append(themes.isEmpty
            ? "From the \(role) perspective, the goal names no specific themes yet; the scope of the \(role) function must be defined."
            : "From the \(role) perspective, the goal touches \(AnalystText.list(themes)).")
        if let timeline = s.timeline { findings.append("The \(role) deliverables must fit the \(timeline) deadline.") }
        if protectedData { findings.append("Compliance requirements from \(s.frameworkText) may apply to the \(role) area.") }
        let findingsFill = [
            "The \(role) function depends on decisions by the COO, CFO, CTO and CMO; interfaces must be agreed early.",
            "Clear success criteria for the \(role) contribution to \(goalShort) are needed before work starts.",
            "Existing capabilities in the \(role) area should be inventoried before new investment.",
        ]

        var risks: [String] = []
        if let timeline = s.timeline { risks.append("\(role) work could become a bottleneck for the \(timeline) date.") }
        let risksFill = [
            "Unclear ownership of \(role) deliverables could leave gaps.",
            "The \(role) perspective may be missing from key decisions.",
        ]

        var recs: [String] = []
        if protectedData { recs.append("Review the \(role) implications of \(s.frameworkText).") }
        let recsFill = [
            "Define the \(role) deliverables for \(goalShort) with owners and dates.",
            "Agree priorities with the CEO and flag dependencies on other executives early.",
            "Report progress against measurable checkpoints every week.",
        ]
        return (findings, findingsFill, risks, risksFill, recs, recsFill)
    }
}
