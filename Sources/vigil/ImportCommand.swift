// `vigil import FILE…` — filled in by the ingest work (issue 4).
enum ImportCommand {
    static func run(_ args: Args) throws -> Int32 {
        throw CLIError(message: "vigil import is not available yet", exitCode: 2)
    }
}

// `vigil sources` — per-source counters from ingest (issue 4).
enum SourcesCommand {
    static func run(_ args: Args) throws -> Int32 {
        throw CLIError(message: "vigil sources is not available yet", exitCode: 2)
    }
}
