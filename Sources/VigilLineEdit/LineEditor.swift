import CEdit
#if canImport(Glibc)
import Glibc
#endif

/// Line editing, history kept in a file across sessions, and tab completion, over libedit's
/// readline-compatible interface. The only module touching CEdit: callers see Swift strings.
///
/// libedit keeps one global editor per process, so the completion callback is process-wide
/// too; `LineEditor` is meant to exist once (the `vigil shell` loop) and be used from one thread.
public final class LineEditor {
    /// Given the text before the word being completed and that word, returns the candidates
    /// (full words, which replace the partial one) and whether a unique match ends the word
    /// (a space follows) — not so inside a quoted query or after a directory name.
    public typealias Completer = (_ before: String, _ word: String) -> (candidates: [String], endsWord: Bool)

    public let historyFile: String?
    /// false when stdin is not a terminal: lines are read plainly, without prompt or editing.
    public let interactive: Bool
    private var lastLine: String?

    public init(name: String, historyFile: String?, maxHistory: Int32 = 2000, completer: @escaping Completer) {
        self.historyFile = historyFile
        interactive = isatty(0) == 1
        LineEditorState.completer = completer
        guard interactive else { return }
        LineEditorState.name = strdup(name)
        rl_readline_name = UnsafePointer(LineEditorState.name)
        rl_attempted_completion_function = vigilAttemptCompletion
        // The caller decides what signals do; libedit's own handlers would re-raise Ctrl-C
        // into the caller's disposition and leave the editor waiting on a dead read.
        rl_catch_signals = 0
        stifle_history(maxHistory)
        if let h = historyFile { _ = read_history(h) }
    }

    /// The next line, or nil at end of input (Ctrl-D or end of a piped script).
    public func readLine(prompt: String) -> String? {
        fflush(nil)
        guard interactive else { return Swift.readLine(strippingNewline: true) }
        guard let p = readline(prompt) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Adds a line to the history and saves the history file at once, so a killed shell keeps it.
    /// Repeats of the previous line and blank lines are not recorded.
    public func remember(_ line: String) {
        guard interactive else { return }
        let trimmed = line.trimmingCharacters(in: " \t")
        guard !trimmed.isEmpty, trimmed != lastLine else { return }
        lastLine = trimmed
        _ = add_history(trimmed)
        if let h = historyFile { _ = write_history(h) }
    }
}

/// Process-wide state for libedit's C callbacks (they cannot capture context).
enum LineEditorState {
    nonisolated(unsafe) static var completer: LineEditor.Completer?
    nonisolated(unsafe) static var matches: [String] = []
    nonisolated(unsafe) static var next = 0
    nonisolated(unsafe) static var name: UnsafeMutablePointer<CChar>?
}

private func vigilAttemptCompletion(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    // No fallback to file-name completion when we have nothing to offer.
    rl_attempted_completion_over = 1
    guard let text else { return nil }
    var before = ""
    if let buf = rl_line_buffer {
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buf).assumingMemoryBound(to: UInt8.self), count: Int(max(0, start)))
        before = String(decoding: bytes, as: UTF8.self)
    }
    let word = String(cString: text)
    let (candidates, endsWord) = LineEditorState.completer?(before, word) ?? ([], true)
    LineEditorState.matches = candidates.filter { $0.hasPrefix(word) }
    rl_completion_append_character = endsWord && !(LineEditorState.matches.count == 1 && LineEditorState.matches[0].hasSuffix("/")) ? 32 : 0
    LineEditorState.next = 0
    return rl_completion_matches(text, vigilNextMatch)
}

private func vigilNextMatch(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
    if state == 0 { LineEditorState.next = 0 }
    guard LineEditorState.next < LineEditorState.matches.count else { return nil }
    defer { LineEditorState.next += 1 }
    return strdup(LineEditorState.matches[LineEditorState.next])
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
