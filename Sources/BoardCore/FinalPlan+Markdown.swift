extension FinalPlan {
    /// The final plan as a Markdown document for people.
    public var markdown: String {
        var lines: [String] = []
        lines.append("# Final plan: \(Self.singleLine(goal))")
        lines.append("")
        lines.append("- Plan: `\(planID)`")
        lines.append("- Synthesized by: \(synthesizedBy)\(offline ? " (offline, no LLM)" : "") at \(createdAt)")
        lines.append("- Confidence: \(Self.percent(confidence)) (\(confidencePhrase))")
        lines.append("")
        lines.append("## Executive summary")
        lines.append("")
        lines.append(executiveSummary)
        Self.section("Strategy", strategy, numbered: true, into: &lines)
        if !contributors.isEmpty {
            lines.append("")
            lines.append("## Contributing agents")
            lines.append("")
            for contributor in contributors {
                let confidence = contributor.confidence.map { " — confidence \(Self.percent($0))" } ?? ""
                lines.append("- \(contributor.codename) (\(contributor.agent)), task `\(contributor.taskID)`\(confidence)")
            }
        }
        Self.section("Risks", risks, numbered: false, into: &lines)
        Self.section("Recommendations", recommendations, numbered: true, into: &lines)
        Self.section("References", references, numbered: true, into: &lines)
        lines.append("")
        return lines.joined(separator: "\n")
    }

    private static func section(_ title: String, _ items: [String], numbered: Bool, into lines: inout [String]) {
        guard !items.isEmpty else { return }
        lines.append("")
        lines.append("## \(title)")
        lines.append("")
        for (index, item) in items.enumerated() {
            lines.append(numbered ? "\(index + 1). \(item)" : "- \(item)")
        }
    }

    private static func percent(_ value: Double) -> String {
        "\(Int((value * 100).rounded()))%"
    }

    private static func singleLine(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
    }
}
