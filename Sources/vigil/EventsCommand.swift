// `vigil events …` — QQL search over enrichment's event store (issue 3).
enum EventsCommand {
    static func run(_ args: Args) throws -> Int32 {
        throw CLIError(message: "vigil events is not available yet", exitCode: 2)
    }
}
