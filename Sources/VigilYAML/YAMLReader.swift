import CYAML

/// Reads YAML text into documents over libyaml's event parser. The only code touching CYAML;
/// nothing above it sees a C pointer.
public enum YAMLReader {
    /// Every document of a stream (`---` separated); an empty stream gives none.
    public static func documents(_ text: String) throws -> [YAMLNode] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(code: "yaml.memory", message: "cannot initialise libyaml", mark: nil) }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buf -> [YAMLNode] in
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.take(&event)
            }
            return builder.documents
        }
    }

    private static func syntaxError(_ p: yaml_parser_t) -> YAMLError {
        let problem = p.problem.map { String(cString: $0) } ?? "syntax error"
        let context = p.context.map { String(cString: $0) + " " } ?? ""
        return YAMLError(code: "yaml.syntax", message: context + problem,
                         mark: YAMLMark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1))
    }

    private struct Frame {
        var isMap: Bool
        var mark: YAMLMark
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: (String, YAMLMark)?
        var anchor: String?
    }

    private struct Builder {
        var documents: [YAMLNode] = []
        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var root: YAMLNode?

        static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }

        mutating func take(_ e: inout yaml_event_t) throws {
            let mark = YAMLMark(line: Int(e.start_mark.line) + 1, column: Int(e.start_mark.column) + 1)
            switch e.type {
            case YAML_DOCUMENT_START_EVENT: root = nil; anchors = [:]
            case YAML_DOCUMENT_END_EVENT:
                documents.append(root ?? .scalar(YAMLScalar(text: "", tag: nil, style: .plain, mark: mark)))
            case YAML_SCALAR_EVENT:
                let s = e.data.scalar
                let text = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
                let style: YAMLScalar.Style
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: style = .literal
                case YAML_FOLDED_SCALAR_STYLE: style = .folded
                default: style = .plain
                }
                var tag = Self.string(s.tag)
                if tag == "!" { tag = nil }
                let node = YAMLNode.scalar(YAMLScalar(text: text, tag: tag, style: style, mark: mark))
                if let a = Self.string(s.anchor) { anchors[a] = node }
                try add(node, mark)
            case YAML_ALIAS_EVENT:
                let name = Self.string(e.data.alias.anchor) ?? ""
                guard let node = anchors[name] else { throw YAMLError(code: "yaml.alias", message: "alias *\(name) names no anchor defined before it", mark: mark) }
                try add(node, mark)
            case YAML_SEQUENCE_START_EVENT:
                stack.append(Frame(isMap: false, mark: mark, anchor: Self.string(e.data.sequence_start.anchor)))
            case YAML_MAPPING_START_EVENT:
                stack.append(Frame(isMap: true, mark: mark, anchor: Self.string(e.data.mapping_start.anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let f = stack.popLast() else { return }
                let node: YAMLNode = f.isMap ? .mapping(f.pairs, f.mark) : .sequence(f.items, f.mark)
                if let a = f.anchor { anchors[a] = node }
                try add(node, f.mark)
            default: break
            }
        }

        mutating func add(_ node: YAMLNode, _ mark: YAMLMark) throws {
            guard !stack.isEmpty else { root = node; return }
            let i = stack.count - 1
            if !stack[i].isMap { stack[i].items.append(node); return }
            if let (k, km) = stack[i].pendingKey {
                stack[i].pairs.append(YAMLPair(key: k, keyMark: km, value: node))
                stack[i].pendingKey = nil
                return
            }
            guard case .scalar(let s) = node else {
                throw YAMLError(code: "yaml.complex_key", message: "a map key must be a scalar, found \(node.kindName)", mark: mark)
            }
            if stack[i].pairs.contains(where: { $0.key == s.text }) {
                throw YAMLError(code: "yaml.duplicate_key", message: "key '\(s.text)' appears twice in one map", mark: mark)
            }
            stack[i].pendingKey = (s.text, mark)
        }
    }
}
