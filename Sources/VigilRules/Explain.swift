/// The rule's detection in plain language, for the rule page and `vigil rules get`.
public enum Explain {
    public static func text(_ r: Rule) -> String {
        func same(_ g: [String]) -> String {
            g.isEmpty ? "" : " for the same " + list(g)
        }
        var s: String
        switch r.detection {
        case .match(let c, _):
            s = "Each event matching `\(c)`."
        case .threshold(let c, let n, let g, let w):
            s = "\(n) or more events matching `\(c)`\(same(g)) within \(Durations.words(w))."
        case .distinct(let c, let f, let n, let g, let w):
            s = "\(n) or more distinct \(f) values among events matching `\(c)`\(same(g)) within \(Durations.words(w))."
        case .sequence(let steps, let g, let w):
            let parts = steps.map { st in
                (st.count == 1 ? "an event" : "\(st.count) events") + " matching `\(st.condition)`"
            }
            s = "In this order\(same(g)) within \(Durations.words(w)): " + parts.joined(separator: ", then ") + "."
        case .temporal(let steps, let g, let w):
            s = "In any order\(same(g)) within \(Durations.words(w)): " + steps.map { "an event matching `\($0.condition)`" }.joined(separator: ", and ") + "."
        case .absence(let a, let b, let g, let w):
            s = "An event matching `\(a)` not followed by an event matching `\(b)`\(same(g)) within \(Durations.words(w))."
        }
        if !r.logSources.isEmpty { s += " Applies to \(list(r.logSources)) events." }
        if r.suppressionMs > 0 {
            let g = r.detection.groupBy
            s += " At most one signal \(g.isEmpty ? "" : "per " + list(g) + " ")every \(Durations.words(r.suppressionMs))."
        }
        return s
    }

    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }
}
