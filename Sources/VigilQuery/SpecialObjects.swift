/// Named lists from configuration (`@tor_exit_nodes`). Asked on every compile and
/// evaluation, so a list changed in config takes effect on the next one.
public protocol SpecialObjectProvider: Sendable {
    /// The members of the named list, or nil when no such list exists.
    func values(named name: String) -> [String]?
}

/// A fixed set of lists; handy for tests and tools.
public struct StaticSpecialObjects: SpecialObjectProvider {
    public var lists: [String: [String]]

    public init(_ lists: [String: [String]] = [:]) {
        self.lists = lists
    }

    public func values(named name: String) -> [String]? { lists[name] }
}

/// Everything a query needs at compile/evaluation time besides the catalog.
public struct QueryContext: Sendable {
    /// Milliseconds since the epoch that `now` means.
    public var nowMillis: Int64
    public var specialObjects: any SpecialObjectProvider

    public init(nowMillis: Int64, specialObjects: any SpecialObjectProvider = StaticSpecialObjects()) {
        self.nowMillis = nowMillis
        self.specialObjects = specialObjects
    }
}
