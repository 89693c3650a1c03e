import VigilRules

/// Foundation has a `Predicate` too; in this module the name means the rules predicate.
public typealias Predicate = VigilRules.Predicate
